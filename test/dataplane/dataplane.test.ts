import { spawnSync } from 'node:child_process';
import * as assert from 'node:assert/strict';

import { DataplaneError, VecgateError } from '../../src/errors';
import { Dataplane } from '../../src/dataplane/dataplane';
import { API_VERSION } from '../../src/dataplane/binding';
import { bestVariantFromCpuinfo, dropStream, withoutVariantPin } from '../helpers';

describe('dataplane/dataplane (real library)', () => {
  let dp: Dataplane;

  beforeEach(() => {
    withoutVariantPin();
    dp = Dataplane.open({ options: 'buffers=4096' });
  });
  afterEach(() => dp?.close());

  it('opens the best variant and says so', () => {
    assert.equal(dp.variantInfo.variant, bestVariantFromCpuinfo());
    assert.equal(dp.libraryVariant, bestVariantFromCpuinfo(), 'the loaded library was built for the chosen variant');
    assert.equal(dp.apiVersion, API_VERSION);
    assert.ok(['hugetlb', 'thp', '4k'].includes(dp.bufferBacking()));
    assert.equal(dp.isRunning(), false);
  });

  it('rejects bad options with a DataplaneError', () => {
    assert.throws(() => Dataplane.open({ options: 'buffers=banana' }), DataplaneError);
  });

  it('rejects a bad stream spec with EINVAL naming the field', () => {
    assert.throws(
      () => dp.pgStreamAdd('name=bad size=64 eth.src=not-a-mac'),
      (e: unknown) =>
        e instanceof DataplaneError &&
        e.status === -1 &&
        e.errorName === 'EINVAL' &&
        e.call === 'vg_pg_stream_add' &&
        /eth\.src/.test(e.message),
    );
  });

  it('runs a finite stream to the drop and counts it per node and per error', () => {
    const stream = dp.pgStreamAdd(dropStream('t', 1000));
    assert.equal(dp.runUntilIdle(), 1000);
    const status = dp.pgStreamStatus(stream);
    assert.equal(status.packetsSent, 1000);
    assert.equal(status.bytesSent, 64000);
    assert.equal(status.done, true);
    assert.ok(status.lastNs >= status.firstNs);

    const eth = dp.runtime().find((n) => n.name === 'ethernet-input');
    assert.ok(eth, 'ethernet-input is in /nodes/names');
    assert.equal(eth.packets, 1000);
    assert.ok(eth.calls > 0 && eth.vectors > 0 && eth.vectors <= eth.calls && eth.clocks > 0);
    assert.ok(eth.vectorsPerCall > 1, 'packets move in vectors (VPP: packets per call)');
    assert.equal(eth.vectorsPerCall, eth.packets / eth.calls);

    const dropped = dp.errors().reduce((n, e) => n + e.count, 0);
    assert.equal(dropped, 1000, 'every frame is dropped with a reason');
    assert.ok(dp.errors().every((e) => e.node.length > 0 && e.reason.length > 0));

    dp.statsClear('all');
    assert.equal(dp.runtime().find((n) => n.name === 'ethernet-input')?.packets, 0);
    assert.deepEqual(dp.errors(), []);
  });

  it('finds interfaces and nodes, undefined when absent', () => {
    dp.pgStreamAdd(dropStream('t', 1));
    assert.equal(typeof dp.interfaceFind('pg0'), 'number');
    assert.equal(dp.interfaceFind('no-such-if'), undefined);
    assert.equal(typeof dp.nodeFind('ethernet-input'), 'number');
    assert.equal(dp.nodeFind('no-such-node'), undefined);
    assert.ok(dp.nodeCount() >= 2);
  });

  it('formats the graph with next nodes', () => {
    const graph = dp.graph();
    assert.match(graph, /^ethernet-input /m);
  });

  it('traces packets through the graph', () => {
    dp.pgStreamAdd(dropStream('t', 5));
    dp.traceAdd('pg-input', 2);
    dp.runUntilIdle();
    const trace = dp.traceFormat();
    assert.match(trace, /ethernet-input/);
    dp.traceClear();
  });

  it('starts and stops its own thread', () => {
    dp.start();
    assert.equal(dp.isRunning(), true);
    assert.throws(() => dp.runUntilIdle(), (e: unknown) => e instanceof DataplaneError && e.errorName === 'ESTATE');
    dp.stop();
    assert.equal(dp.isRunning(), false);
  });

  it('refuses calls after close', () => {
    dp.close();
    assert.throws(() => dp.start(), (e: unknown) => e instanceof VecgateError && e.code === 'DATAPLANE_CLOSED');
    dp.close(); // idempotent
  });

  it('a process that exits with its dataplane running exits cleanly (threads stopped first)', () => {
    const script = `const { Dataplane } = require(${JSON.stringify(require.resolve('../../src/dataplane/dataplane'))});
      const dp = Dataplane.open({ options: 'buffers=2048' }); dp.start(); dp.pgStreamAdd('name=s size=64 rate=100k');`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.signal, null, `killed by ${r.signal}`);
    assert.equal(r.status, 0, r.stderr);
  });
});
