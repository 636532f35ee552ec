/* The retained `state` message: what is applied, every item's state, what
 * was refused and why, and the commit-confirm window (docs/mqtt.md). */
import { FieldProblem } from '../models/check';
import { SystemConfig } from '../models/system';
import { ItemState, Scheduler } from '../scheduler/scheduler';
import { AppliedConfig, SourceSummary } from './store';

export interface RejectionReport {
  source: string;
  version?: number;
  sha256: string;
  problems: FieldProblem[];
  at: string;
}

export interface ConfirmReport {
  state: 'waiting' | 'confirmed' | 'reverted';
  seconds: number;
  deadline?: string;
  at?: string;
  reason?: string;
  revertedTo?: number;
}

/* Present while the applied configuration is a console rollback rather than
 * the merge of the fleet's documents. */
export interface RollbackReport {
  toTransaction: number; /* the configuration after this transaction */
  transaction: number; /* the rollback's own */
  at: string;
}

export interface StateReport {
  seq: number;
  device: string;
  hostname: string | null; /* system/settings, as applied */
  time: string;
  version: number; /* the applied merged document's (the device layer's) */
  sources: SourceSummary[];
  appliedAt: string | null;
  transaction: number; /* the scheduler's last transaction */
  counts: Record<string, number>;
  items: Record<string, ItemState>;
  rejected?: RejectionReport;
  persistError?: string; /* the applied config could not be saved: a power cut would lose it */
  commitConfirm?: ConfirmReport;
  rollback?: RollbackReport;
  image: { agent: string; variant: string };
}

function hostnameOf(applied: AppliedConfig | null): string | null {
  return (applied?.document.items['system/settings'] as SystemConfig | undefined)?.hostname ?? null;
}

export function composeState(s: {
  seq: number;
  device: string;
  applied: AppliedConfig | null;
  appliedAt?: Date;
  scheduler: Scheduler;
  rejected?: RejectionReport;
  persistError?: string;
  confirm?: ConfirmReport;
  rollback?: RollbackReport;
  image: { agent: string; variant: string };
}): StateReport {
  const st = s.scheduler.state();
  const counts: Record<string, number> = {};
  for (const v of Object.values(st.items)) counts[v.state] = (counts[v.state] ?? 0) + 1;
  const history = s.scheduler.history();
  return {
    seq: s.seq,
    device: s.device,
    hostname: hostnameOf(s.applied),
    time: new Date().toISOString(),
    version: s.applied?.document.version ?? 0,
    sources: s.applied?.sources ?? [],
    appliedAt: s.appliedAt?.toISOString() ?? null,
    transaction: history.length ? history[history.length - 1]!.seq : 0,
    counts,
    items: st.items,
    ...(s.rejected ? { rejected: s.rejected } : {}),
    ...(s.persistError ? { persistError: s.persistError } : {}),
    ...(s.confirm ? { commitConfirm: s.confirm } : {}),
    ...(s.rollback ? { rollback: s.rollback } : {}),
    image: s.image,
  };
}
