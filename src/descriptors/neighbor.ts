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
};
