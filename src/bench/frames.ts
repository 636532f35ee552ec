/* Header bytes for generator templates the pg spec language cannot
 * describe (tunnels: VXLAN, ESP): the scenario builds the frame here and
 * hands it to the generator as data=HEX. */
import { ip4ToNumber } from '../dataplane/dataplane';

export const IP_PROTO_UDP = 17;
export const IP_PROTO_ESP = 50;

export function ethernet(dst: string, src: string, ethertype = 0x0800): Buffer {
  const h = Buffer.from(`${dst}${src}`.replace(/:/g, '') + '0000', 'hex');
  h.writeUInt16BE(ethertype, 12);
  return h;
}

/* A 20-byte IPv4 header (TTL 64, DF clear) with its checksum. */
export function ip4Header(src: string, dst: string, protocol: number, totalLength: number): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt8(0x45, 0);
  h.writeUInt16BE(totalLength, 2);
  h.writeUInt8(64, 8);
  h.writeUInt8(protocol, 9);
  h.writeUInt32BE(ip4ToNumber(src), 12);
  h.writeUInt32BE(ip4ToNumber(dst), 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += h.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  h.writeUInt16BE(~sum & 0xffff, 10);
  return h;
}

/* UDP header with checksum 0 (allowed for IPv4). */
export function udpHeader(sport: number, dport: number, length: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(length, 4);
  return h;
}

/* An IPv4/UDP packet of `length` bytes, the payload an incrementing byte pattern. */
export function udpPacket(src: string, dst: string, sport: number, dport: number, length: number): Buffer {
  const payload = Buffer.alloc(length - 28);
  for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;
  return Buffer.concat([ip4Header(src, dst, IP_PROTO_UDP, length), udpHeader(sport, dport, length - 20), payload]);
}

/* The generator spec for a raw frame; edits as "OFFSET:WIDTH:VALUES". */
export function rawStream(frame: Buffer, ...edits: string[]): string {
  return [`size=${frame.length} if=pg0 data=${frame.toString('hex')}`, ...edits.map((e) => `edit=${e}`)].join(' ');
}
