/* vecgate run under a systemd-like notify socket: a Python receiver (an
 * independent peer) checks READY=1 after forwarding, WATCHDOG=1 at half the
 * period, STOPPING=1 on SIGTERM, each sent by the main PID itself (what
 * NotifyAccess=main accepts). */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { CLI, testDir } from '../helpers';

const RECEIVER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print(json.dumps({"ready": True}), flush=True)
while True:
    msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = next((int.from_bytes(d[0:4], "little") for l, t, d in anc if t == socket.SCM_CREDENTIALS), None)
    print(json.dumps({"pid": pid, "msg": msg.decode()}), flush=True)
`;

const hasPython = spawnSync('python3', ['-c', 'import socket; socket.SO_PASSCRED'], { encoding: 'utf8' }).status === 0;

describe('systemd/notify: vecgate run feeds a notify socket', function () {
  this.timeout(60_000);
  before(function () {
    if (!hasPython) this.skip(); /* python3 is the independent receiver */
  });

  it('READY=1 once forwarding, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1, all from the main PID', async () => {
    const dir = testDir('notify');
    const sock = path.join(dir, 'notify.sock');
    const rx = spawn('python3', ['-c', RECEIVER, sock]);
    let got = '';
    rx.stdout.on('data', (d) => (got += d));
    const msgs = () => got.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { ready?: boolean; pid?: number; msg?: string });
    try {
      const wait = async (what: string, ok: () => boolean, ms = 20_000) => {
        const deadline = Date.now() + ms;
        while (!ok()) {
          if (Date.now() > deadline) assert.fail(`${what}; received: ${got}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await wait('receiver up', () => msgs().some((m) => m.ready));
      const env: NodeJS.ProcessEnv = { ...process.env, NOTIFY_SOCKET: sock, WATCHDOG_USEC: '400000' };
      delete env.VECGATE_VARIANT;
      const args = ['run', '--board', 'sim', '--state-dir', dir, '--embedded-port', '0', '--no-telemetry', '--cli-socket', 'none', '--log-level', 'warn'];
      const child = spawn(process.execPath, [CLI, ...args], { env });
      let out = '';
      child.stderr.on('data', (d) => (out += d));
      await wait('READY=1', () => msgs().some((m) => m.msg?.startsWith('READY=1')));
      const t0 = Date.now();
      await wait('three watchdog pings', () => msgs().filter((m) => m.msg === 'WATCHDOG=1').length >= 3, 5_000);
      assert.ok(Date.now() - t0 < 2_000, 'pinged about every 200 ms');
      child.kill('SIGTERM');
      assert.equal(await new Promise((r) => child.on('exit', r)), 0, out);
      await wait('STOPPING=1', () => msgs().some((m) => m.msg === 'STOPPING=1'), 2_000);
      const sent = msgs().filter((m) => m.msg);
      assert.match(sent[0]!.msg!, /^READY=1\nSTATUS=forwarding on sim \(\S+\)$/);
      assert.ok(sent.every((m) => m.pid === child.pid), `every datagram from the main PID ${child.pid}: ${got}`);
    } finally {
      rx.kill();
    }
  });

  it('without NOTIFY_SOCKET nothing is sent and nothing fails', () => {
    const { sdNotify } = require('../../src/systemd/notify') as typeof import('../../src/systemd/notify');
    const saved = process.env.NOTIFY_SOCKET;
    delete process.env.NOTIFY_SOCKET;
    try {
      assert.equal(sdNotify('READY=1'), false);
    } finally {
      if (saved !== undefined) process.env.NOTIFY_SOCKET = saved;
    }
  });
});
