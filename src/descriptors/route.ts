/* routes/<vrf>/<prefix> -> a FIB entry. A next hop naming its interface
 * needs that interface; a bare next hop needs an address whose network
 * holds it (the dataplane resolves it through that network). */
import { Dependency, Descriptor } from '../scheduler/descriptor';
import { RouteConfig, validateRoute, validateRouteName } from '../models/route';
import { addressCovers } from './interface';

export const routeDescriptor: Descriptor<RouteConfig> = {
  name: 'routes',
  validateName: validateRouteName,
  validate: validateRoute,
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
    const hops = v.nextHops.map((h) => ({
      via: h.via,
      swIfIndex: h.interface === undefined ? undefined : ctx.ifIndex(h.interface),
      weight: h.weight,
    }));
    ctx.dp.ip4RouteAdd(v.prefix, hops, { vrf: v.vrf, action: v.action });
  },
  delete: (ctx, _key, v) => ctx.dp.ip4RouteDelete(v.prefix, v.vrf),
  /* Adding over an existing prefix replaces its next hops in one step. */
  update: (ctx, key, _old, v) => routeDescriptor.create(ctx, key, v),
};
