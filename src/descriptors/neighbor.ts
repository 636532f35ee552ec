/* neighbors/<interface>/<address> -> a static ARP entry. */
import { Descriptor } from '../scheduler/descriptor';
import { NeighborConfig, validateNeighbor, validateNeighborName } from '../models/neighbor';

export const neighborDescriptor: Descriptor<NeighborConfig> = {
  name: 'neighbors',
  validateName: validateNeighborName,
  validate: validateNeighbor,
  dependencies: (_key, v) => [`interfaces/${v.interface}`],
  create: (ctx, _key, v) => ctx.dp.ip4NeighborAdd(ctx.ifIndex(v.interface), v.address, v.mac),
  delete: (ctx, _key, v) => ctx.dp.ip4NeighborDelete(ctx.ifIndex(v.interface), v.address),
  /* Static entries only: learned ones are ARP's. */
  retrieve: (ctx) =>
    ctx.dp.ip4NeighborTable().flatMap((n) => {
      const itf = ctx.ifName(n.swIfIndex);
      if (!n.isStatic || itf === undefined || !ctx.managed(itf)) return [];
      const value: NeighborConfig = { interface: itf, address: n.address, mac: n.mac };
      return [{ key: `neighbors/${itf}/${n.address}`, value }];
    }),
};
