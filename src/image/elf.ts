/* Just enough ELF to check a binary's machine and list its DT_NEEDED
 * libraries: 64-bit little-endian only, which every image target is. */
import * as fs from 'node:fs';

import { VecgateError } from '../errors';

const SHT_DYNAMIC = 6;
const DT_NEEDED = 1;

export interface ElfInfo {
  machine: number;
  needed: string[];
}

export function isElf(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    return fs.readSync(fd, head, 0, 4, 0) === 4 && head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    fs.closeSync(fd);
  }
}

export function readElf(file: string): ElfInfo {
  const b = fs.readFileSync(file);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46) throw new VecgateError('ELF_INVALID', `${file} is not an ELF file`);
  if (b[4] !== 2 || b[5] !== 1) throw new VecgateError('ELF_INVALID', `${file} is not a 64-bit little-endian ELF file`);
  const machine = b.readUInt16LE(18);
  const shoff = Number(b.readBigUInt64LE(40));
  const shentsize = b.readUInt16LE(58);
  const shnum = b.readUInt16LE(60);
  const section = (i: number) => {
    const o = shoff + i * shentsize;
    return { type: b.readUInt32LE(o + 4), offset: Number(b.readBigUInt64LE(o + 24)), size: Number(b.readBigUInt64LE(o + 32)), link: b.readUInt32LE(o + 40) };
  };
  const needed: string[] = [];
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (s.type !== SHT_DYNAMIC) continue;
    const strtab = section(s.link);
    for (let o = s.offset; o + 16 <= s.offset + s.size; o += 16) {
      const tag = b.readBigInt64LE(o);
      if (tag === 0n) break;
      if (tag !== BigInt(DT_NEEDED)) continue;
      const start = strtab.offset + Number(b.readBigUInt64LE(o + 8));
      needed.push(b.toString('latin1', start, b.indexOf(0, start)));
    }
  }
  return { machine, needed };
}
