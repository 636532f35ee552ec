/* The shipped board files and the platform sections of the schema. */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { loadBoard } from '../../src/board/load';
import { BOARD_SECTIONS, dataplaneCreateOptions, validateBoard } from '../../src/board/schema';
import { PACKAGE_ROOT } from '../../src/dataplane/paths';
import { SpecError } from '../../src/errors';
import { CLI, testDir } from '../helpers';

const BOARD_DIR = path.join(PACKAGE_ROOT, 'board');
const raw = (name: string) => JSON.parse(fs.readFileSync(path.join(BOARD_DIR, `${name}.json`), 'utf8'));

function badField(board: unknown, field: string, reason?: RegExp) {
  assert.throws(
    () => validateBoard(board),
    (e: unknown) => {
      assert.ok(e instanceof SpecError, String(e));
      assert.equal(e.code, 'BOARD_INVALID');
      assert.equal(e.field, field, e.message);
      assert.ok(e.message.startsWith(`${field}: `), e.message);
      if (reason) assert.match(e.reason, reason);
      return true;
    },
  );
}

describe('board files', () => {
  const expected: Record<string, { arch: string; variant: string; tty: string | null; chooser: string }> = {
    sim: { arch: 'any', variant: 'auto', tty: null, chooser: 'file' },
    'x86-64-generic': { arch: 'x86_64', variant: 'auto', tty: '/dev/ttyS0', chooser: 'grub-env' },
    rpi4: { arch: 'arm64', variant: 'arm64-v8a', tty: '/dev/ttyS0', chooser: 'uboot-env' },
    'arm64-neoverse': { arch: 'arm64', variant: 'arm64-v8.2-crypto', tty: '/dev/ttyAMA0', chooser: 'grub-env' },
    'ppc64le-power9': { arch: 'ppc64le', variant: 'ppc64le-power9', tty: '/dev/hvc0', chooser: 'grub-env' },
  };

  it('are exactly the documented boards, and each states every section', () => {
    const files = fs.readdirSync(BOARD_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
    assert.deepEqual(files, Object.keys(expected).sort());
    const doc = fs.readFileSync(path.join(BOARD_DIR, 'README.md'), 'utf8');
    for (const name of files) {
      assert.deepEqual(Object.keys(raw(name)), BOARD_SECTIONS, `${name}.json: every section, in the documented order`);
      assert.ok(doc.includes(`\`${name}\``), `board/README.md describes ${name}`);
    }
    for (const section of BOARD_SECTIONS) assert.ok(doc.includes(`\`${section}\``), `board/README.md documents ${section}`);
  });

  for (const [name, want] of Object.entries(expected)) {
    it(`${name}: ${want.arch}, variant ${want.variant}, console ${want.tty ?? 'none'}, ${want.chooser}`, () => {
      const b = loadBoard(name);
      assert.equal(b.name, name);
      assert.equal(b.arch, want.arch);
      assert.equal(b.dataplane.variant, want.variant);
      assert.equal(b.console.tty, want.tty);
      assert.equal(b.ota.bootChooser, want.chooser);
      if (name === 'sim') return;
      assert.equal(b.console.baud, 115200);
      assert.ok(b.ports.length >= 2 && b.ports.every((p) => p.type === 'af_packet' || p.type === 'tap'), 'real NICs only');
      assert.ok(b.management.length >= 1, 'a NIC stays for management');
      assert.ok(b.dataplane.workers.length >= 1 && b.cpu.cores !== null, 'worker cores on a known core count');
      assert.ok(b.ota.slots && b.ota.env, 'OTA slots and the chooser state');
      assert.ok(b.memory.budgetMiB !== null);
      assert.equal(b.agent.allowUnsigned, false, 'a real box takes signed documents only');
    });
  }

  it('rpi4 keeps eth0 and the USB NIC for the dataplane, Wi-Fi for management', () => {
    const b = loadBoard('rpi4');
    assert.deepEqual(
      b.ports.map((p) => 'hostIf' in p && p.hostIf),
      ['eth0', 'eth1'],
    );
    assert.deepEqual(b.management.map((m) => m.hostIf), ['wlan0']);
  });

  it('worker cores become the dataplane threads and their pinning', () => {
    assert.equal(dataplaneCreateOptions(loadBoard('arm64-neoverse')), 'buffers=32768 threads=4 cpus=2,3,4,5');
    assert.equal(dataplaneCreateOptions(loadBoard('sim')), 'buffers=4096');
  });
});

describe('board schema: platform sections', () => {
  const rpi = () => raw('rpi4');

  it('names a bad port type by its index', () => {
    const b = rpi();
    b.ports[1].type = 'wifi';
    badField(b, 'ports[1].type', /must be one of pg, pcap, af_packet, tap, not "wifi"/);
  });

  it('names a bad or doubly owned NIC', () => {
    const b = rpi();
    b.ports[1].hostIf = 'eth0';
    badField(b, 'ports[1].hostIf', /already owned by port lan0/);
    const m = rpi();
    m.management[0].hostIf = 'eth1';
    badField(m, 'management[0].hostIf', /owned by the dataplane \(port wan0\)/);
    const long = rpi();
    long.ports[0].hostIf = 'an-interface-name-too-long';
    badField(long, 'ports[0].hostIf', /not a Linux interface name/);
  });

  it('refuses a variant of another family or an unknown one', () => {
    badField({ ...rpi(), dataplane: { ...rpi().dataplane, variant: 'x86_64-v3' } }, 'dataplane.variant', /not a arm64 variant/);
    badField({ ...rpi(), dataplane: { ...rpi().dataplane, variant: 'arm64-v9' } }, 'dataplane.variant', /auto or one of arm64-v8.2-crypto, arm64-v8a/);
  });

  it('checks worker cores against the core count', () => {
    badField({ ...rpi(), dataplane: { ...rpi().dataplane, workers: [2, 4] } }, 'dataplane.workers[1]', /core 4 does not exist \(cpu.cores is 4\)/);
    badField({ ...rpi(), dataplane: { ...rpi().dataplane, workers: [2, 2] } }, 'dataplane.workers[1]', /listed twice/);
    badField({ ...rpi(), dataplane: { ...rpi().dataplane, options: 'threads=2' } }, 'dataplane.options', /dataplane.workers/);
  });

  it('checks the OTA section and the memory budget', () => {
    badField({ ...rpi(), ota: { ...rpi().ota, bootChooser: 'lilo' } }, 'ota.bootChooser');
    badField({ ...rpi(), ota: { ...rpi().ota, firmware: 'uefi' } }, 'ota.firmware', /must be u-boot for the uboot-env chooser/);
    badField({ ...rpi(), ota: { ...rpi().ota, slots: { A: '/dev/mmcblk0p2', B: '/dev/mmcblk0p2' } } }, 'ota.slots.B');
    badField({ ...rpi(), ota: { ...rpi().ota, slots: { A: '/dev/mmcblk0p2' } } }, 'ota.slots.B');
    badField({ ...rpi(), memory: { budgetMiB: 16 } }, 'memory.budgetMiB', /integer >= 32/);
    badField({ ...rpi(), memory: { budgetMiB: 32 } }, 'memory.budgetMiB', /buffers=8192 take 20 MiB, more than half the budget/);
  });
});

describe('vecgate run: a board that pins a variant its CPU lacks', () => {
  it('is refused with the variant and the missing feature named, before anything starts', () => {
    const dir = testDir('board-pin');
    const file = path.join(dir, 'pinned.json');
    fs.writeFileSync(file, JSON.stringify({ ...raw('sim'), name: 'pinned', arch: 'x86_64', dataplane: { ...raw('sim').dataplane, variant: 'x86_64-v3' } }));
    const env: NodeJS.ProcessEnv = { ...process.env, VECGATE_CPU_HIDE: 'avx2' };
    delete env.VECGATE_VARIANT;
    const r = spawnSync(process.execPath, [CLI, 'run', '--board', file, '--state-dir', dir, '--embedded-port', '0', '--cli-socket', 'none', '--no-telemetry'], {
      encoding: 'utf8',
      env,
      timeout: 30_000,
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.equal(r.stderr, 'vecgate: cannot load dataplane variant x86_64-v3: this CPU lacks 1 required feature(s): avx2\n');
  });
});
