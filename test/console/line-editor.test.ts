import * as assert from 'node:assert/strict';

import { Completion } from '../../src/console/console';
import { LineEditor } from '../../src/console/line-editor';
import { KEY, Screen } from '../peers/pty';

/* The editor alone, its output drawn on a terminal model. */
function editor(opts: { columns?: number; slow?: boolean } = {}) {
  const screen = new Screen(opts.columns ?? 80);
  const submitted: string[] = [];
  let release: (() => void) | undefined;
  const e = new LineEditor(
    (s) => screen.feed(s),
    {
      submit: async (line) => {
        submitted.push(line);
        if (opts.slow) await new Promise<void>((r) => (release = r));
        e.print(`ran ${line}`);
      },
      complete: (line): Completion => ({ partial: line.split(' ').pop() ?? '', candidates: ['alpha', 'alpine'].filter((w) => w.startsWith(line.split(' ').pop() ?? '')).map((w) => ({ word: w, help: w, insertable: true })) }),
      help: () => [{ word: 'alpha', help: 'the first', insertable: true }],
    },
    { prompt: '> ', columns: opts.columns, maxLine: 100, maxQueued: 1000 },
  );
  e.start();
  const type = (s: string) => e.feed(Buffer.from(s, 'latin1'));
  return { e, screen, submitted, type, release: () => release?.() };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('console line editor', () => {
  it('decodes keys split across chunks, CR LF as one Enter', async () => {
    const t = editor();
    for (const ch of 'show\x1b[Dx\x1b') t.type(ch);
    t.type('[C!\r\n');
    await tick();
    assert.deepEqual(t.submitted, ['shoxw!']);
  });

  it('redraws a line longer than the terminal across rows, the cursor where it belongs', async () => {
    const t = editor({ columns: 20 });
    t.type('0123456789'.repeat(3));
    assert.equal(t.screen.text(), '> 012345678901234567\n890123456789');
    t.type(KEY.home + 'X');
    assert.equal(t.screen.text(), '> X01234567890123456\n7890123456789');
    assert.deepEqual([t.screen.row, t.screen.col], [0, 3]);
    t.type(KEY.end);
    assert.deepEqual([t.screen.row, t.screen.col], [1, 13]);
  });

  it('keeps the cursor right when a line ends on the last column, typed in pieces', () => {
    const t = editor({ columns: 20 });
    for (const ch of '012345678901234567') t.type(ch); /* prompt + 18 = 20 columns */
    assert.deepEqual([t.screen.row, t.screen.col], [1, 0]);
    t.type('Z' + KEY.left + KEY.left + 'Y');
    assert.equal(t.screen.text(), '> 01234567890123456Y\n7Z');
    assert.deepEqual([t.screen.row, t.screen.col], [1, 0]);
  });

  it('typing at the end writes what was typed, not the line again', () => {
    const out: string[] = [];
    const e = new LineEditor((s) => out.push(s), { submit: async () => undefined, complete: () => ({ partial: '', candidates: [] }), help: () => [] }, { prompt: '> ', maxLine: 4096 });
    e.start();
    for (let i = 0; i < 64; i++) e.feed(Buffer.alloc(64, 'q'));
    assert.ok(out.join('').length < 64 * 64 + 200, `${out.join('').length} bytes written for 4096 typed`);
  });

  it('stops a line at its limit with a bell, and drops what is queued past its bound', async () => {
    const t = editor({ slow: true });
    t.type('y'.repeat(150));
    assert.equal(t.screen.text(), '> ' + 'y'.repeat(78) + '\n' + 'y'.repeat(22));
    assert.ok(t.screen.bells >= 1);
    t.type(KEY.ctrl('u') + 'run\r');
    await tick();
    t.type('z'.repeat(5000)); /* while "run" runs: only 1000 keys are held */
    assert.ok(t.e.dropped >= 4000);
    t.release();
    await tick();
    await tick();
    assert.deepEqual(t.submitted, ['run']);
    assert.match(t.screen.text(), /ran run\n> z+/);
  });

  it('Tab adds the common part, then lists; ? lists and keeps the line', async () => {
    const t = editor();
    t.type('al\t');
    await tick();
    assert.equal(t.screen.current().line, '> alp');
    t.type('\t');
    await tick();
    assert.match(t.screen.text(), /alpha +alpha\n +alpine +alpine\n> alp$/);
    t.type('?');
    await tick();
    assert.match(t.screen.text(), /> alp\?\n +alpha +the first\n> alp$/);
  });
});
