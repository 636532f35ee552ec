/* The boot-side scripts in the real firmware: ota/boot.cmd in U-Boot
 * (qemu-system-aarch64 -M virt, Debian's u-boot-qemu) and ota/grub.cfg in
 * GRUB (grub-emu), each with the agent's chooser writing the same env
 * through fw_setenv / grub-editenv between boots. The story is the one the
 * choosers tell with simulateBoot (boot-chooser.test.ts): the same slots,
 * boot for boot. */
import * as assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { firmwareStep, openBootChooser, Slot } from '../../src/ota/boot-chooser';
import { testDir } from '../helpers';
import { haveTool, updateStory } from './boot-story';

const OTA_DIR = path.join(__dirname, '..', '..', '..', 'ota');
const UBOOT_BIN = '/usr/lib/u-boot/qemu_arm64/u-boot.bin';
const GRUB_EMU_DIR = '/usr/lib/grub/x86_64-emu';
const ENV_SIZE = 0x20000;
const ENV_HEX = `0x${ENV_SIZE.toString(16)}`; /* U-Boot reads numbers as hex */

const running = new Set<ChildProcess>();
afterEach(() => {
  for (const p of running) if (p.pid && p.exitCode === null) process.kill(p.pid, 'SIGKILL');
  running.clear();
});

/* Runs a firmware until it exits by itself (poweroff, halt), or kills it. */
function runFirmware(cmd: string, args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    running.add(p);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    p.stderr.on('data', (d: Buffer) => (out += d.toString('latin1')));
    const timer = setTimeout(() => p.pid && process.kill(p.pid, 'SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(p);
      if (signal) reject(new Error(`${cmd} killed (${signal}) after ${timeoutMs} ms; its output:\n${out}`));
      else resolve(out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, ''));
    });
  });
}

/* An 8 MiB disk: an MBR with one bootable FAT partition from 1 MiB. */
function fatDisk(file: string): string {
  fs.writeFileSync(file, Buffer.alloc(0));
  fs.truncateSync(file, 8 << 20);
  const mbr = Buffer.alloc(512);
  mbr.writeUInt8(0x80, 446);
  mbr.writeUInt8(0x0c, 446 + 4); /* FAT32 LBA */
  mbr.writeUInt32LE(2048, 446 + 8);
  mbr.writeUInt32LE(16384 - 2048, 446 + 12);
  mbr.writeUInt16LE(0xaa55, 510);
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, mbr, 0, 512, 0);
  fs.closeSync(fd);
  execFileSync('mkfs.vfat', ['--offset', '2048', file, '7168'], { stdio: 'ignore' });
  return `${file}@@1M`; /* the partition, as mtools names it */
}

const mcopyIn = (part: string, host: string, name: string) => execFileSync('mcopy', ['-o', '-i', part, host, `::${name}`]);
const mcopyOut = (part: string, name: string, host: string) => execFileSync('mcopy', ['-o', '-i', part, `::${name}`, host]);

/* The line a test board's "kernel" prints: the slot and its command line. */
function bootedFrom(out: string): Slot {
  const m = /VG-KERNEL slot=([AB]) args=(.*)/.exec(out);
  assert.ok(m, `the firmware booted no slot; its output:\n${out}`);
  assert.ok(m[2]!.split(/\s+/).includes(`vecgate.slot=${m[1]}`), `the kernel command line carries the slot: ${m[2]}`);
  return m[1] as Slot;
}

type Env = Record<string, string>;

