/* Reads a NUL-terminated C string that the C side wrote into a Buffer. */
export function cString(buf: Buffer, limit = buf.length): string {
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end >= 0 && end < limit ? end : limit);
}
