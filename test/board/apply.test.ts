/* A board's NIC ports brought up on a real dataplane: an af_packet port on
 * one end of a veth pair and a tap port whose Linux device the dataplane
 * makes. Root only (it makes Linux interfaces); names carry the PID. */
import * as assert from 'node:assert/strict';

import { createPorts } from '../../src/board/apply';
import { validateBoard } from '../../src/board/schema';
import { Dataplane } from '../../src/dataplane/dataplane';
import { createLogger } from '../../src/log';
import { withoutVariantPin } from '../helpers';
import { netnsReason, sh } from '../peers/netns';

describe('board/apply: NIC ports', function () {
  this.timeout(60_000);
  const id = process.pid % 100000;
  const veth = [`vgb${id}a`, `vgb${id}b`];
  const tap = `vgt${id}`;
  before(function () {
    if (netnsReason) this.skip(); /* the reason: netnsReason (root, iproute2) */
    withoutVariantPin();
    sh(`ip link add ${veth[0]} type veth peer name ${veth[1]} && ip link set ${veth[0]} up && ip link set ${veth[1]} up`);
  });
  after(() => {
    if (!netnsReason) sh(`ip link del ${veth[0]} 2>/dev/null || true; ip link del ${tap} 2>/dev/null || true`);
  });

  it('creates an af_packet port on its hostIf and a tap port with its Linux device, both up', () => {
    const board = validateBoard({
      name: 'nics',
      arch: 'any',
      ports: [
        { type: 'af_packet', name: 'lan0', hostIf: veth[0] },
        { type: 'tap', name: 'host0', hostIf: tap },
      ],
      management: [{ hostIf: 'lo' }],
    });
    const dp = Dataplane.open({ options: 'buffers=4096' });
    try {
      const states = createPorts(dp, board.ports, createLogger({ level: 'silent' }));
      assert.deepEqual(states.map((s) => [s.name, s.type]), [['lan0', 'af_packet'], ['host0', 'tap']]);
      const ifs = new Map(dp.interfaces().map((i) => [i.name, i]));
      assert.equal(ifs.get('lan0')?.type, 'af_packet');
      assert.equal(ifs.get('lan0')?.hostIf, veth[0]);
      assert.equal(ifs.get('lan0')?.adminUp, true);
      assert.equal(ifs.get('host0')?.type, 'tap');
      assert.equal(ifs.get('host0')?.hostIf, tap);
      assert.match(sh(`ip -o link show ${tap}`), new RegExp(`^\\d+: ${tap}:`), 'the tap device exists in Linux');
    } finally {
      dp.close();
    }
  });
});
