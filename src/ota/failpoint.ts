/* Power-loss points for the OTA tests: VECGATE_OTA_FAILPOINT=<name>[:<n>]
 * makes the process SIGKILL itself the n-th time (default 1st) it passes
 * <name>, the way a power cut would stop it there (a kill keeps the page
 * cache, a power cut may not: the installer fsyncs before every journal
 * step for that). Unset, a failpoint costs one string comparison. */
const spec = process.env.VECGATE_OTA_FAILPOINT ?? '';
const [name, nth] = spec.split(':');
let hits = 0;

export function failpoint(at: string): void {
  if (!spec || at !== name) return;
  if (++hits < Number(nth ?? 1)) return;
  process.kill(process.pid, 'SIGKILL');
}
