/* routes/<vrf>/<prefix> -> a FIB entry. A next hop naming its interface
 * needs that interface; a bare next hop needs an address whose network
 * holds it (the dataplane resolves it through that network). */
import { NextHop, RouteInfo, RouteSpec } from '../dataplane/dataplane';
import { ApplyContext, Dependency, Descriptor, RetrieveContext } from '../scheduler/descriptor';
import { RouteConfig, RouteNextHop, sharedHops, validateRoute, validateRouteName } from '../models/route';
import { addressCovers } from './interface';

/* A read-back configured route as validateRoute would have made it. */
function configOf(ctx: RetrieveContext, vrf: number, r: RouteInfo): RouteConfig {
  const nextHops = r.nextHops.map((h) => {
    const hop: RouteNextHop = { weight: h.weight };
    if (h.via !== undefined) hop.via = h.via;
    if (h.swIfIndex !== undefined) hop.interface = ctx.ifName(h.swIfIndex) ?? `#${h.swIfIndex}`;
    return hop;
  });
  const cfg: RouteConfig = { vrf, prefix: r.prefix, nextHops };
  if (r.action) cfg.action = r.action;
  return cfg;
}

function hopsOf(ctx: ApplyContext, v: RouteConfig): NextHop[] {
  return v.nextHops.map((h) => ({
    via: h.via,
    swIfIndex: h.interface === undefined ? undefined : ctx.ifIndex(h.interface),
    weight: h.weight,
  }));
}

export const routeDescriptor: Descriptor<RouteConfig> = {
  name: 'routes',
  validateName: validateRouteName,
  validate: validateRoute,
  share(v) {
    v.nextHops = sharedHops(v.nextHops);
    return v;
  },
  dependencies(_key, v) {
    const deps: Dependency[] = [];
    for (const h of v.nextHops) {
      if (h.interface !== undefined) deps.push(`interfaces/${h.interface}`);
      else
        deps.push({
          label: `an address in VRF ${v.vrf} on the network of ${h.via}`,
          kind: 'interfaces',
          match: (key, value) => key.includes('/address/') && addressCovers(value, v.vrf, h.via!),
        });
    }
    return deps;
  },
  create(ctx, _key, v) {
    ctx.dp.ip4RouteAdd(v.prefix, hopsOf(ctx, v), { vrf: v.vrf, action: v.action });
  },
  /* A document's routes go in by the slice, one dataplane call each (ip4RouteAddMany). */
  createMany(ctx, items) {
    const errors: (unknown | undefined)[] = new Array(items.length).fill(undefined);
    const specs: RouteSpec[] = [];
    const sent: number[] = [];
    items.forEach(({ value: v }, i) => {
      try {
        specs.push({ prefix: v.prefix, nextHops: hopsOf(ctx, v), vrf: v.vrf, action: v.action });
        sent.push(i);
      } catch (e) {
        errors[i] = e;
      }
    });
    ctx.dp.ip4RouteAddMany(specs).forEach((e, k) => (errors[sent[k]!] = e));
    return errors;
  },
  delete: (ctx, _key, v) => ctx.dp.ip4RouteDelete(v.prefix, v.vrf),
  /* Adding over an existing prefix replaces its next hops in one step. */
  update: (ctx, key, _old, v) => routeDescriptor.create(ctx, key, v),
  /* Configured routes only: connected, local and neighbor routes are the
   * dataplane's own, derived from addresses and ARP. */
  retrieve: (ctx) =>
    ctx.dp.ip4Vrfs().flatMap((vrf) =>
      ctx.dp
        .ip4Routes(vrf)
        .filter((r) => r.source === 'configured')
        .map((r) => ({ key: `routes/${vrf}/${r.prefix}`, value: configOf(ctx, vrf, r) })),
    ),
};
