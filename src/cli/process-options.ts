/* How the runtime's Node process is started on a box: the image's launcher
 * (images/launcher.sh, filled in by src/image/stage.ts) and the benchmark
 * that measures the runtime (src/bench/agent-routes.ts) both take these, so
 * what is measured is what runs. Both cut resident memory on a box whose
 * other cores belong to the dataplane:
 *   --v8-pool-size=1    one V8 background thread (concurrent GC, compiles)
 *                       instead of one per core; measured: 3 MB less RSS;
 *   MALLOC_ARENA_MAX=2  glibc's malloc keeps two arenas, not one per thread
 *                       that ever allocated. Both are read at exec only. */
export const NODE_FLAGS: readonly string[] = ['--v8-pool-size=1'];
export const PROCESS_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
