import * as assert from 'node:assert/strict';
import { Writable } from 'node:stream';

import { componentLogger, createLogger, formatLogLine, LogRing, logRing } from '../src/log';

/* A destination that keeps what it is given. */
function sink(): { lines: string[]; write(s: string): void } {
  const lines: string[] = [];
  return { lines, write: (s: string) => void lines.push(s) };
}

describe('log', () => {
  it('writes every line both to its destination and to the ring, parsed on the way out', () => {
    const ring = new LogRing(10);
    const out = sink();
    const log = componentLogger(createLogger({ level: 'info', pretty: false, ring, destination: out }), 'agent');
    log.info({ version: 3, txn: 5 }, 'configuration applied');
    log.debug('below the level: neither');
    log.warn('careful');
    assert.equal(out.lines.length, 2);
    assert.equal(JSON.parse(out.lines[0]!).msg, 'configuration applied');
    const [a, b] = ring.lines();
    assert.equal(ring.size, 2);
    assert.deepEqual({ ...a!, time: 0 }, { time: 0, level: 'info', component: 'agent', msg: 'configuration applied', fields: { version: 3, txn: 5 } });
    assert.ok(Math.abs(a!.time - Date.now()) < 5000, 'time is the line\'s, in ms');
    assert.deepEqual([b!.level, b!.msg, b!.fields], ['warn', 'careful', {}]);
  });

  it('keeps JSON in the ring while the terminal gets pretty lines', async () => {
    const ring = new LogRing(10);
    const out = { lines: [] as string[] };
    const terminal = new Writable({
      write(chunk: Buffer, _enc, done) {
        out.lines.push(chunk.toString());
        done();
      },
    });
    const log = componentLogger(createLogger({ level: 'info', pretty: true, ring, destination: terminal }), 'mqtt');
    log.info({ url: 'mqtt://x' }, 'connected to the broker');
    await new Promise((r) => setImmediate(r));
    assert.equal(out.lines.length, 1);
    assert.match(out.lines[0]!, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: mqtt: connected to the broker/);
    assert.deepEqual(ring.lines().map((l) => [l.component, l.msg, l.fields]), [['mqtt', 'connected to the broker', { url: 'mqtt://x' }]]);
  });

  it('keeps the last lines by count, oldest first', () => {
    const ring = new LogRing(5);
    const log = createLogger({ level: 'info', pretty: false, ring, destination: sink() });
    for (let i = 1; i <= 12; i++) log.info({ i }, `line ${i}`);
    assert.equal(ring.size, 5);
    assert.deepEqual(ring.lines().map((l) => l.msg), ['line 8', 'line 9', 'line 10', 'line 11', 'line 12']);
    assert.deepEqual(ring.lines(2).map((l) => l.fields.i), [11, 12]);
    assert.deepEqual(ring.lines(0), []);
    assert.equal(ring.lines(100).length, 5);
    ring.clear();
    assert.deepEqual([ring.size, ring.bytes, ring.lines()], [0, 0, []]);
    log.info('after clear');
    assert.deepEqual(ring.lines().map((l) => l.msg), ['after clear']);
  });

  it('bounds each line and all of them by size: a flood of huge lines does not grow it', () => {
    const ring = new LogRing(1000, { maxLineBytes: 512, maxBytes: 4096 });
    const log = createLogger({ level: 'info', pretty: false, ring, destination: sink() });
    const huge = 'x'.repeat(100_000);
    for (let i = 0; i < 200; i++) {
      log.warn({ n: i, blob: huge, key: 'routes/0/10.0.0.0/8' }, `document refused ${huge}`);
      assert.ok(ring.bytes <= 4096, `${ring.bytes} characters kept after ${i + 1} lines`);
    }
    assert.ok(ring.size >= 4096 / 512 && ring.size < 200, `${ring.size} lines kept`);
    const last = ring.lines(1)[0]!;
    assert.equal(last.level, 'warn');
    assert.ok(last.msg.startsWith('document refused xxx') && last.msg.length <= 512, 'the message is cut');
    assert.equal(last.fields.n, 199, 'the small fields stay');
    assert.equal(last.fields.key, 'routes/0/10.0.0.0/8');
    assert.equal(last.fields.blob, undefined);
    assert.equal(last.fields.truncated, 'blob', 'and it says which did not');
    /* A line with nothing to cut (one giant message of quotes) is still bounded. */
    log.info('"'.repeat(50_000));
    assert.ok(ring.bytes <= 4096);
    assert.match(ring.lines(1)[0]!.msg, /^"+\.\.\.$|not kept/);
  });

  it('formatLogLine: one readable line, time in UTC, fields as key=value', () => {
    const time = Date.UTC(2026, 0, 2, 12, 34, 56, 789);
    assert.equal(formatLogLine({ time, level: 'info', component: 'agent', msg: 'configuration applied', fields: { version: 3, txn: 5 } }), '12:34:56.789 info  agent: configuration applied version=3 txn=5');
    assert.equal(
      formatLogLine({ time, level: 'error', msg: 'refused', fields: { why: 'two words', sources: [{ source: 'device' }], err: { type: 'Error', message: 'boom', stack: 'Error: boom\n at x' } } }),
      '12:34:56.789 error refused why="two words" sources=[{"source":"device"}] err="boom"',
    );
  });

  it('loggers write to the process ring unless given another, or none', () => {
    const before = logRing().size;
    const msg = `to the process ring ${Math.random()}`;
    createLogger({ level: 'info', pretty: false, destination: sink() }).info(msg);
    assert.equal(logRing().lines(1)[0]!.msg, msg);
    assert.ok(logRing().size >= Math.min(before + 1, logRing().capacity));
    createLogger({ level: 'info', pretty: false, ring: null, destination: sink() }).info('kept nowhere');
    assert.equal(logRing().lines(1)[0]!.msg, msg);
  });
});
