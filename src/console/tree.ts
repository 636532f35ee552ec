/* The console's one command tree, shared by the serial console and `vecgate
 * ctl`. A command is its keywords (`show ip fib`), then positional
 * arguments, then keyword options in any order (`count 3 interval 200`).
 * Keywords may be shortened to any unique prefix, as vppctl users type
 * them (`sh int`). Parsing, Tab completion and `?` help all walk the same
 * tree, so what completes is what parses. */
import { ConsoleError } from './errors';
import { parseIp4 } from '../net/ip4';

export type ArgType = 'word' | 'uint' | 'ip4' | 'prefix' | 'interface' | 'node' | 'file';

export interface ArgSpec {
  name: string;
  type: ArgType;
  help: string;
  optional?: boolean;
  min?: number;
  max?: number;
  choices?: readonly string[]; /* a word from this list only */
}

/* A keyword in any order after the positional arguments; with `value`, it takes one. */
export interface OptionSpec {
  name: string;
  help: string;
  value?: ArgSpec;
}

export type ArgValue = string | number | boolean;
export type Args = Record<string, ArgValue | undefined>;

export interface CommandOutput {
  text: string;
  data?: unknown; /* what `--json` prints; text when absent */
}

export interface CommandSpec<C> {
  path: string;
  help: string;
  args?: ArgSpec[];
  options?: OptionSpec[];
  run(ctx: C, args: Args): CommandOutput | Promise<CommandOutput>;
}

/* Values a completion can offer for the dynamic argument types. */
export type ValueSource = (type: ArgType) => readonly string[];

export interface Candidate {
  word: string; /* what Tab inserts; `<name>` for a value it cannot list */
  help: string;
  insertable: boolean;
}

interface TreeNode<C> {
  word: string;
  help: string;
  children: Map<string, TreeNode<C>>;
  command?: CommandSpec<C>;
}

export interface Parsed<C> {
  command: CommandSpec<C>;
  args: Args;
}

const MAX_TOKENS = 64;

/* Words split on blanks; "double quotes" keep blanks in one word (file names). */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"?|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push(m[1] ?? m[2]!);
  return out;
}

export function usage(spec: CommandSpec<unknown>): string {
  const parts = [spec.path];
  for (const a of spec.args ?? []) parts.push(a.optional ? `[<${a.name}>]` : `<${a.name}>`);
  for (const o of spec.options ?? []) parts.push(o.value ? `[${o.name} <${o.value.name}>]` : `[${o.name}]`);
  return parts.join(' ');
}

export class CommandTree<C> {
  private readonly root: TreeNode<C> = { word: '', help: '', children: new Map() };
  private readonly commands: CommandSpec<C>[] = [];

  /* `groups`: help for intermediate keywords (`show ip` → "IPv4 tables"). */
  constructor(private readonly groups: Readonly<Record<string, string>> = {}) {}

  add(spec: CommandSpec<C>): this {
    let node = this.root;
    const words = spec.path.split(' ');
    words.forEach((w, i) => {
      let next = node.children.get(w);
      if (!next) {
        const prefix = words.slice(0, i + 1).join(' ');
        next = { word: w, help: this.groups[prefix] ?? '', children: new Map() };
        node.children.set(w, next);
      }
      node = next;
    });
    if (node.command) throw new Error(`command ${spec.path} registered twice`);
    node.command = spec;
    if (!node.help) node.help = spec.help;
    this.commands.push(spec);
    return this;
  }

  all(): readonly CommandSpec<C>[] {
    return this.commands;
  }

  parse(line: string): Parsed<C> {
    const tokens = tokenize(line);
    if (tokens.length > MAX_TOKENS) throw new ConsoleError(`too many words (${tokens.length}, at most ${MAX_TOKENS})`);
    const { node, used } = this.walk(tokens, line);
    const command = node.command;
    if (!command) {
      const next = [...node.children.keys()].sort().join(', ');
      throw new ConsoleError(`incomplete command: '${tokens.join(' ')}' goes on with one of: ${next}`, this.closest(tokens));
    }
    return { command, args: parseArgs(command, tokens.slice(used)) };
  }

