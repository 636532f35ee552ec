/* The image's launcher puts the image's lib/ on LD_LIBRARY_PATH so the
 * dataplane finds its libcrypto; the dynamic linker reads it once, at exec.
 * Commands the agent starts (systeminformation's, later OTA's) must get the
 * box's own libraries, so the launcher also passes what LD_LIBRARY_PATH was
 * ("set:<value>", or "" when unset) and we put that back first thing. */
export const OUTER = 'VECGATE_OUTER_LD_LIBRARY_PATH';

export function restoreLauncherEnv(env: NodeJS.ProcessEnv = process.env): void {
  const outer = env[OUTER];
  if (outer === undefined) return;
  if (outer.startsWith('set:')) env.LD_LIBRARY_PATH = outer.slice(4);
  else delete env.LD_LIBRARY_PATH;
  delete env[OUTER];
}
