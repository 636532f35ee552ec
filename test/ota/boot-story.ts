/* Shared by boot-chooser.test.ts and boot-firmware.test.ts. */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

import type { BootChooser, Slot } from '../../src/ota/boot-chooser';

export function haveTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/* The life of an update as the agent and the firmware see it, told the same
 * way to every chooser and to the real firmware (boot-firmware.test.ts):
 * `boot` is one power-on; the slots it returns are what the firmware chose. */
export async function updateStory(chooser: BootChooser, boot: () => Promise<Slot>): Promise<void> {
  assert.deepEqual(await chooser.read(), { primary: 'A', trial: null, tries: 0, limit: 3, fellBack: null, booted: null }, 'a blank env');
  assert.equal(await boot(), 'A', 'a blank env boots A');
  assert.equal((await chooser.read()).primary, 'A');

  await chooser.startTrial('B');
  assert.deepEqual(
    { ...(await chooser.read()), booted: undefined },
    { primary: 'A', trial: 'B', tries: 0, limit: 3, fellBack: null, booted: undefined },
  );
  for (let n = 1; n <= 3; n++) {
    assert.equal(await boot(), 'B', `trial boot ${n}`);
    const s = await chooser.read();
    assert.equal(s.trial, 'B');
    assert.equal(s.tries, n, 'bootcount counts the boots of the trial');
  }
  assert.equal(await boot(), 'A', 'after 3 boots of B the firmware falls back to A');
  let s = await chooser.read();
  assert.equal(s.trial, null);
  assert.equal(s.fellBack, 'B', 'the agent can report the rollback');
  assert.equal(s.primary, 'A');
  assert.equal(await boot(), 'A', 'and stays there');

  await chooser.startTrial('B');
  assert.equal((await chooser.read()).fellBack, null, 'a new trial clears fellBack');
  assert.equal(await boot(), 'B');
  await chooser.commit('B');
  assert.deepEqual(
    { ...(await chooser.read()), booted: undefined },
    { primary: 'B', trial: null, tries: 0, limit: 3, fellBack: null, booted: undefined },
  );
  assert.equal(await boot(), 'B', 'a committed slot is booted from then on');
  assert.equal(await boot(), 'B');

  await chooser.startTrial('A');
  assert.equal(await boot(), 'A');
  await chooser.cancelTrial(); /* the health check failed on A */
  s = await chooser.read();
  assert.equal(s.trial, null);
  assert.equal(s.fellBack, 'A');
  assert.equal(s.primary, 'B');
  assert.equal(await boot(), 'B', 'a cancelled trial boots the primary at once');
}
