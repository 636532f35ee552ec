/* interfaces/<name> -> the dataplane port, plus interface-address for each
 * of its addresses. */
import { ApplyContext, Dependency, Descriptor, DerivedItem } from '../scheduler/descriptor';
import { ip4Number, maskOf } from '../models/check';
import { DEFAULT_MTU, InterfaceConfig, validateInterface, validateInterfaceName } from '../models/interface';

const nameOf = (key: string) => key.slice('interfaces/'.length);

/* What the port is made of; changing any of it means a new port. */
const identity = (v: InterfaceConfig) => JSON.stringify([v.type, v.hostIf, v.parent, v.vlan, v.vrf, v.mac === undefined]);
const settings = (v: InterfaceConfig) => JSON.stringify([v.mac, v.mtu, v.adminUp]);

function configure(ctx: ApplyContext, sw: number, old: InterfaceConfig | undefined, v: InterfaceConfig): void {
  if (v.mac !== undefined && v.mac !== old?.mac) ctx.dp.interfaceSetMac(sw, v.mac);
  if ((v.mtu ?? DEFAULT_MTU) !== (old?.mtu ?? DEFAULT_MTU)) ctx.dp.interfaceSetMtu(sw, v.mtu ?? DEFAULT_MTU);
  if (v.adminUp !== (old?.adminUp ?? false)) ctx.dp.interfaceSetAdmin(sw, v.adminUp);
}

export const interfaceDescriptor: Descriptor<InterfaceConfig> = {
  name: 'interfaces',
  validateName: validateInterfaceName,
  validate: validateInterface,
  dependencies: (_key, v) => (v.parent !== undefined ? [`interfaces/${v.parent}`] : []),
  derived: (key, v) =>
    v.addresses.map((address): DerivedItem => ({
      key: `${key}/address/${address}`,
      descriptor: 'interface-address',
      value: { interface: nameOf(key), address, vrf: v.vrf } satisfies InterfaceAddress,
    })),
  create(ctx, key, v) {
    const name = nameOf(key);
    let sw: number;
    if (v.type === 'loopback') sw = ctx.dp.loopbackCreate(name);
    else if (v.type === 'tap') sw = ctx.dp.tapCreate(name, v.hostIf!);
    else if (v.type === 'af_packet') sw = ctx.dp.afPacketCreate(name, v.hostIf!);
    else sw = ctx.dp.subInterfaceCreate(ctx.ifIndex(v.parent!), v.vlan!);
    try {
      if (v.vrf !== 0) ctx.dp.interfaceSetVrf(sw, v.vrf);
      configure(ctx, sw, undefined, v);
    } catch (e) {
      ctx.dp.interfaceDelete(sw); /* all or nothing: no half-made port left behind */
      throw e;
    }
  },
  delete: (ctx, key) => ctx.dp.interfaceDelete(ctx.ifIndex(nameOf(key))),
  update: (ctx, key, old, v) => configure(ctx, ctx.ifIndex(nameOf(key)), old, v),
  needsRecreate: (old, v) => identity(old) !== identity(v),
  equivalent: (a, b) => identity(a) === identity(b) && settings(a) === settings(b),
};

export interface InterfaceAddress {
  interface: string;
  address: string;
  vrf: number;
}

/* Does this address's network hold `ip` in `vrf`? (routes over bare next hops) */
export function addressCovers(value: unknown, vrf: number, ip: string): boolean {
  const a = value as InterfaceAddress;
  const [addr, len] = a.address.split('/');
  const mask = maskOf(Number(len));
  return a.vrf === vrf && ((ip4Number(addr!)! & mask) >>> 0) === ((ip4Number(ip)! & mask) >>> 0);
}

export const interfaceAddressDescriptor: Descriptor<InterfaceAddress> = {
  name: 'interface-address',
  dependencies: (_key, v): Dependency[] => [`interfaces/${v.interface}`],
  create: (ctx, _key, v) => ctx.dp.interfaceAddIp4(ctx.ifIndex(v.interface), v.address),
  delete: (ctx, _key, v) => ctx.dp.interfaceDelIp4(ctx.ifIndex(v.interface), v.address),
};
