/* Aligned tables as vppctl prints them: a header row, columns padded to
 * their widest cell, numbers right-aligned. */
export type Cell = string | number | bigint | null | undefined;

export function table(header: string[], rows: Cell[][], opts: { indent?: number; gap?: number } = {}): string {
  const text = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))));
  const isNumber = (c: Cell) => c === undefined || c === null || c === '' || typeof c === 'number' || typeof c === 'bigint' || /^-?\d+(\.\d+)?$/.test(c);
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => isNumber(r[i])));
  const widths = header.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const gap = ' '.repeat(opts.gap ?? 2);
  const pad = ' '.repeat(opts.indent ?? 0);
  const line = (cells: string[], isHeader: boolean) =>
    pad +
    cells
      .map((c, i) => (numeric[i] && !isHeader ? c.padStart(widths[i]!) : i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join(gap)
      .trimEnd();
  return [line(header, false), ...text.map((r) => line(r, false))].join('\n');
}

/* Key: value lines, keys padded. */
export function fields(pairs: [string, Cell][], indent = 0): string {
  const w = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${' '.repeat(indent)}${(k + ':').padEnd(w + 1)} ${v ?? ''}`).join('\n');
}

/* 1234567 -> "1.23e6" style is VPP's; we keep plain numbers with 2 decimals for ratios. */
export const fixed = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