  /* Candidates for the word being typed at the end of `line`. */
  complete(line: string, values: ValueSource): { partial: string; candidates: Candidate[] } {
    const tokens = tokenize(line);
    const partial = /\s$/.test(line) || !line.length ? '' : (tokens.pop() ?? '');
    const all = this.nextWords(tokens, values);
    return { partial, candidates: all.filter((c) => (c.insertable ? c.word.startsWith(partial) : !partial)) };
  }

  /* What may come next after `line` (its last word complete or not), for `?`. */
  help(line: string, values: ValueSource): Candidate[] {
    const { partial, candidates } = this.complete(line, values);
    if (partial) {
      const words = candidates.filter((c) => c.insertable);
      /* A word typed whole (or no keyword fits): what may follow it. */
      if (!words.length || (words.length === 1 && words[0]!.word === partial)) return this.nextWords(tokenize(line), values);
      return words;
    }
    return candidates;
  }

  /* The registered command closest to what was typed, for "did you mean". */
  closest(tokens: string[]): string | undefined {
    if (!tokens.length) return undefined;
    let best: { path: string; d: number } | undefined;
    for (const c of this.commands) {
      const n = c.path.split(' ').length;
      const typed = tokens.slice(0, n).join(' ');
      const d = distance(typed, c.path);
      if (!best || d < best.d) best = { path: c.path, d };
    }
    return best && best.d <= Math.max(3, Math.floor(best.path.length / 2)) ? usage(this.commands.find((c) => c.path === best!.path) as CommandSpec<unknown>) : undefined;
  }

  private walk(tokens: string[], line: string): { node: TreeNode<C>; used: number } {
    let node = this.root;
    let used = 0;
    for (const t of tokens) {
      if (!node.children.size) break;
      const exact = node.children.get(t);
      const matches = exact ? [exact] : [...node.children.values()].filter((c) => c.word.startsWith(t));
      if (matches.length === 1) {
        node = matches[0]!;
        used++;
        continue;
      }
      if (node.command) break; /* the rest are its arguments */
      if (matches.length > 1) {
        throw new ConsoleError(`ambiguous '${t}': ${matches.map((m) => m.word).sort().join(', ')}`);
      }
      const where = tokens.slice(0, used).join(' ');
      throw new ConsoleError(`unknown command: '${line.trim().slice(0, 80)}'${where ? ` ('${where}' has no '${t.slice(0, 40)}')` : ''}`, this.closest(tokens));
    }
    return { node, used };
  }

  private nextWords(tokens: string[], values: ValueSource): Candidate[] {
    let walked: { node: TreeNode<C>; used: number };
    try {
      walked = this.walk(tokens, tokens.join(' '));
    } catch {
      return [];
    }
    const { node, used } = walked;
    const out: Candidate[] = [...node.children.values()]
      .sort((a, b) => a.word.localeCompare(b.word))
      .map((c) => ({ word: c.word, help: c.help || c.command?.help || '', insertable: true }));
    if (node.command) out.push(...argCandidates(node.command, tokens.slice(used), values));
    return out;
  }
}

/* Positional arguments and options may come in any order. A word is an
 * option when it names one (or starts only one's name), unless a required
 * argument is due and the word names no option whole. */
function optionAt(options: readonly OptionSpec[], due: ArgSpec | undefined, seen: Set<string>, t: string): OptionSpec | undefined {
  const o = matchOption(options, t);
  if (!o || seen.has(o.name)) return undefined;
  if (due && !due.optional && o.name !== t) return undefined;
  return o;
}

/* Where the arguments stand after `rest`: what may be typed next. */
function argCandidates(spec: CommandSpec<unknown>, rest: string[], values: ValueSource): Candidate[] {
  const args = spec.args ?? [];
  const options = spec.options ?? [];
  let position = 0;
  const seen = new Set<string>();
  for (let i = 0; i < rest.length; i++) {
    const t = rest[i]!;
    const option = optionAt(options, args[position], seen, t);
    if (option) {
      seen.add(option.name);
      if (option.value) {
        if (i + 1 >= rest.length) return valueCandidates(option.value, values);
        i++;
      }
    } else if (position < args.length) position++;
    else return []; /* not valid here: nothing to offer */
  }
  const out: Candidate[] = [];
  const next = args[position];
  if (next) out.push(...valueCandidates(next, values));
  if (!next || next.optional) {
    for (const o of options) if (!seen.has(o.name)) out.push({ word: o.name, help: o.help, insertable: true });
    if (!args.slice(position).some((a) => !a.optional)) out.push({ word: '<cr>', help: 'run it', insertable: false });
  }
  return out;
}

