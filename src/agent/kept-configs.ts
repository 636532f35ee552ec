/* The applied configuration after each recent transaction, for `config
 * rollback`. Kept by reference, not copied: a kept configuration's values
 * are the validated ones that were applied, so keeping one costs only what
 * nothing else holds any more. Bounded by distinct configurations and by
 * their items in all; the applied one always stays. */
import { AppliedConfig } from './store';

export interface KeptLimit {
  documents: number;
  items: number;
}

/* A box with 10,000 routes keeps the applied table and the one before it
 * (measured: 1.5 MB of heap for each earlier one), not sixteen of them. */
export const ROLLBACK_KEPT: Readonly<KeptLimit> = { documents: 16, items: 20_480 };

interface Kept {
  config: AppliedConfig;
  items: number;
}

export class KeptConfigs {
  /* By transaction seq, oldest first; null where no configuration was applied. */
  private readonly bySeq = new Map<number, Kept | null>();

  constructor(readonly limit: Readonly<KeptLimit> = ROLLBACK_KEPT) {}

  /* `applied` is the configuration after transaction `seq`; transactions
   * before `oldest` (out of the scheduler's history) are forgotten. */
  keep(seq: number, applied: AppliedConfig | null, oldest: number): void {
    const same = applied && [...this.bySeq.values()].find((k) => k?.config === applied);
    this.bySeq.set(seq, applied ? (same ?? { config: applied, items: Object.keys(applied.document.items).length }) : null);
    for (const s of this.bySeq.keys()) if (s < oldest) this.bySeq.delete(s);
    while (this.overLimit()) {
      const older = [...this.bySeq].find(([, k]) => k && k.config !== applied);
      if (!older) return;
      this.bySeq.delete(older[0]);
    }
  }

  /* The configuration after `seq`; null: none was applied then; undefined: not kept. */
  get(seq: number): AppliedConfig | null | undefined {
    const k = this.bySeq.get(seq);
    return k === undefined ? undefined : (k?.config ?? null);
  }

  private overLimit(): boolean {
    const docs = new Map<AppliedConfig, number>();
    for (const k of this.bySeq.values()) if (k) docs.set(k.config, k.items);
    let items = 0;
    for (const n of docs.values()) items += n;
    return docs.size > this.limit.documents || (items > this.limit.items && docs.size > 1);
  }
}
