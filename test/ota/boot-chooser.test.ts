import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { OtaSpec } from '../../src/board/platform';
import { VecgateError } from '../../src/errors';
import {
  BootChooserError,
  bootedSlot,
  firmwareStep,
  fwEnvConfig,
  openBootChooser,
  simulateBoot,
  Slot,
} from '../../src/ota/boot-chooser';
import { testDir } from '../helpers';
import { haveTool, updateStory } from './boot-story';

const spec = (o: Partial<OtaSpec>): OtaSpec => ({ bootChooser: 'file', firmware: 'none', slots: null, tries: 3, env: 'boot.json', ...o });

describe('ota/boot-chooser', () => {
  describe('firmwareStep (the rules of boot.cmd and grub.cfg)', () => {
    it('boots the primary when no trial is pending, and saves a blank env once', () => {
      assert.deepEqual(firmwareStep({}), { changes: { vecgate_slot: 'A' }, slot: 'A' });
      assert.deepEqual(firmwareStep({ vecgate_slot: 'B' }), { changes: {}, slot: 'B' });
      assert.deepEqual(firmwareStep({ vecgate_slot: 'B', upgrade_available: '0', vecgate_trial: 'A' }), { changes: {}, slot: 'B' });
    });

    it('counts a trial, then falls back at the limit', () => {
      const env = { vecgate_slot: 'A', upgrade_available: '1', vecgate_trial: 'B', bootcount: '2', bootlimit: '3' };
      assert.deepEqual(firmwareStep(env), { changes: { bootcount: '3' }, slot: 'B' });
      assert.deepEqual(firmwareStep({ ...env, bootcount: '3' }), {
        changes: { upgrade_available: '0', vecgate_fellback: 'B', vecgate_trial: '', bootcount: '0' },
        slot: 'A',
      });
      assert.equal(firmwareStep({ ...env, bootcount: '' }).slot, 'B', 'a missing bootcount is 0');
      assert.equal(firmwareStep({ ...env, bootcount: '8', bootlimit: '9' }).slot, 'B', 'the ninth boot of a limit of 9');
    });

    it('falls back on anything it cannot trust', () => {
      const env = { vecgate_slot: 'A', upgrade_available: '1', vecgate_trial: 'B', bootcount: '0', bootlimit: '3' };
      for (const bad of [{ vecgate_trial: 'C' }, { vecgate_trial: '' }, { bootlimit: '' }, { bootlimit: 'x' }, { bootcount: '9', bootlimit: '12' }, { bootcount: 'x' }, { bootlimit: '10' }, { bootlimit: '0' }]) {
        assert.equal(firmwareStep({ ...env, ...bad }).slot, 'A', JSON.stringify(bad));
      }
    });
  });

  describe('file', () => {
    it('tells the update story with simulateBoot', async () => {
      const dir = testDir('boot-file');
      const chooser = openBootChooser(spec({}), { baseDir: dir });
      assert.equal(chooser.kind, 'file');
      await updateStory(chooser, () => simulateBoot(chooser));
      const saved = JSON.parse(fs.readFileSync(path.join(dir, 'boot.json'), 'utf8'));
      assert.equal(saved.vecgate_slot, 'B');
      assert.equal(saved.vecgate_booted, 'B');
      assert.deepEqual(fs.readdirSync(dir), ['boot.json'], 'no temporary file is left');
    });

    it('reads a blank file as primary A and refuses a corrupt one', async () => {
      const dir = testDir('boot-file');
      fs.writeFileSync(path.join(dir, 'boot.json'), '');
      const chooser = openBootChooser(spec({}), { baseDir: dir });
      assert.equal((await chooser.read()).primary, 'A');
      fs.writeFileSync(path.join(dir, 'boot.json'), '{"vecgate_slot": "B"'); /* cannot happen with rename, but a disk can rot */
      await assert.rejects(chooser.read(), (e: unknown) => e instanceof BootChooserError && e.code === 'OTA_BOOT_ENV' && e.message.includes('boot.json'));
    });

    it('survives SIGKILL at any point of a write', async function () {
      this.timeout(30000);
      const dir = testDir('boot-kill');
      const mod = path.join(__dirname, '..', '..', 'src', 'ota', 'boot-chooser.js');
      const child = `const b = require(${JSON.stringify(mod)});
        const c = b.openBootChooser({ bootChooser: 'file', firmware: 'none', slots: null, tries: 3, env: 'boot.json' }, { baseDir: ${JSON.stringify(dir)} });
        (async () => { for (let i = 0; ; i++) { await c.startTrial(i % 2 ? 'A' : 'B'); await c.commit(i % 2 ? 'B' : 'A'); } })();`;
      for (let round = 0; round < 8; round++) {
        const p = spawn(process.execPath, ['-e', child], { stdio: 'ignore' });
        await new Promise((r) => setTimeout(r, 150 + 37 * round));
        p.kill('SIGKILL');
        await new Promise((r) => p.once('exit', r));
        const state = await openBootChooser(spec({}), { baseDir: dir }).read(); /* parses: old or new, never torn */
        assert.ok(['A', 'B'].includes(state.primary));
      }
    });

    it('refuses a limit the boot scripts cannot count, and a bad slot', async () => {
      assert.throws(() => openBootChooser(spec({ tries: 10 }), { baseDir: testDir('boot') }), (e: unknown) => e instanceof VecgateError && e.code === 'OTA_TRIES');
      const chooser = openBootChooser(spec({}), { baseDir: testDir('boot') });
      await assert.rejects(chooser.startTrial('C' as Slot), (e: unknown) => e instanceof VecgateError && e.code === 'OTA_SLOT_INVALID');
    });
  });

  describe('bootedSlot', () => {
    const state = { primary: 'A' as Slot, trial: 'B' as Slot, tries: 1, limit: 3, fellBack: null };
    it('takes VECGATE_SLOT, then the kernel command line, then the simulated boot, then the primary', () => {
      const dir = testDir('cmdline');
      const cmdline = path.join(dir, 'cmdline');
      fs.writeFileSync(cmdline, 'console=ttyS0 vecgate.slot=B root=/dev/vda\n');
      assert.equal(bootedSlot(state, { VECGATE_SLOT: 'A' }, cmdline), 'A');
      assert.equal(bootedSlot(state, {}, cmdline), 'B');
      fs.writeFileSync(cmdline, 'console=ttyS0 xvecgate.slot=B vecgate.slot=C\n');
      assert.equal(bootedSlot({ ...state, booted: 'B' }, {}, cmdline), 'B');
      assert.equal(bootedSlot(state, {}, path.join(dir, 'none')), 'A');
    });
  });

  describe('uboot-env (fw_printenv/fw_setenv on a file-backed env)', () => {
    before(function () {
      if (!haveTool('fw_setenv') || !haveTool('fw_printenv')) this.skip(); /* libubootenv-tool */
    });

    /* An env as U-Boot saves it, made by libubootenv from a default env:
     * U-Boot's own variables must survive every write of the chooser. */
    function ubootEnv(): { dir: string; config: string; env: string } {
      const dir = testDir('uboot-env');
      const env = path.join(dir, 'uboot.env');
      fs.writeFileSync(env, Buffer.alloc(0x4000));
      const config = path.join(dir, 'fw_env.config');
      fs.writeFileSync(config, `${env} 0x0 0x4000\n`);
      return { dir, config, env };
    }

    function printenv(config: string): Record<string, string> {
      const out = execFileSync('fw_printenv', ['-c', config], { encoding: 'utf8' });
      return Object.fromEntries(out.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    }

    it('tells the update story, and the variables are U-Boot\'s', async () => {
      const { dir, config } = ubootEnv();
      const defaults = path.join(dir, 'u-boot-initial-env');
      fs.writeFileSync(defaults, 'bootcmd=run distro_bootcmd\nbootdelay=2\n');
      const chooser = openBootChooser(spec({ bootChooser: 'uboot-env', firmware: 'u-boot', env: 'uboot.env' }), { baseDir: dir });
      assert.equal(chooser.kind, 'uboot-env');
      assert.deepEqual((await chooser.read()).primary, 'A', 'a blank env reads as A');
      execFileSync('fw_setenv', ['-c', config, '-f', defaults, 'bootdelay', '2'], { stdio: 'ignore' }); /* U-Boot's first saveenv */
      await updateStory(chooser, () => simulateBoot(chooser));
      const env = printenv(config);
      assert.equal(env.bootcmd, 'run distro_bootcmd', "U-Boot's own variables are kept");
      assert.equal(env.vecgate_slot, 'B');
      assert.equal(env.upgrade_available, '0');
      assert.equal(env.vecgate_fellback, 'A');
      assert.equal(env.vecgate_trial, undefined, 'a cleared variable is deleted');
      await chooser.startTrial('A');
      assert.deepEqual(
        [printenv(config).upgrade_available, printenv(config).bootcount, printenv(config).bootlimit, printenv(config).vecgate_trial],
        ['1', '0', '3', 'A'],
      );
    });

    it('refuses to write a blank env (it would lack bootcmd), naming the tool, its stderr and the env', async () => {
      const { dir, env } = ubootEnv();
      const chooser = openBootChooser(spec({ bootChooser: 'uboot-env', firmware: 'u-boot', env: 'uboot.env' }), { baseDir: dir });
      await assert.rejects(chooser.startTrial('B'), (e: unknown) => {
        assert.ok(e instanceof BootChooserError);
        assert.equal(e.code, 'OTA_BOOT_TOOL');
        assert.equal(e.tool, 'fw_setenv');
        assert.equal(e.env, env);
        assert.match(e.stderr, /Cannot read/);
        assert.ok(e.message.includes('fw_setenv') && e.message.includes(env) && e.message.includes('Cannot read'), e.message);
        return true;
      });
    });

    it('finds fw_env.config: VECGATE_FW_ENV_CONFIG, else beside the env, else /etc', async () => {
      const { dir, config, env } = ubootEnv();
      assert.equal(fwEnvConfig(env, { VECGATE_FW_ENV_CONFIG: '/x/fw_env.config' }), '/x/fw_env.config');
      assert.equal(fwEnvConfig(env, {}), config);
      assert.equal(fwEnvConfig(path.join(dir, 'sub', 'uboot.env'), {}), '/etc/fw_env.config');
      const broken = path.join(dir, 'broken.config');
      fs.writeFileSync(broken, `${path.join(dir, 'missing.env')} 0x0 0x4000\n`);
      const chooser = openBootChooser(spec({ bootChooser: 'uboot-env', firmware: 'u-boot', env: 'uboot.env' }), { baseDir: dir, env: { VECGATE_FW_ENV_CONFIG: broken } });
      await assert.rejects(chooser.read(), (e: unknown) => e instanceof BootChooserError && e.tool === 'fw_printenv' && /Configuration file wrong/.test(e.stderr));
    });
  });

  describe('grub-env (grub-editenv)', () => {
    before(function () {
      if (!haveTool('grub-editenv')) this.skip(); /* grub-common */
    });

    it('tells the update story; each write replaces the 1024-byte block whole', async () => {
      const dir = testDir('grub-env');
      const chooser = openBootChooser(spec({ bootChooser: 'grub-env', firmware: 'uefi', env: 'EFI/vecgate/grubenv' }), { baseDir: dir });
      assert.equal(chooser.kind, 'grub-env');
      fs.mkdirSync(path.join(dir, 'EFI', 'vecgate'), { recursive: true });
      await updateStory(chooser, () => simulateBoot(chooser));
      const file = path.join(dir, 'EFI', 'vecgate', 'grubenv');
      assert.equal(fs.statSync(file).size, 1024);
      const list = execFileSync('grub-editenv', [file, 'list'], { encoding: 'utf8' });
      assert.match(list, /^vecgate_slot=B$/m);
      assert.match(list, /^vecgate_fellback=A$/m);
      assert.match(list, /^upgrade_available=0$/m);
      assert.deepEqual(fs.readdirSync(path.dirname(file)), ['grubenv'], 'no temporary file is left');
    });

    it('names grub-editenv, its stderr and the env when it fails', async () => {
      const dir = testDir('grub-env');
      fs.writeFileSync(path.join(dir, 'grubenv'), 'not an env block');
      const chooser = openBootChooser(spec({ bootChooser: 'grub-env', firmware: 'uefi', env: 'grubenv' }), { baseDir: dir });
      await assert.rejects(chooser.read(), (e: unknown) => e instanceof BootChooserError && e.tool === 'grub-editenv' && e.env === path.join(dir, 'grubenv') && e.stderr.length > 0);
    });
  });
});