function valueCandidates(a: ArgSpec, values: ValueSource): Candidate[] {
  const listed = a.choices ?? (a.type === 'interface' || a.type === 'node' ? values(a.type) : []);
  if (listed.length) return listed.map((w) => ({ word: w, help: a.help, insertable: true }));
  return [{ word: `<${a.name}>`, help: a.help + rangeText(a), insertable: false }];
}

const rangeText = (a: ArgSpec) => (a.type === 'uint' && a.max !== undefined ? ` (${a.min ?? 0}..${a.max})` : '');

function matchOption(options: readonly OptionSpec[], t: string): OptionSpec | undefined {
  const exact = options.find((o) => o.name === t);
  if (exact) return exact;
  const m = options.filter((o) => o.name.startsWith(t));
  return m.length === 1 ? m[0] : undefined;
}

function parseArgs(spec: CommandSpec<unknown>, rest: string[]): Args {
  const args: Args = {};
  const positional = spec.args ?? [];
  const options = spec.options ?? [];
  const seen = new Set<string>();
  let position = 0;
  for (let i = 0; i < rest.length; i++) {
    const t = rest[i]!;
    const named = matchOption(options, t);
    const o = optionAt(options, positional[position], seen, t);
    if (o) {
      seen.add(o.name);
      if (!o.value) {
        args[o.name] = true;
        continue;
      }
      const v = rest[++i];
      if (v === undefined) throw new ConsoleError(`'${o.name}' needs <${o.value.name}> (${o.value.help})`, usage(spec));
      args[o.name] = convert(o.value, v, spec);
    } else if (named && seen.has(named.name)) {
      throw new ConsoleError(`'${named.name}' given twice`, usage(spec));
    } else if (position < positional.length) {
      const a = positional[position++]!;
      args[a.name] = convert(a, t, spec);
    } else {
      throw new ConsoleError(`unexpected '${t.slice(0, 40)}' after '${spec.path}'`, usage(spec));
    }
  }
  const missing = positional.slice(position).find((a) => !a.optional);
  if (missing) throw new ConsoleError(`missing <${missing.name}> (${missing.help})`, usage(spec));
  return args;
}

function convert(a: ArgSpec, t: string, spec: CommandSpec<unknown>): ArgValue {
  const bad = (why: string): never => {
    throw new ConsoleError(`<${a.name}> '${t.slice(0, 40)}' ${why}`, usage(spec));
  };
  if (a.choices && !a.choices.includes(t)) bad(`is not one of: ${a.choices.join(', ')}`);
  switch (a.type) {
    case 'uint': {
      if (!/^\d{1,10}$/.test(t)) bad('is not a whole number');
      const n = Number(t);
      if ((a.min !== undefined && n < a.min) || (a.max !== undefined && n > a.max)) bad(`is out of range ${a.min ?? 0}..${a.max}`);
      return n;
    }
    case 'ip4':
      if (parseIp4(t) === undefined) bad('is not an IPv4 address (a.b.c.d)');
      return t;
    case 'prefix': {
      /* An address alone stands for the route that covers it. */
      const m = /^([^/]+)(?:\/(\d{1,2}))?$/.exec(t);
      if (!m || parseIp4(m[1]!) === undefined || Number(m[2] ?? 32) > 32) bad('is not an IPv4 address or prefix (a.b.c.d[/len])');
      return t;
    }
    default:
      return t;
  }
}

/* Levenshtein distance, for "did you mean". Bounded inputs: console lines. */
export function distance(a: string, b: string): number {
  a = a.slice(0, 128);
  b = b.slice(0, 128);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
