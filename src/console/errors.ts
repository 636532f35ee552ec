/* A console command that cannot run: one line for the person at the
 * console, and the closest valid command when there is one. */
import { VecgateError } from '../errors';

export class ConsoleError extends VecgateError {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super('CONSOLE', message);
  }
}
