/* vxlan-encap: 64-byte frames from the generator port cross a bridge domain
 * to its other port, a VXLAN tunnel, and leave encapsulated (114 bytes) by
 * the underlay sink port. This is how FD.io CSIT measures VPP's VXLAN
 * encapsulation (l2bdbasemaclrn over vxlan: an L2 bridge with a tunnel as a
 * port), rather than a route into a tunnel. The destination MAC is a static
 * entry behind the tunnel; the inner UDP source port takes 1,024 values, so
 * the outer source port (a hash of the inner flow) varies as it would.
 * Path: pg -> ethernet-input -> l2-input -> l2-learn -> l2-fwd -> l2-output
 * -> interface-output (the tunnel) -> vxlan-encap -> ip4-lookup ->
 * ip4-rewrite -> interface-output -> the sink's tx. */
import { generatorPort, measure, withDataplane } from './measure';
import { BenchOptions, BenchResult } from './scenario';
import { BD, LOCAL_HOST_MAC, REMOTE_HOST_MAC, tunnelBridge } from './vxlan-tunnel';

const FRAME =
  `size=64 if=pg0 eth.src=${LOCAL_HOST_MAC} eth.dst=${REMOTE_HOST_MAC} ip4.src=192.168.1.1 ` +
  `ip4.dst=192.168.1.2 l4=udp udp.sport=1024-2047 udp.dport=5000`;

export function vxlanEncap(opts: BenchOptions): BenchResult {
  return withDataplane(opts, (dp) => {
    const pg0 = generatorPort(dp);
    const sink = dp.loopbackCreate('underlay0');
    const tunnel = tunnelBridge(dp, sink, pg0);
    dp.l2fibAdd(BD, REMOTE_HOST_MAC, tunnel);
    return measure(dp, 'vxlan-encap', opts, FRAME);
  });
}
