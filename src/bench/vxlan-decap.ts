/* vxlan-decap: the generator sends what a remote VTEP would, VXLAN frames
 * (114 bytes: outer Ethernet, IPv4, UDP to 4789, VXLAN, and a 64-byte inner
 * frame) to the box's VTEP on the underlay port; they are decapsulated into
 * the bridge domain and bridged to its other port, a sink. The outer UDP
 * source port takes every value of 49152..65535 in turn, as a VTEP's flow
 * hash spreads them. The pg spec language has no tunnel headers, so the
 * frame is a raw template (data=HEX) built here, and the edit varies the
 * port (the outer UDP checksum is 0: nothing to fix up). Path: pg ->
 * ethernet-input -> ip4-input -> ip4-lookup -> ip4-local -> vxlan-input ->
 * ethernet-input -> l2-input -> l2-learn -> l2-fwd -> l2-output ->
 * interface-output -> the sink's tx. */
import { ip4ToNumber } from '../dataplane/dataplane';
import { measure, withDataplane } from './measure';
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
  generatorPort,
  tunnelBridge,
} from './vxlan-tunnel';

const INNER_SIZE = 64;
const OUTER_UDP_SPORT = 14 + 20; /* offset of the outer UDP source port */

function ethernet(dst: string, src: string): Buffer {
  return Buffer.from(`${dst}${src}0800`.replace(/:/g, ''), 'hex');
}

/* A 20-byte IPv4 header (UDP, TTL 64) with its checksum. */
function ip4(src: string, dst: string, totalLength: number): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt8(0x45, 0);
  h.writeUInt16BE(totalLength, 2);
  h.writeUInt8(64, 8);
  h.writeUInt8(17, 9);
  h.writeUInt32BE(ip4ToNumber(src), 12);
  h.writeUInt32BE(ip4ToNumber(dst), 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += h.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  h.writeUInt16BE(~sum & 0xffff, 10);
  return h;
}

/* UDP header with checksum 0 (allowed for IPv4, and what VTEPs send). */
function udp(sport: number, dport: number, length: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(length, 4);
  return h;
}

/* The remote host's 64-byte frame to the local host, in VXLAN from the remote VTEP. */
export function vxlanFrame(): Buffer {
  const innerIp = INNER_SIZE - 14;
  const inner = Buffer.concat([
    ethernet(LOCAL_HOST_MAC, REMOTE_HOST_MAC),
    ip4('192.168.1.2', '192.168.1.1', innerIp),
    udp(5000, 1024, innerIp - 20),
    Buffer.alloc(innerIp - 28),
  ]);
  const vxlan = Buffer.alloc(8);
  vxlan.writeUInt8(0x08, 0); /* I flag: the VNI is valid */
  vxlan.writeUInt32BE(VNI << 8, 4);
  const outerIp = 20 + 8 + 8 + inner.length;
  return Buffer.concat([
    ethernet(UNDERLAY_MAC, REMOTE_MAC),
    ip4(REMOTE_VTEP, LOCAL_VTEP, outerIp),
    udp(49152, 4789, outerIp - 20),
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
    const frame = vxlanFrame();
    const spec = `size=${frame.length} if=pg0 data=${frame.toString('hex')} edit=${OUTER_UDP_SPORT}:2:49152-65535`;
    return measure(dp, 'vxlan-decap', opts, spec);
  });
}
