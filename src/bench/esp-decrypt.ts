/* esp-decrypt: the generator sends what the peer would, ESP in tunnel mode
 * to this box's address on the underlay port, each carrying an IPv4/UDP
 * packet of `payload` bytes for a host on the LAN sink; they are decrypted
 * with the tunnel's inbound SA and routed out the sink. The packet is
 * encrypted once, by Node's crypto (see esp.ts), and sent over and over:
 * the inbound SA keeps no replay window, so anti-replay is not measured.
 * Path: pg -> ethernet-input -> ip4-input -> ip4-lookup -> ip4-local ->
 * esp-decrypt -> ip4-input (on ipsec0) -> ip4-lookup -> ip4-rewrite ->
 * interface-output -> the sink's tx. */
import { DEFAULT_ALG, espFigures, espPacket, parseAlg, PEER_MAC, payloadOf, protectedTunnel, SA_IN, saCounters, UNDERLAY_MAC } from './esp';
import { ethernet, rawStream, udpPacket } from './frames';
import { generatorPort, measure, withDataplane } from './measure';
import { BenchOptions, BenchResult } from './scenario';

export function espDecrypt(opts: BenchOptions): BenchResult {
  const alg = parseAlg(opts.alg ?? DEFAULT_ALG);
  const payload = payloadOf(opts);
  const result = withDataplane(opts, (dp) => {
    protectedTunnel(dp, generatorPort(dp), alg);
    const lan = dp.loopbackCreate('lan0');
    dp.interfaceAddIp4(lan, '192.168.0.1/24');
    dp.ip4NeighborAdd(lan, '192.168.0.2', '02:00:00:00:01:01');
    const inner = udpPacket('172.16.0.1', '192.168.0.2', 1024, 1024, payload);
    const frame = Buffer.concat([ethernet(UNDERLAY_MAC, PEER_MAC), espPacket(alg, inner, 1)]);
    return { ...measure(dp, 'esp-decrypt', opts, rawStream(frame)), sa: saCounters(dp, SA_IN) };
  });
  return espFigures(result, alg, payload, true, opts);
}
