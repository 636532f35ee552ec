import * as assert from 'node:assert/strict';

import { SpecError } from '../../src/errors';
import { formatPgSpec } from '../../src/dataplane/pg-spec';

describe('dataplane/pg-spec', () => {
  it('serialises every field in the C grammar', () => {
    const text = formatPgSpec({
      name: 'demo',
      if: 'pg1',
      node: 'ethernet-input',
      size: { from: 64, to: 128 },
      count: 10,
      rate: '10k',
      eth: { src: '02:00:00:00:00:01', dst: { from: '02:00:00:00:00:02', to: '02:00:00:00:00:09' }, type: 0x800 },
      vlan: [100, 200],
      ip4: { src: '10.0.0.1', dst: { from: '10.0.0.1', to: '10.0.255.254', random: true }, ttl: 64 },
      l4: 'udp',
      udp: { sport: 1024, dport: { from: 4000, to: 4010 } },
      edit: [{ offset: 30, width: 4, from: 1, to: 9, random: true }],
    });
    assert.equal(
      text,
      'name=demo if=pg1 node=ethernet-input size=64-128 count=10 rate=10k ' +
        'eth.src=02:00:00:00:00:01 eth.dst=02:00:00:00:00:02-02:00:00:00:00:09 eth.type=0x0800 vlan=100,200 ' +
        'ip4.src=10.0.0.1 ip4.dst=10.0.0.1-10.0.255.254/random ip4.ttl=64 l4=udp udp.sport=1024 udp.dport=4000-4010 ' +
        'edit=30:4:1-9/random',
    );
  });

  it('writes raw data as hex', () => {
    assert.equal(formatPgSpec({ name: 'raw', data: Buffer.from([0xde, 0xad]) }), 'name=raw data=dead');
  });

  const bad: [string, object][] = [
    ['name', {}],
    ['eth.src', { name: 'x', eth: { src: '02:00:00:00:00' } }],
    ['ip4.dst.to', { name: 'x', ip4: { dst: { from: '10.0.0.1', to: '10.0.0.300' } } }],
    ['ip4.dst', { name: 'x', ip4: { dst: { from: '10.0.0.9', to: '10.0.0.1' } } }],
    ['udp.dport', { name: 'x', udp: { dport: 70000 } }],
    ['vlan[1]', { name: 'x', vlan: [1, 5000] }],
    ['size', { name: 'x', size: 0 }],
    ['rate', { name: 'x', rate: '10x' }],
    ['l4', { name: 'x', l4: 'sctp' }],
    ['edit[0].from', { name: 'x', edit: [{ offset: 0, width: 1, from: 256, to: 300 }] }],
    ['eth', { name: 'x', data: 'aa', eth: { type: 0x800 } }],
    ['name', { name: 'has space' }],
  ];
  for (const [field, spec] of bad) {
    it(`names the bad field ${field}`, () => {
      assert.throws(
        () => formatPgSpec(spec as never),
        (e: unknown) => e instanceof SpecError && e.field === field && e.message.startsWith(`${field}: `),
      );
    });
  }
});
