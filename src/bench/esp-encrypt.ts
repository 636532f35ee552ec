/* esp-encrypt: IPv4/UDP packets of `payload` bytes from the generator port
 * are routed into a route-based IPsec tunnel (as FD.io CSIT measures VPP's
 * "ipsec tunnel interface" tests), encrypted with its outbound SA in tunnel
 * mode and routed out the underlay sink. Destinations walk 255 addresses of
 * the peer's network. Path: pg -> ethernet-input -> ip4-input -> ip4-lookup
 * -> ip4-rewrite -> interface-output (ipsec0) -> esp-encrypt -> ip4-lookup
 * -> ip4-rewrite -> interface-output -> the sink's tx. */
import { DEFAULT_ALG, espFigures, parseAlg, payloadOf, protectedTunnel, SA_OUT, saCounters } from './esp';
import { generatorPort, measure, withDataplane } from './measure';
import { BenchOptions, BenchResult } from './scenario';

const LAN_MAC = '02:00:00:00:01:02';
const HOST_MAC = '02:00:00:00:01:01';

export function espEncrypt(opts: BenchOptions): BenchResult {
  const alg = parseAlg(opts.alg ?? DEFAULT_ALG);
  const payload = payloadOf(opts);
  const result = withDataplane(opts, (dp) => {
    const pg0 = generatorPort(dp);
    dp.interfaceSetMac(pg0, LAN_MAC);
    dp.interfaceAddIp4(pg0, '192.168.0.1/24');
    const tunnel = protectedTunnel(dp, dp.loopbackCreate('underlay0'), alg);
    dp.ip4RouteAdd('172.16.0.0/16', [{ swIfIndex: tunnel }]);
    const frame =
      `size=${payload + 14} if=pg0 eth.src=${HOST_MAC} eth.dst=${LAN_MAC} ip4.src=192.168.0.2 ` +
      `ip4.dst=172.16.0.1-172.16.0.255 l4=udp udp.sport=1024 udp.dport=1024`;
    return { ...measure(dp, 'esp-encrypt', opts, frame), sa: saCounters(dp, SA_OUT) };
  });
  return espFigures(result, alg, payload, false, opts);
}
