/* bridge-domains/<id>: an L2 domain. Each port becomes a derived item
 * (bridge-domains/<id>/port/<interface>) that needs both the domain and the
 * interface, so ports go in after both and come out before either. */
import { array, bool, fail, ifName, int, object, sameAsKey } from './check';

export interface BridgePort {
  interface: string;
  shg: number; /* split-horizon group 0..255 */
  bvi: boolean; /* the domain's routed port: a loopback, one per domain */
}

export interface BridgeDomainConfig {
  id: number;
  learn: boolean;
  flood: boolean;
  uuFlood: boolean;
  macAge?: number; /* seconds; absent: the dataplane's default */
  macLimit?: number;
  ports: BridgePort[];
}

/* `id` may repeat the key, as validated values do (they are persisted as documents). */
const FIELDS = ['id', 'learn', 'flood', 'uuFlood', 'macAge', 'macLimit', 'ports'];

export function validateBridgeDomainName(parts: string[], path: string): void {
  if (parts.length !== 1 || !/^\d{1,10}$/.test(parts[0]!) || Number(parts[0]) > 0xfffffffe)
    fail(path, 'key must be bridge-domains/<id 0..4294967294>');
}

export function validateBridgeDomain(v: unknown, path: string, name: string): BridgeDomainConfig {
  const o = object(v, path, FIELDS);
  const ports = o.ports === undefined ? [] : array(o.ports, `${path}.ports`).map((p, i) => port(p, `${path}.ports[${i}]`));
  ports.forEach((p, i) => {
    if (ports.findIndex((q) => q.interface === p.interface) !== i) fail(`${path}.ports[${i}].interface`, `${p.interface} is listed twice`);
    if (p.bvi && ports.findIndex((q) => q.bvi) !== i) fail(`${path}.ports[${i}].bvi`, 'a domain has at most one BVI');
  });
  const cfg: BridgeDomainConfig = {
    id: sameAsKey(o.id, `${path}.id`, Number(name)),
    learn: bool(o.learn, `${path}.learn`, true),
    flood: bool(o.flood, `${path}.flood`, true),
    uuFlood: bool(o.uuFlood, `${path}.uuFlood`, true),
    ports,
  };
  if (o.macAge !== undefined) cfg.macAge = int(o.macAge, `${path}.macAge`, 0, 86400 * 365);
  if (o.macLimit !== undefined) cfg.macLimit = int(o.macLimit, `${path}.macLimit`, 1, 16_000_000);
  return cfg;
}

function port(v: unknown, path: string): BridgePort {
  const o = object(v, path, ['interface', 'shg', 'bvi']);
  return {
    interface: ifName(o.interface, `${path}.interface`),
    shg: int(o.shg, `${path}.shg`, 0, 255) ?? 0,
    bvi: bool(o.bvi, `${path}.bvi`, false),
  };
}