function parseEnv(text: string): Env {
  return Object.fromEntries(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/* Envs at power-on, the trustworthy and the not: each firmware must boot the
 * slot firmwareStep boots and leave the variables it leaves. */
const EDGE_CASES: Env[] = [
  { vecgate_slot: 'B', upgrade_available: '1', vecgate_trial: 'A', bootcount: '0', bootlimit: 'x' },
  { vecgate_slot: 'A', upgrade_available: '1', vecgate_trial: 'C', bootcount: '0', bootlimit: '3' },
  { vecgate_slot: 'A', upgrade_available: '1', vecgate_trial: 'B', bootcount: '8', bootlimit: '9' },
  { vecgate_slot: 'A', upgrade_available: '1', vecgate_trial: 'B', bootcount: '9', bootlimit: '9' },
  { vecgate_slot: 'A', upgrade_available: '1', vecgate_trial: 'B', bootcount: '', bootlimit: '1' },
  { vecgate_slot: 'A', upgrade_available: '1', vecgate_trial: 'B', bootcount: '1', bootlimit: '10' },
  { vecgate_slot: 'B', upgrade_available: '0', vecgate_trial: 'A', bootcount: '2', bootlimit: '3' },
  { vecgate_slot: 'Z', upgrade_available: '', vecgate_trial: '', bootcount: '', bootlimit: '' },
];
const OURS = ['vecgate_slot', 'upgrade_available', 'vecgate_trial', 'bootcount', 'vecgate_fellback'];

async function sameAsFirmwareStep(
  cases: Env[],
  board: { boot: () => Promise<Slot>; readEnv: () => Env; writeEnv: (v: Env) => void },
): Promise<void> {
  for (const before of cases) {
    board.writeEnv({ ...before, vecgate_fellback: '' });
    const want = firmwareStep(before);
    const slot = await board.boot();
    const after = board.readEnv();
    const expected = { ...before, vecgate_fellback: '', ...want.changes };
    const pick = (e: Env) => OURS.map((k) => `${k}=${e[k] ?? ''}`).join(' ');
    assert.equal(slot, want.slot, `booted from ${JSON.stringify(before)}`);
    assert.equal(pick(after), pick(expected), `the env after booting from ${JSON.stringify(before)}`);
  }
}

describe('ota/boot-firmware', function () {
  this.timeout(120000);

  describe('U-Boot runs ota/boot.cmd (qemu-system-aarch64 -M virt)', () => {
    before(function () {
      for (const t of ['qemu-system-aarch64', 'mkimage', 'mkfs.vfat', 'mcopy', 'fw_setenv', 'fw_printenv']) {
        if (!haveTool(t)) this.skip(); /* qemu-system-arm, u-boot-tools, dosfstools, mtools, libubootenv-tool */
      }
      if (!fs.existsSync(UBOOT_BIN)) this.skip(); /* u-boot-qemu */
    });

    /* qemu_arm64 keeps its env in the second pflash bank, but saveenv cannot
     * write it under Debian 12's QEMU 7.2 (a write-to-buffer in a sector is
     * only accepted within the first buffer of the sector: QEMU issue 2343;
     * see ota/README.md). So this board keeps its env as the rpi4 does, in
     * uboot.env on the FAT partition (CONFIG_ENV_IS_IN_FAT): the prologue
     * loads it, and saveenv becomes what ENV_IS_IN_FAT's saveenv does,
     * `env export -c` to uboot.env. The rest of boot.cmd runs unchanged. */
    function testBootScript(dir: string): string {
      const cmd = fs.readFileSync(path.join(OTA_DIR, 'boot.cmd'), 'utf8');
      const saveLines = cmd.split('\n').filter((l) => /\bsaveenv\b/.test(l) && !l.trimStart().startsWith('#'));
      assert.deepEqual(saveLines, ['if test "${vg_save}" = 1; then saveenv; fi'], 'boot.cmd saves in one place');
      const save = `env export -c -s ${ENV_HEX} \${kernel_addr_r}; fatwrite virtio 0:1 \${kernel_addr_r} uboot.env ${ENV_HEX}`;
      const prologue = [
        `if load virtio 0:1 \${kernel_addr_r} uboot.env; then env import -c \${kernel_addr_r} ${ENV_HEX}; fi`,
        `if env exists vecgate_bootlinux; then true; else setenv vecgate_bootlinux 'echo "VG-KERNEL slot=\${vecgate_booted} args=\${bootargs}"; poweroff'; fi`,
      ].join('\n');
      const script = path.join(dir, 'test-boot.cmd');
      fs.writeFileSync(script, `${prologue}\n${cmd.replace(/then saveenv; fi/, `then ${save}; fi`)}`);
      const scr = path.join(dir, 'boot.scr');
      execFileSync('mkimage', ['-A', 'arm64', '-T', 'script', '-C', 'none', '-d', script, scr], { stdio: 'ignore' });
      return scr;
    }

    /* A board: the disk with boot.scr, the env file the host edits, and one
     * power-on that copies the env in, boots, reads the serial console and
     * copies the env back. */
    function ubootBoard() {
      const dir = testDir('uboot-qemu');
      const part = fatDisk(path.join(dir, 'disk.img'));
      mcopyIn(part, testBootScript(dir), 'boot.scr');
      const envFile = path.join(dir, 'uboot.env');
      fs.writeFileSync(envFile, Buffer.alloc(ENV_SIZE)); /* never saved: a bad CRC */
      const config = path.join(dir, 'fw_env.config');
      fs.writeFileSync(config, `${envFile} 0x0 ${ENV_HEX}\n`);
      const serials: string[] = [];
      const boot = async (): Promise<Slot> => {
        mcopyIn(part, envFile, 'uboot.env');
        const args = ['-M', 'virt', '-cpu', 'cortex-a57', '-m', '128', '-nographic', '-no-reboot', '-bios', UBOOT_BIN];
        args.push('-drive', `if=virtio,format=raw,file=${path.join(dir, 'disk.img')}`, '-nic', 'none');
        const out = await runFirmware('qemu-system-aarch64', args, 60000);
        serials.push(out);
        assert.match(out, /Executing script/, 'U-Boot ran boot.scr');
        mcopyOut(part, 'uboot.env', envFile);
        return bootedFrom(out);
      };
      const readEnv = () => parseEnv(execFileSync('fw_printenv', ['-c', config], { encoding: 'utf8' }));
      const writeEnv = (vars: Env) => {
        const script = path.join(dir, 'set.script');
        fs.writeFileSync(script, Object.entries(vars).map(([k, v]) => `${k}=${v}\n`).join(''));
        execFileSync('fw_setenv', ['-c', config, '-s', script]);
      };
      return { dir, serials, boot, readEnv, writeEnv };
    }

    it('tries the new slot ota.tries times, falls back, keeps a committed slot: the agent and U-Boot share the env', async () => {
      const board = ubootBoard();
      const chooser = openBootChooser({ bootChooser: 'uboot-env', firmware: 'u-boot', slots: null, tries: 3, env: 'uboot.env' }, { baseDir: board.dir });
      await updateStory(chooser, board.boot);
      const serial = board.serials.join('\n');
      assert.match(serial, /vecgate: trying slot B, boot 3 of 3\n/);
      assert.match(serial, /vecgate: slot B failed 3 boots, falling back to A\n/);
      assert.equal(board.readEnv().bootcmd, 'run distro_bootcmd', "U-Boot's own variables are there for fw_printenv");
    });

    it('decides as firmwareStep does on an env it cannot trust', async () => {
      const board = ubootBoard();
      await board.boot(); /* U-Boot saves its env once */
      await sameAsFirmwareStep(EDGE_CASES.slice(0, 3), board);
    });
  });

  describe('GRUB runs ota/grub.cfg (grub-emu)', () => {
    before(function () {
      for (const t of ['grub-emu', 'grub-editenv', 'mkfs.vfat', 'mcopy']) if (!haveTool(t)) this.skip(); /* grub-emu, grub-common, dosfstools, mtools */
      if (!fs.existsSync(path.join(GRUB_EMU_DIR, 'loadenv.mod'))) this.skip(); /* grub-emu's modules */
    });

    /* grub-emu reads ${prefix}/grub.cfg from the directory it is given; the
     * env block sits on a FAT partition of a disk image (hd0, from the device
     * map) because save_env writes through a disk, as on a box. After
     * grub.cfg the test prints what the menu entry would boot, and halts. */
    function grubDir(dir: string): string {
      const gd = path.join(dir, 'grub');
      fs.mkdirSync(gd);
      for (const m of fs.readdirSync(GRUB_EMU_DIR)) fs.symlinkSync(path.join(GRUB_EMU_DIR, m), path.join(gd, m));
      const cfg = fs.readFileSync(path.join(OTA_DIR, 'grub.cfg'), 'utf8');
      fs.writeFileSync(
        path.join(gd, 'grub.cfg'),
        `set vecgate_grubenv=(hd0,msdos1)/grubenv\n${cfg}\necho "VG-KERNEL slot=\${vecgate_booted} args=\${vecgate_cmdline_slot}"\nhalt\n`,
      );
      return gd;
    }

    function grubBoard() {
      const dir = testDir('grub-emu');
      const disk = path.join(dir, 'disk.img');
      const part = fatDisk(disk);
      const map = path.join(dir, 'device.map');
      fs.writeFileSync(map, `(hd0) ${disk}\n`);
      const gd = grubDir(dir);
      const envFile = path.join(dir, 'grubenv');
      execFileSync('grub-editenv', [envFile, 'create']); /* GRUB cannot create it: the installer does */
      const boot = async (): Promise<Slot> => {
        mcopyIn(part, envFile, 'grubenv');
        const out = await runFirmware('grub-emu', ['-d', gd, '-m', map], 20000, { ...process.env, TERM: 'dumb' });
        assert.doesNotMatch(out, /error:/, out);
        mcopyOut(part, 'grubenv', envFile);
        return bootedFrom(out);
      };
      const readEnv = () => parseEnv(execFileSync('grub-editenv', [envFile, 'list'], { encoding: 'utf8' }));
      const writeEnv = (vars: Env) => {
        execFileSync('grub-editenv', [envFile, 'create']);
        execFileSync('grub-editenv', [envFile, 'set', ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)]);
      };
      return { dir, boot, readEnv, writeEnv };
    }

    it('tries the new slot ota.tries times, falls back, keeps a committed slot: the agent and GRUB share the env', async () => {
      const board = grubBoard();
      const chooser = openBootChooser({ bootChooser: 'grub-env', firmware: 'uefi', slots: null, tries: 3, env: 'grubenv' }, { baseDir: board.dir });
      await updateStory(chooser, board.boot);
    });

    it('decides as firmwareStep does, case for case', async () => {
      await sameAsFirmwareStep(EDGE_CASES, grubBoard());
    });
  });
});
