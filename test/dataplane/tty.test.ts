import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

import { DataplaneError } from '../../src/errors';
import { configureTty } from '../../src/dataplane/dataplane';
import { testDir, withoutVariantPin } from '../helpers';
import { Pty } from '../peers/pty';

/* configureTty on a pseudo-terminal, read back by stty (another program,
 * through its own descriptor), with no dataplane opened. */
function openPty(): { pty: Pty; slave: number; path: string } {
  const pty = Pty.open();
  return { pty, slave: fs.openSync(pty.slavePath, fs.constants.O_RDWR | fs.constants.O_NOCTTY), path: pty.slavePath };
}

function stty(path: string): string[] {
  const r = spawnSync('stty', ['-F', path, '-a'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split(/[\s;]+/);
}

describe('configureTty (serial console line settings)', () => {
  let pty: { pty: Pty; slave: number; path: string };

  beforeEach(() => {
    withoutVariantPin();
    pty = openPty();
  });
  afterEach(() => {
    fs.closeSync(pty.slave);
    pty.pty.close();
  });

  it('sets raw mode, the speed and 8N1 by default, as stty reads them back', () => {
    const before = stty(pty.path);
    assert.ok(before.includes('icanon') && before.includes('echo'), 'a fresh pty is cooked');
    configureTty(pty.slave, 115200);
    const words = stty(pty.path);
    for (const w of ['115200', 'cs8', '-parenb', '-cstopb', '-icanon', '-echo', '-isig', '-opost', 'clocal', 'cread', '-crtscts', 'min', 'time']) {
      assert.ok(words.includes(w), `stty shows ${w}: ${words.join(' ')}`);
    }
    assert.equal(words[words.indexOf('speed') + 1], '115200');
    assert.equal(words[words.indexOf('min') + 2], '1');
    assert.equal(words[words.indexOf('time') + 2], '0');
  });

  it('takes the other rates and framings (a pty keeps the speed and stop bits)', () => {
    configureTty(pty.slave, 9600, '8N2');
    let words = stty(pty.path);
    assert.equal(words[words.indexOf('speed') + 1], '9600');
    assert.ok(words.includes('cstopb') && words.includes('-inpck'));
    configureTty(pty.slave, 4000000, '7E1');
    words = stty(pty.path);
    assert.equal(words[words.indexOf('speed') + 1], '4000000');
    assert.ok(words.includes('inpck'), 'parity is checked on input');
  });

  it('refuses a rate, a mode or a descriptor it cannot use, naming it', () => {
    assert.throws(
      () => configureTty(pty.slave, 12345),
      (e: unknown) => e instanceof DataplaneError && e.errorName === 'EINVAL' && /12345 baud is not a standard rate/.test(e.message),
    );
    assert.throws(() => configureTty(pty.slave, 115200, '8n1'), /mode '8n1' is not one of 8N1, 8N2, 8E1, 8O1, 7E1, 7O1/);
    assert.throws(() => configureTty(pty.slave, 115200, '9N1'), /mode '9N1'/);
    const file = fs.openSync(`${testDir('tty')}/not-a-tty`, 'w');
    try {
      assert.throws(
        () => configureTty(file, 115200),
        (e: unknown) => e instanceof DataplaneError && e.errorName === 'EIO' && /Inappropriate ioctl for device/.test(e.message),
      );
    } finally {
      fs.closeSync(file);
    }
    assert.ok(stty(pty.path).includes('icanon'), 'a refused call changed nothing');
  });
});
