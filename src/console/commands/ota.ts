/* show ota: the slots, which one runs, and the update under way or last
 * done, as the box reports it on …/ota/state. */
import type { OtaStateReport } from '../../ota/client';
import { ConsoleContext } from '../context';
import { ConsoleError } from '../errors';
import { fields } from '../table';
import { CommandSpec } from '../tree';

function slotText(r: OtaStateReport, s: 'A' | 'B'): string {
  const v = r.slots[s];
  const running = r.running.slot === s ? ' (running)' : '';
  return v ? `${v.version}, security version ${v.securityVersion}${running}` : `no record (factory image, or being written)${running}`;
}

const showOta: CommandSpec<ConsoleContext> = {
  path: 'show ota',
  help: 'OTA: the slots, the one running, the update under way or last done',
  run(ctx) {
    const r = ctx.ota?.();
    if (!r) throw new ConsoleError('this board has no OTA slots', 'show ota');
    const pairs: [string, string | number][] = [
      ['running', `slot ${r.running.slot}${r.running.version ? ` (${r.running.version})` : ''}`],
      ['slot A', slotText(r, 'A')],
      ['slot B', slotText(r, 'B')],
      ['security floor', r.securityFloor],
      ['update', r.job ? `job ${r.job}: ${r.version ?? '?'} into slot ${r.slot}: ${r.phase}` : 'none'],
    ];
    if (r.progress) pairs.push(['progress', `${r.progress.percent}% (${r.progress.bytes} of ${r.progress.total} bytes)`]);
    if (r.waitingForWindow) pairs.push(['restart', `in the window ${r.waitingForWindow.cron} (${r.waitingForWindow.minutes} min), next ${r.waitingForWindow.next ?? '?'}`]);
    if (r.error) pairs.push(['error', `${r.error.code}: ${r.error.reason}`]);
    if (r.rejectedJob) pairs.push(['refused job', r.rejectedJob.reason]);
    return { text: fields(pairs), data: r };
  },
};

export const OTA_COMMANDS: readonly CommandSpec<ConsoleContext>[] = [showOta];
