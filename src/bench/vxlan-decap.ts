/* vxlan-decap: the generator sends what a remote VTEP would, VXLAN frames
 * (114 bytes: outer Ethernet, IPv4, UDP to 4789, VXLAN, and a 64-byte inner
 * frame) to the box's VTEP on the underlay port; they are decapsulated into
 * the bridge domain and bridged to its other port, a sink. The outer UDP
 * source port takes every value of 49152..65535 in turn, as a VTEP's flow
 * hash spreads them. The pg spec language has no tunnel headers, so the
 * frame is a raw template (data=HEX, see frames.ts), and the edit varies the
 * port (the outer UDP checksum is 0: nothing to fix up). Path: pg ->
 * ethernet-input -> ip4-input -> ip4-lookup -> ip4-local -> vxlan-input ->
 * ethernet-input -> l2-input -> l2-learn -> l2-fwd -> l2-output ->
 * interface-output -> the sink's tx. */
import { ethernet, ip4Header, IP_PROTO_UDP, rawStream, udpHeader, udpPacket } from './frames';
import { generatorPort, measure, withDataplane } from './measure';
import { BenchOptions, BenchResult } from './scenario';
import {
  BD,
  LOCAL_HOST_MAC,
  LOCAL_VTEP,
  REMOTE_HOST_MAC,
  REMOTE_MAC,
  REMOTE_VTEP,
  UNDERLAY_MAC,
  VNI,
  tunnelBridge,
} from './vxlan-tunnel';

const INNER_SIZE = 64;
const OUTER_UDP_SPORT = 14 + 20; /* offset of the outer UDP source port */

/* The remote host's 64-byte frame to the local host, in VXLAN from the remote VTEP. */
function vxlanFrame(): Buffer {
  const inner = Buffer.concat([ethernet(LOCAL_HOST_MAC, REMOTE_HOST_MAC), udpPacket('192.168.1.2', '192.168.1.1', 5000, 1024, INNER_SIZE - 14)]);
  const vxlan = Buffer.alloc(8);
  vxlan.writeUInt8(0x08, 0); /* I flag: the VNI is valid */
  vxlan.writeUInt32BE(VNI << 8, 4);
  const outerIp = 20 + 8 + 8 + inner.length;
  return Buffer.concat([
    ethernet(UNDERLAY_MAC, REMOTE_MAC),
    ip4Header(REMOTE_VTEP, LOCAL_VTEP, IP_PROTO_UDP, outerIp),
    udpHeader(49152, 4789, outerIp - 20),
    vxlan,
    inner,
  ]);
}

export function vxlanDecap(opts: BenchOptions): BenchResult {
  return withDataplane(opts, (dp) => {
    const pg0 = generatorPort(dp);
    const sink = dp.loopbackCreate('lan0');
    tunnelBridge(dp, pg0, sink);
    dp.l2fibAdd(BD, LOCAL_HOST_MAC, sink);
    return measure(dp, 'vxlan-decap', opts, rawStream(vxlanFrame(), `${OUTER_UDP_SPORT}:2:49152-65535`));
  });
}
