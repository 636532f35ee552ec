import * as assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { CLI, testDir, withoutVariantPin } from '../helpers';
import { KEY, Pty } from '../peers/pty';

/* The runtime as a field engineer meets it: `vecgate run` on the sim board
 * (its generator stream running) with its console on one end of a
 * pseudo-terminal pair, typed into from the other end, and `vecgate ctl`
 * on its socket. */
describe('console: serial tty and vecgate ctl', function () {
  this.timeout(60_000);
  let pty: Pty;
  let run: ChildProcess;
  let dir: string;
  let socket: string;
  let runLog = '';
  const PROMPT = 'vecgate# ';

  /* Asynchronous: the test must go on reading the tty while ctl runs. */
  const ctl = (args: string[], opts: { uid?: number; gid?: number } = {}) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, [CLI, 'ctl', '--socket', socket, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000, ...opts });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d) => (stdout += d));
      c.stderr.on('data', (d) => (stderr += d));
      c.on('close', (status) => resolve({ status, stdout, stderr }));
    });

  /* The line the cursor is on, as the screen shows it. */
  const current = () => pty.screen.current().line;
  const sawPrompt = () => current() === PROMPT.trimEnd();
  /* Types a line and Enter, and waits for the next prompt after its output. */
  const enter = async (line: string) => {
    const from = pty.raw.length;
    pty.type(line + KEY.enter);
    await pty.until(() => /\r\nvecgate# $/.test(pty.raw.slice(from)) && sawPrompt(), 15_000, `the prompt after '${line}'`);
  };

  before(async () => {
    withoutVariantPin();
    dir = testDir('console');
    socket = path.join(dir, 'run', 'cli.sock');
    pty = Pty.open();
    run = spawn(
      process.execPath,
      [CLI, 'run', '--board', 'sim', '--broker', 'mqtt://127.0.0.1:1', '--state-dir', path.join(dir, 'state'), '--no-telemetry', '--summary-interval', '3600', '--console-tty', pty.slavePath, '--cli-socket', socket],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VECGATE_LOG_LEVEL: 'info' } },
    );
    process.once('exit', () => run.kill('SIGKILL')); /* even when mocha is stopped before after() */
    run.stdout!.on('data', (d) => (runLog += d));
    run.stderr!.on('data', (d) => (runLog += d));
    await pty.until((s) => /type \? for help/.test(s.text()) && sawPrompt(), 20_000, 'the banner and prompt');
  });

  after(() => {
    run?.kill('SIGTERM');
    pty?.close();
  });

  it('sets the tty to 115200 8N1, raw', () => {
    const stty = execFileSync('stty', ['-F', pty.slavePath, '-a'], { encoding: 'utf8' });
    assert.match(stty, /speed 115200 baud/);
    for (const flag of ['cs8', '-parenb', '-cstopb', '-icanon', '-echo']) assert.match(stty, new RegExp(`(^|\\s)${flag}(\\s|;|$)`), flag);
  });

  it('completes with Tab, runs on Enter, and says what went wrong in one line', async () => {
    pty.type('sh' + KEY.tab);
    await pty.until(() => current() === 'vecgate# show', 5000, 'Tab to complete "show"');
    pty.type('ver' + KEY.tab);
    await pty.until(() => current() === 'vecgate# show version', 5000, 'Tab to complete "version"');
    await enter('');
    assert.match(pty.screen.text(), /vecgate: +\d+\.\d+\.\d+/);
    assert.match(pty.screen.text(), /dataplane: +x86_64-v\d \(api \d+\)/);
    assert.match(pty.screen.text(), /board: +sim/);

    await enter('show interfcae');
    /* One line (the screen wraps it at 80 columns), then the prompt. */
    assert.match(pty.raw, /\r\nerror: unknown command: 'show interfcae'[^\r\n]*\(did you mean: show interface \[<interface>\] \[address\]\)\r\nvecgate# $/);
  });

  it('? lists what may come next, with help, and keeps the line', async () => {
    pty.type('show ip ?');
    await pty.until(() => current() === 'vecgate# show ip', 5000, 'the line back after ?');
    const shown = pty.screen.lastLines(4).join('\n');
    assert.match(shown, /fib +the IPv4 forwarding table/);
    assert.match(shown, /neighbors +IPv4 neighbors \(ARP\)/);
    pty.type(KEY.ctrl('u'));
    await pty.until(() => sawPrompt(), 5000, 'Ctrl-U to empty the line');
  });

  it('recalls history with the arrow keys and edits the line (Home, End, Left, Ctrl-W, Ctrl-K)', async () => {
    pty.type(KEY.up);
    await pty.until(() => current() === 'vecgate# show interfcae', 5000, 'the last command on Up');
    pty.type(KEY.up);
    await pty.until(() => current() === 'vecgate# show version', 5000, 'the one before on Up');
    pty.type(KEY.down);
    await pty.until(() => current() === 'vecgate# show interfcae', 5000, 'forward again on Down');
    /* interfcae -> interface: Left to before the "e", rub out "ca", type "ac", End. */
    pty.type(KEY.left + KEY.backspace + KEY.backspace + 'ac' + KEY.end);
    await pty.until(() => current() === 'vecgate# show interface', 5000, 'the word mended in place');
    pty.type(' pg0 extra' + KEY.ctrl('w'));
    await pty.until(() => current() === 'vecgate# show interface pg0', 5000, 'Ctrl-W to drop the last word');
    pty.type(KEY.home + KEY.right.repeat(4) + KEY.ctrl('k'));
    await pty.until(() => current() === 'vecgate# show', 5000, 'Ctrl-K to cut to the end');
    pty.type(' interface pg0');
    await enter('');
    assert.match(pty.screen.text(), /pg0 +\d+ +up +\d+\/0\/0\/0 +rx packets +\d+/);
  });

  it('abandons a line on Ctrl-C without running it', async () => {
    const before = pty.screen.text();
    pty.type('clear interfaces' + KEY.ctrl('c'));
    await pty.until(() => sawPrompt() && pty.screen.text() !== before, 5000, 'a new prompt after Ctrl-C');
    assert.equal(pty.screen.lastLines(2)[0], 'vecgate# clear interfaces^C');
    /* Had it run, the counters would have restarted from zero. */
    const r = await ctl(['--json', 'show', 'interface', 'pg0']);
    assert.ok((JSON.parse(r.stdout).data[0].counters.rxPackets as number) > 0);
  });

  it('survives a 1 MB line and binary garbage on the tty, and answers after', async () => {
    await pty.send(Buffer.alloc(1 << 20, 'a'));
    const garbage = Buffer.alloc(256 * 1024);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + (i >> 8) * 31) & 0xff;
    await pty.send(garbage);
    pty.type(KEY.ctrl('c'));
    await enter('show version');
    assert.match(pty.screen.lastLines(20).join('\n'), /vecgate: +\d/);
    assert.equal(run.exitCode, null, `vecgate run exited: ${runLog.slice(-2000)}`);
  });

  it('ctl: one-shot, --json, and a bad command exits 1 with the closest command', async () => {
    let r = await ctl(['show', 'interface']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Name +Idx +State/);
    assert.match(r.stdout, /pg0/);
    r = await ctl(['--json', 'show', 'runtime']);
    assert.equal(r.status, 0, r.stderr);
    const nodes = JSON.parse(r.stdout).data as { name: string; calls: number; packets: number; clocksPerPacket: number }[];
    const pg = nodes.find((n) => n.name === 'pg-input');
    assert.ok(pg && pg.calls > 0 && pg.packets > 0 && pg.clocksPerPacket > 0, JSON.stringify(pg));
    r = await ctl(['show', 'runtime']);
    assert.match(r.stdout, /^Time [\d.]+, average vectors\/node [\d.]+\nName +Calls +Vectors +Clocks +Vectors\/Call/);
    assert.match(r.stdout, /\npg-input +\d+ +\d+ +[\d.]+ +[\d.]+/);
    r = await ctl(['show', 'bridge-domian']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /did you mean: show bridge-domain/);
  });

  it('trace add, then show trace follows one packet through the nodes', async () => {
    assert.equal((await ctl(['clear', 'trace'])).status, 0);
    let r = await ctl(['trace', 'add', 'pg-input', '1']);
    assert.equal(r.status, 0, r.stderr);
    let trace = '';
    for (let i = 0; i < 50 && !/ethernet-input/.test(trace); i++) {
      await new Promise((res) => setTimeout(res, 100));
      trace = (await ctl(['show', 'trace'])).stdout;
    }
    assert.match(trace, /pg-input/);
    assert.match(trace, /ethernet-input/);
    assert.equal((trace.match(/Packet \d+/gi) ?? []).length, 1, trace);
    r = await ctl(['trace', 'add', 'pg-inptu', '1']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no node 'pg-inptu'.*did you mean: trace add pg-input <count>/);
  });

  it('pcap trace writes a file tshark reads, with the packet count asked for', async () => {
    const file = path.join(dir, 'rx.pcap');
    let r = await ctl(['pcap', 'trace', 'rx', 'max', '7', 'file', file]);
    assert.equal(r.status, 0, r.stderr);
    for (let i = 0; i < 100; i++) {
      r = await ctl(['--json', 'pcap', 'trace', 'status']);
      if (JSON.parse(r.stdout).data.captured >= 7) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    r = await ctl(['pcap', 'trace', 'off']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Write 7 packets to ${file}`));
    const frames = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.len', '-e', 'ip.src'], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(frames.length, 7);
    for (const f of frames) assert.match(f, /^64\t10\.0\.0\.1$/);
    r = await ctl(['pcap', 'trace', 'off']);
    assert.equal(r.status, 1, 'off when nothing is captured is an error');
  });

  it('agent commands: show config, history, mqtt, log, system', async () => {
    let r = await ctl(['show', 'config']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^version: +0\napplied: +never\nsources: +none/);
    r = await ctl(['show', 'mqtt']);
    assert.match(r.stdout, /broker: +mqtt:\/\/127\.0\.0\.1:1\n/);
    assert.match(r.stdout, /state: +not connected/);
    r = await ctl(['show', 'log', '200']);
    assert.match(r.stdout, /\d\d:\d\d:\d\d\.\d{3} info +run: forwarding/);
    assert.match(r.stdout, /info +console: serial console ready tty=/);
    r = await ctl(['--json', 'show', 'config', 'history']);
    const history = JSON.parse(r.stdout).data as { seq: number; trigger: string; canRollBack: boolean }[];
    assert.deepEqual(history.map((t) => [t.seq, t.trigger, t.canRollBack]), [[1, 'boot', false]]);
    r = await ctl(['show', 'config', 'history']);
    assert.match(r.stdout, /^Txn +Started +Trigger +Version +Ms +Configured +Pending +Failed +Removed +Rollback\n +1 +\S+ +boot +0 /);
    r = await ctl(['config', 'rollback', '3']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /transaction 3/);
    r = await ctl(['--json', 'show', 'system']);
    const sys = JSON.parse(r.stdout).data as { memory: { totalBytes: number } };
    assert.ok(sys.memory.totalBytes > 0);
  });

  it('ctl interactive on a terminal: Tab, Enter, quit', async () => {
    const term = Pty.open();
    const fd = fs.openSync(term.slavePath, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    const child = spawn(process.execPath, [CLI, 'ctl', '--socket', socket], { stdio: [fd, fd, fd] });
    fs.closeSync(fd);
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    try {
      await term.until(() => term.screen.current().line === PROMPT.trimEnd(), 15_000, 'the ctl prompt');
      term.type('sh' + KEY.tab + 'bu' + KEY.tab);
      await term.until(() => term.screen.current().line === 'vecgate# show buffers', 5000, 'completion over the socket');
      term.type(KEY.enter);
      await term.until((s) => /Pool +Size +Data Size +Total +Avail/.test(s.text()) && s.current().line === PROMPT.trimEnd(), 10_000, 'show buffers output');
      term.type('sh ip ?');
      await term.until((s) => /neighbors +IPv4 neighbors/.test(s.text()) && s.current().line === 'vecgate# sh ip', 5000, '? help over the socket');
      term.type(KEY.ctrl('u') + 'quit' + KEY.enter);
      assert.equal(await exited, 0);
    } finally {
      child.kill();
      term.close();
    }
  });

  it('refuses a user who is not root', async () => {
    fs.chmodSync(path.dirname(socket), 0o755); /* the socket's own mode must be what refuses */
    assert.equal(fs.statSync(socket).mode & 0o777, 0o600);
    const r = await ctl(['show', 'version'], { uid: 65534, gid: 65534 });
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /permission denied \(the console is for root only\)/);
  });
});
