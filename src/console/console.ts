/* The console: one command tree over the dataplane and the agent, run the
 * same way whichever front end (serial tty, `vecgate ctl`) the line came
 * from. A failed command is one line saying why, and the closest valid
 * command when there is one. */
import { VecgateError } from '../errors';
import { AGENT_COMMANDS, AGENT_GROUPS } from './commands/agent';
import { DATAPLANE_COMMANDS, DATAPLANE_GROUPS, nodeNames } from './commands/dataplane';
import { IPSEC_COMMANDS, IPSEC_GROUPS } from './commands/ipsec';
import { OTA_COMMANDS } from './commands/ota';
import { ConsoleContext } from './context';
import { ConsoleError } from './errors';
import { table } from './table';
import { ArgType, Candidate, CommandTree } from './tree';

export interface ConsoleResult {
  ok: boolean;
  text: string;
  data?: unknown;
  error?: string;
  hint?: string;
}

export interface Completion {
  partial: string;
  candidates: Candidate[];
}

export const PROMPT = 'vecgate# ';

/* What a front end prints for a result: the output, or the one-line error. */
export function resultText(r: ConsoleResult): string {
  if (r.ok) return r.text;
  return `error: ${r.error}${r.hint ? ` (did you mean: ${r.hint})` : ''}`;
}

/* `?` help as a two-column list. */
export function helpText(candidates: readonly Candidate[]): string {
  if (!candidates.length) return '  (nothing can follow here)';
  return table(['', ''], candidates.map((c) => [c.word, c.help]), { indent: 2, gap: 3 }).split('\n').slice(1).join('\n');
}

export class Console {
  readonly tree: CommandTree<ConsoleContext>;

  constructor(private readonly ctx: ConsoleContext) {
    this.tree = new CommandTree<ConsoleContext>({ ...DATAPLANE_GROUPS, ...IPSEC_GROUPS, ...AGENT_GROUPS });
    for (const c of [...DATAPLANE_COMMANDS, ...IPSEC_COMMANDS]) this.tree.add(c);
    if (ctx.agent || ctx.logs) for (const c of AGENT_COMMANDS) this.tree.add(c);
    if (ctx.ota) for (const c of OTA_COMMANDS) this.tree.add(c);
    this.tree.add({
      path: 'help',
      help: 'the commands there are',
      run: () => ({ text: table(['Command', 'What it does'], this.tree.all().map((c) => [c.path, c.help])) }),
    });
  }

  /* `progress`: lines a long command shows before it ends (ping replies). */
  async run(line: string, progress?: (line: string) => void): Promise<ConsoleResult> {
    if (!line.trim()) return { ok: true, text: '' };
    try {
      const { command, args } = this.tree.parse(line);
      const out = await command.run(progress ? { ...this.ctx, progress } : this.ctx, args);
      return { ok: true, text: out.text, data: out.data ?? out.text };
    } catch (e) {
      if (e instanceof ConsoleError) return { ok: false, text: '', error: e.message, ...(e.hint ? { hint: e.hint } : {}) };
      if (e instanceof VecgateError) return { ok: false, text: '', error: e.message };
      return { ok: false, text: '', error: `internal error: ${(e as Error)?.message ?? String(e)}` };
    }
  }

  complete(line: string): Completion {
    return this.tree.complete(line, (t) => this.values(t));
  }

  help(line: string): Candidate[] {
    return this.tree.help(line, (t) => this.values(t));
  }

  private values(type: ArgType): readonly string[] {
    try {
      const dp = this.ctx.dataplane();
      if (type === 'interface') return dp.interfaces().map((i) => i.name);
      if (type === 'node') return nodeNames(dp).filter((n) => n.endsWith('-input'));
    } catch {
      /* no dataplane now: nothing to offer */
    }
    return [];
  }
}

/* What Tab does with the candidates: the longest common extension of the
 * word, a space after a unique one; undefined when there is nothing to add
 * (the front end then lists them). */
export function extension(c: Completion): string | undefined {
  const words = c.candidates.filter((x) => x.insertable).map((x) => x.word);
  if (!words.length) return undefined;
  if (words.length === 1) return words[0]!.slice(c.partial.length) + ' ';
  let common = words[0]!;
  for (const w of words) while (!w.startsWith(common)) common = common.slice(0, -1);
  const add = common.slice(c.partial.length);
  return add.length ? add : undefined;
}
