/* Finds and loads a board file: a bare name means board/<name>.json of this
 * package; anything with a slash or a .json suffix is a path. */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { SpecError, VecgateError } from '../errors';
import { PACKAGE_ROOT } from '../dataplane/paths';
import { Board, validateBoard } from './schema';

export function boardPath(nameOrPath: string): string {
  if (nameOrPath.includes('/') || nameOrPath.endsWith('.json')) return path.resolve(nameOrPath);
  return path.join(PACKAGE_ROOT, 'board', `${nameOrPath}.json`);
}

/* The board's state directory, or the command line's: relative paths are
 * under the package (a board's) or the working directory (an option's). */
export function stateDirOf(board: Board, override?: string): string {
  const dir = override ?? board.agent.stateDir;
  return path.isAbsolute(dir) ? dir : path.join(override ? process.cwd() : PACKAGE_ROOT, dir);
}

/* The boards this package ships. */
export function boardNames(): string[] {
  const dir = path.join(PACKAGE_ROOT, 'board');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort() : [];
}

export function loadBoard(nameOrPath: string): Board {
  const file = boardPath(nameOrPath);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (!nameOrPath.includes('/') && !nameOrPath.endsWith('.json')) {
      throw new VecgateError('BOARD_NOT_FOUND', `unknown board ${nameOrPath} (boards: ${boardNames().join(', ')}; or give a path to a board file)`);
    }
    throw new VecgateError('BOARD_NOT_FOUND', `board ${nameOrPath}: cannot read ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new VecgateError('BOARD_INVALID', `board ${file}: not JSON: ${(e as Error).message}`);
  }
  try {
    return validateBoard(json);
  } catch (e) {
    if (e instanceof SpecError) throw new SpecError(e.field, `${e.reason} (in ${file})`, e.code);
    throw e;
  }
}
