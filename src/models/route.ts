/* routes/<vrf>/<prefix>: a static IPv4 route, ECMP next hops or a drop. */
import { array, cidr, fail, ifName, int, ip4, object, sameAsKey } from './check';

export interface RouteNextHop {
  via?: string;
  interface?: string;
  weight: number;
}

export interface RouteConfig {
  vrf: number;
  prefix: string;
  nextHops: RouteNextHop[];
  action?: 'drop' | 'prohibit';
}

export const MAX_NEXT_HOPS = 64; /* VG_LB_MAX_BUCKETS */

export function validateRouteName(parts: string[], path: string): void {
  if (parts.length !== 3 || !/^\d{1,10}$/.test(parts[0]!) || Number(parts[0]) > 0xfffffffe)
    fail(path, 'key must be routes/<vrf>/<a.b.c.d>/<len>');
  cidr(`${parts[1]}/${parts[2]}`, path, true);
}

export function validateRoute(v: unknown, path: string, name: string): RouteConfig {
  const o = object(v, path, ['vrf', 'prefix', 'nextHops', 'action']);
  const [vrfText, addr, len] = name.split('/');
  const cfg: RouteConfig = {
    vrf: sameAsKey(o.vrf, `${path}.vrf`, Number(vrfText)),
    prefix: sameAsKey(o.prefix, `${path}.prefix`, `${addr}/${len}`),
    nextHops: o.nextHops === undefined ? [] : sharedHops(array(o.nextHops, `${path}.nextHops`).map((h, i) => nextHop(h, `${path}.nextHops[${i}]`))),
  };
  if (o.action !== undefined) {
    if (o.action !== 'drop' && o.action !== 'prohibit') fail(`${path}.action`, 'must be drop or prohibit');
    if (cfg.nextHops.length) fail(`${path}.action`, 'a route has next hops or an action, not both');
    cfg.action = o.action;
  } else if (!cfg.nextHops.length) fail(`${path}.nextHops`, 'give at least one next hop, or an action');
  if (cfg.nextHops.length > MAX_NEXT_HOPS) fail(`${path}.nextHops`, `at most ${MAX_NEXT_HOPS} next hops`);
  return cfg;
}

/* Thousands of routes go over the same few next hops: they share one
 * frozen list (values are never changed once validated), which keeps a
 * large table's memory to its keys. Bounded: an old document's lists go. */
const hopLists = new Map<string, RouteNextHop[]>();
const MAX_HOP_LISTS = 4096;

export function sharedHops(hops: RouteNextHop[]): RouteNextHop[] {
  if (!hops.length) return hops;
  const id = hops.map((h) => `${h.via ?? ''} ${h.interface ?? ''} ${h.weight}`).join(',');
  const known = hopLists.get(id);
  if (known) return known;
  if (hopLists.size >= MAX_HOP_LISTS) hopLists.clear();
  for (const h of hops) Object.freeze(h);
  hopLists.set(id, Object.freeze(hops) as RouteNextHop[]);
  return hops;
}

function nextHop(v: unknown, path: string): RouteNextHop {
  const o = object(v, path, ['via', 'interface', 'weight']);
  if (o.via === undefined && o.interface === undefined) fail(path, 'a next hop needs via, interface or both');
  const h: RouteNextHop = { weight: int(o.weight, `${path}.weight`, 1, 255) ?? 1 };
  if (o.via !== undefined) h.via = ip4(o.via, `${path}.via`);
  if (o.interface !== undefined) h.interface = ifName(o.interface, `${path}.interface`);
  return h;
}
