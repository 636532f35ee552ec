import * as assert from 'node:assert/strict';

import { SCENARIOS } from '../../src/bench/registry';
import { BenchResult } from '../../src/bench/scenario';
import { withoutVariantPin } from '../helpers';

const PACKETS = 50_000;

function packetsThrough(r: BenchResult): Record<string, number> {
  return Object.fromEntries(r.nodes.map((n) => [n.name, n.packets]));
}

describe('bench/vxlan-encap and vxlan-decap', () => {
  beforeEach(withoutVariantPin);

  it('vxlan-encap bridges every frame into the tunnel, encapsulates it and routes it out (smoke, no timing claim)', async () => {
    const r = await SCENARIOS['vxlan-encap']!({ packets: PACKETS, warmupPackets: 1000 });
    const seen = packetsThrough(r);
    for (const node of ['ethernet-input', 'l2-input', 'l2-learn', 'l2-fwd', 'l2-output', 'vxlan-encap', 'ip4-lookup', 'ip4-rewrite']) {
      assert.equal(seen[node], PACKETS, `${node} handled every frame`);
    }
    assert.equal(seen['interface-output'], 2 * PACKETS, 'interface-output twice: into the tunnel, out of the underlay');
    assert.equal(seen['ip4-icmp-error'], undefined);
    assert.deepEqual(r.errors, [{ node: 'vxlan-encap', reason: 'frames encapsulated', count: PACKETS }], 'none dropped');
  });

  it('vxlan-decap takes every generated VXLAN frame through ip4-local and vxlan-input into the bridge (smoke, no timing claim)', async () => {
    const r = await SCENARIOS['vxlan-decap']!({ packets: PACKETS, warmupPackets: 1000 });
    const seen = packetsThrough(r);
    for (const node of ['ip4-input', 'ip4-lookup', 'ip4-local', 'vxlan-input', 'l2-input', 'l2-learn', 'l2-fwd', 'l2-output', 'interface-output']) {
      assert.equal(seen[node], PACKETS, `${node} handled every frame`);
    }
    assert.equal(seen['ethernet-input'], 2 * PACKETS, 'ethernet-input twice: the outer frame, then the inner one');
    assert.deepEqual(r.errors, [{ node: 'vxlan-input', reason: 'frames decapsulated', count: PACKETS }], 'none dropped');
  });
});
