/* system/settings: box-wide settings. Minimal for now: the hostname the
 * console and state reports show. */
import { fail, object, str } from './check';

export interface SystemConfig {
  hostname?: string;
}

export function validateSystemName(parts: string[], path: string): void {
  if (parts.length !== 1 || parts[0] !== 'settings') fail(path, 'the only system key is system/settings');
}

export function validateSystem(v: unknown, path: string): SystemConfig {
  const o = object(v, path, ['hostname']);
  const hostname = str(o.hostname, `${path}.hostname`);
  if (hostname !== undefined && !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(hostname))
    fail(`${path}.hostname`, 'not a hostname (letters, digits, -; at most 63)');
  return hostname === undefined ? {} : { hostname };
}
