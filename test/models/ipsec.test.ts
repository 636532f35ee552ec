import * as assert from 'node:assert/strict';

import { defaultRegistry } from '../../src/descriptors';
import { ConfigError } from '../../src/models/check';
import { validateDocument } from '../../src/models/document';

const KEY16 = '00112233445566778899aabbccddeeff';
const KEY32 = KEY16 + KEY16;

/* IPsec items: what they accept, the defaults they fill, and every refusal
 * naming its path and reason. */
describe('IPsec models', () => {
  const registry = defaultRegistry();

  function valid(items: Record<string, unknown>) {
    return validateDocument({ version: 1, items }, registry).items;
  }

  function problem(items: Record<string, unknown>): string {
    try {
      validateDocument({ version: 1, items }, registry);
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.problems.map((p) => `${p.path}: ${p.reason}`).join('; ');
    }
    assert.fail('accepted');
  }

  const gcmOut = {
    spi: 0x1000,
    direction: 'outbound',
    crypto: 'aes-128-gcm',
    cryptoKey: `0x${KEY16}01020304`,
    tunnel: { source: '10.0.0.1', destination: '10.0.1.1' },
  };

  it('fills the defaults of a GCM tunnel SA and takes a key as hex or bytes', () => {
    const items = valid({
      'ipsec-sas/1': gcmOut,
      'ipsec-sas/2': {
        spi: 0x2000,
        direction: 'inbound',
        mode: 'transport',
        crypto: 'aes-256-cbc',
        cryptoKey: Buffer.from(KEY32, 'hex'),
        integrity: 'hmac-sha-512-256',
        integrityKey: KEY32 + KEY32,
        esn: true,
        replayWindow: 4096,
        udpEncap: true,
      },
    });
    assert.deepEqual(items.get('ipsec-sas/1')!.value, {
      spi: 4096,
      direction: 'outbound',
      mode: 'tunnel',
      crypto: 'aes-128-gcm',
      cryptoKey: `${KEY16}01020304`,
      integrity: 'none',
      esn: false,
      antiReplay: false,
      replayWindow: 1024,
      tunnel: { source: '10.0.0.1', destination: '10.0.1.1', encapVrf: 0 },
    });
    const inbound = items.get('ipsec-sas/2')!.value as Record<string, unknown>;
    assert.equal(inbound.cryptoKey, KEY32);
    assert.equal(inbound.antiReplay, true, 'anti-replay is on by default inbound');
    assert.equal(inbound.replayWindow, 4096);
    assert.deepEqual(inbound.udpEncap, { sourcePort: 4500, destinationPort: 4500 });
  });

  it('refuses wrong keys, algorithm mixes, reserved SPIs and misplaced fields, by path', () => {
    const p = 'items["ipsec-sas/1"]';
    assert.equal(problem({ 'ipsec-sas/1': { ...gcmOut, cryptoKey: KEY16 } }), `${p}.cryptoKey: aes-128-gcm (key and 4-byte salt) takes a 20-byte key, this one has 16`);
    assert.equal(problem({ 'ipsec-sas/1': { ...gcmOut, cryptoKey: 'zz' } }), `${p}.cryptoKey: must be a key in hex or a byte string`);
    assert.equal(problem({ 'ipsec-sas/1': { ...gcmOut, integrity: 'hmac-sha1-96' } }), `${p}.integrity: aes-128-gcm authenticates itself: leave integrity out or none`);
    assert.match(problem({ 'ipsec-sas/1': { ...gcmOut, crypto: 'aes-128-cbc', cryptoKey: KEY16 } }), /integrity: required \(one of none/);
    assert.match(problem({ 'ipsec-sas/1': { ...gcmOut, crypto: 'aes-128-cbc', cryptoKey: KEY16, integrity: 'none' } }), /needs an integrity algorithm/);
    assert.equal(problem({ 'ipsec-sas/1': { ...gcmOut, crypto: 'des' } }), `${p}.crypto: must be one of aes-128-cbc, aes-192-cbc, aes-256-cbc, aes-128-gcm, aes-256-gcm`);
    assert.equal(problem({ 'ipsec-sas/1': { ...gcmOut, spi: 255 } }), `${p}.spi: must be an integer in 256..4294967295`);
    assert.equal(problem({ 'ipsec-sas/1': { ...gcmOut, antiReplay: true } }), `${p}.antiReplay: anti-replay is checked by the receiver: an inbound SA`);
    assert.equal(problem({ 'ipsec-sas/1': { ...gcmOut, direction: 'inbound', replayWindow: 8192 } }), `${p}.replayWindow: must be an integer in 64..4096`);
    assert.equal(problem({ 'ipsec-sas/1': { ...gcmOut, tunnel: undefined } }), `${p}.tunnel: required in tunnel mode`);
    assert.equal(problem({ 'ipsec-sas/1': { ...gcmOut, mode: 'transport' } }), `${p}.tunnel: only a tunnel-mode SA has one`);
    assert.equal(problem({ 'ipsec-sas/1': { ...gcmOut, tunnel: { source: '10.0.0.1', destination: '10.0.0.1' } } }), `${p}.tunnel.destination: is the tunnel's own source`);
    assert.equal(problem({ 'ipsec-sas/1': { ...gcmOut, udpEncap: { sourcePort: 0 } } }), `${p}.udpEncap.sourcePort: must be an integer in 1..65535`);
    assert.equal(problem({ 'ipsec-sas/x': gcmOut }), 'items["ipsec-sas/x"]: key must be ipsec-sas/<id> (0..4294967294)');
  });

  it('takes a tunnel interface and its protection, refusing bad SA lists', () => {
    const items = valid({
      'interfaces/ipsec0': { type: 'ipsec', ipsec: { source: '10.0.0.1', destination: '10.0.1.1' }, addresses: ['169.254.0.1/30'] },
      'ipsec-protections/ipsec0': { outboundSa: 1, inboundSas: [2, 3] },
    });
    assert.deepEqual((items.get('interfaces/ipsec0')!.value as Record<string, unknown>).ipsec, { source: '10.0.0.1', destination: '10.0.1.1', encapVrf: 0 });
    assert.deepEqual(items.get('ipsec-protections/ipsec0')!.value, { interface: 'ipsec0', outboundSa: 1, inboundSas: [2, 3] });
    const p = 'items["ipsec-protections/ipsec0"]';
    assert.equal(problem({ 'ipsec-protections/ipsec0': { outboundSa: 1, inboundSas: [] } }), `${p}.inboundSas: give 1..4 SAs`);
    assert.equal(problem({ 'ipsec-protections/ipsec0': { outboundSa: 1, inboundSas: [2, 2] } }), `${p}.inboundSas[1]: SA 2 is listed twice`);
    assert.equal(problem({ 'interfaces/ipsec0': { type: 'ipsec' } }), 'items["interfaces/ipsec0"].ipsec: required for type ipsec');
    assert.equal(problem({ 'interfaces/lo0': { type: 'loopback', ipsec: {} } }), 'items["interfaces/lo0"].ipsec: only an ipsec interface has one');
  });

  it('takes SPD policies with prefixes, ranges and protocol names, refusing what cannot match', () => {
    const items = valid({
      'ipsec-spds/1': {
        interfaces: ['wan0'],
        policies: [
          { priority: 100, direction: 'outbound', action: 'protect', sa: 1, local: '192.168.1.0/24', remote: '10.9.0.1-10.9.0.9', protocol: 'udp', remotePorts: '5000-5010' },
          { direction: 'outbound', action: 'bypass', protocol: 17, localPorts: 500 },
        ],
      },
    });
    const spd = items.get('ipsec-spds/1')!.value as { policies: Record<string, unknown>[] };
    assert.deepEqual(spd.policies[0], {
      priority: 100,
      direction: 'outbound',
      action: 'protect',
      local: { first: '192.168.1.0', last: '192.168.1.255' },
      remote: { first: '10.9.0.1', last: '10.9.0.9' },
      localPorts: { first: 0, last: 65535 },
      remotePorts: { first: 5000, last: 5010 },
      sa: 1,
      protocol: 17,
    });
    assert.deepEqual(spd.policies[1]!.localPorts, { first: 500, last: 500 });
    const p = 'items["ipsec-spds/1"].policies[0]';
    assert.equal(problem({ 'ipsec-spds/1': { policies: [{ direction: 'outbound', action: 'protect' }] } }), `${p}.sa: required to protect`);
    assert.equal(problem({ 'ipsec-spds/1': { policies: [{ direction: 'outbound', action: 'bypass', sa: 1 }] } }), `${p}.sa: only a protect policy uses an SA, not bypass`);
    assert.equal(problem({ 'ipsec-spds/1': { policies: [{ direction: 'outbound', action: 'bypass', localPorts: 53 }] } }), `${p}.localPorts: ports need protocol tcp or udp`);
    assert.equal(problem({ 'ipsec-spds/1': { policies: [{ direction: 'outbound', action: 'bypass', remote: '10.0.0.9-10.0.0.1' }] } }), `${p}.remote: the range ends before it starts`);
    assert.equal(problem({ 'ipsec-spds/1': { policies: [{ direction: 'outbound', action: 'bypass', protocol: 'sctp' }] } }), `${p}.protocol: a number 0..255 or one of icmp, tcp, udp, gre, esp, ah`);
    assert.equal(problem({ 'ipsec-spds/1': { policies: [{ direction: 'sideways', action: 'bypass' }] } }), `${p}.direction: must be one of inbound, outbound`);
  });
});
