import * as assert from 'node:assert/strict';

import { formatBench } from '../../src/bench/format';
import { SCENARIOS, scenarioNames } from '../../src/bench/registry';
import { bestVariantFromCpuinfo, withoutVariantPin } from '../helpers';

describe('bench/pg-ethernet', () => {
  beforeEach(withoutVariantPin);

  it('is registered', () => {
    assert.ok(scenarioNames().includes('pg-ethernet'));
  });

  it('sends exactly the asked packets and reports per-node counters (smoke, no timing claim)', async () => {
    const r = await SCENARIOS['pg-ethernet']!({ packets: 100_000, warmupPackets: 10_000 });
    assert.equal(r.scenario, 'pg-ethernet');
    assert.equal(r.variant, bestVariantFromCpuinfo());
    assert.equal(r.packets, 100_000);
    assert.ok(r.seconds > 0 && r.mpps > 0 && r.generatorSeconds >= 0);
    const eth = r.nodes.find((n) => n.name === 'ethernet-input');
    assert.ok(eth, 'ethernet-input saw packets');
    assert.equal(eth.packets, 100_000, 'warm-up packets were cleared from the counters');
    assert.ok(eth.clocksPerPacket > 0 && eth.vectorsPerCall > 0);
    assert.ok(r.nodes.every((n) => n.packets > 0), 'only nodes that saw packets');
    assert.equal(r.errors.reduce((n, e) => n + e.count, 0), 100_000, 'every frame dropped with a reason');
    assert.match(formatBench(r), /^ethernet-input\s+\d+\s+100000\s/m);
  });

  it('runs a pinned variant', async () => {
    const r = await SCENARIOS['pg-ethernet']!({ packets: 1000, warmupPackets: 0, variant: 'x86_64-v3' });
    assert.equal(r.variant, 'x86_64-v3');
  });
});
