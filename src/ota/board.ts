/* A board's OTA parts, resolved once for `vecgate run` and `vecgate ota`:
 * its slots (paths made absolute), its boot chooser and the state store. */
import * as path from 'node:path';

import type { Board } from '../board/schema';
import { PACKAGE_ROOT } from '../dataplane/paths';
import { VecgateError } from '../errors';
import { BootChooser, openBootChooser, Slot } from './boot-chooser';
import { OtaStore } from './store';

export interface BoardOta {
  slots: Record<Slot, string>;
  chooser: BootChooser;
  store: OtaStore;
  arch: string; /* the bundle's arch this box takes */
}

/* Relative slot and env paths are under the package root, as a board's stateDir is. */
export function boardOta(board: Board, stateDir: string): BoardOta | null {
  const o = board.ota;
  if (!o.slots) return null;
  const slots = { A: path.resolve(PACKAGE_ROOT, o.slots.A), B: path.resolve(PACKAGE_ROOT, o.slots.B) };
  return { slots, chooser: openBootChooser(o, { baseDir: PACKAGE_ROOT }), store: new OtaStore(stateDir), arch: bundleArch(board.arch) };
}

export function requireBoardOta(board: Board, stateDir: string): BoardOta {
  const ota = boardOta(board, stateDir);
  if (!ota) throw new VecgateError('OTA_NO_SLOTS', `board ${board.name} has no OTA slots (ota.slots is null)`);
  return ota;
}

/* Bundles name the architecture as the images do; the sim board ("any") takes this machine's. */
function bundleArch(arch: string): string {
  if (arch !== 'any') return arch;
  const { cpuFamily } = require('../dataplane/paths') as typeof import('../dataplane/paths');
  return cpuFamily();
}
