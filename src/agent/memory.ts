/* The agent's memory budget. A large document (10,000 routes) leaves tens of
 * MB of garbage behind it in V8's old space, which V8 only collects when it
 * next needs room: long after, on an idle box. One full collection right
 * after such a transaction gives it back at once (measured: 9 MB of RSS
 * after a cold start with 10,000 routes) for ~20 ms, off the packet path. */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

/* The runtime's V8 heap, set before anything is allocated:
 * - the young generation held at its start size: V8 grows it up to 3 x 16 MB
 *   while a large document is decoded and applied, and keeps it; held, the
 *   agent with 10,000 routes stays ~30 MB smaller for a few more (cheap)
 *   scavenges;
 * - V8 tuned for size rather than speed (denser old-space pages, less
 *   eager optimisation): 4 MB less after a cold start with 10,000 routes,
 *   the apply still well inside its second (bench/README.md). */
export function applyHeapPolicy(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  v8.setFlagsFromString('--optimize-for-size');
}

/* Transactions with at least this many items are followed by a collection. */
export const COLLECT_AFTER_ITEMS = 1000;

let gc: ((options?: { type: string }) => void) | undefined;

/* Node gives scripts gc() only under --expose-gc; the flag set at run time
 * makes it available to a fresh context, and that function collects the
 * whole heap. */
export function collectGarbage(type: 'major' | 'minor' = 'major'): void {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as (o?: { type: string }) => void;
  }
  /* Without options, gc() collects all it can (V8's last-resort flavour);
   * { type: 'major' } frees far less. */
  if (type === 'minor') gc({ type });
  else gc();
}
