/* neighbors/<interface>/<address>: a static ARP entry. */
import { fail, ifName, ip4, mac, object, sameAsKey } from './check';

export interface NeighborConfig {
  interface: string;
  address: string;
  mac: string;
}

export function validateNeighborName(parts: string[], path: string): void {
  if (parts.length !== 2) fail(path, 'key must be neighbors/<interface>/<a.b.c.d>');
  ifName(parts[0], path);
  ip4(parts[1], path);
}

export function validateNeighbor(v: unknown, path: string, name: string): NeighborConfig {
  const o = object(v, path, ['interface', 'address', 'mac']);
  const [itf, address] = name.split('/');
  if (o.mac === undefined) fail(`${path}.mac`, 'required');
  return {
    interface: sameAsKey(o.interface, `${path}.interface`, itf!),
    address: sameAsKey(o.address, `${path}.address`, address!),
    mac: mac(o.mac, `${path}.mac`),
  };
}
