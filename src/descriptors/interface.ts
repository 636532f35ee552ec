/* interfaces/<name> -> the dataplane port, plus interface-address for each
 * of its addresses. */
import { InterfaceInfo } from '../dataplane/dataplane';
import { ApplyContext, Dependency, Descriptor, DerivedItem, RetrieveContext, RetrievedItem } from '../scheduler/descriptor';
import { ip4Number, maskOf } from '../models/check';
import { DEFAULT_MTU, InterfaceConfig, IpsecTunnelSettings, validateInterface, validateInterfaceName, VxlanSettings } from '../models/interface';

const nameOf = (key: string) => key.slice('interfaces/'.length);

/* What the port is made of; changing any of it means a new port. */
const identity = (v: InterfaceConfig) => JSON.stringify([v.type, v.hostIf, v.parent, v.vlan, v.vrf, v.mac === undefined, v.vxlan, v.ipsec]);
const settings = (v: InterfaceConfig) => JSON.stringify([v.mac, v.mtu ?? DEFAULT_MTU, v.adminUp]);

function configure(ctx: ApplyContext, sw: number, old: InterfaceConfig | undefined, v: InterfaceConfig): void {
  if (v.mac !== undefined && v.mac !== old?.mac) ctx.dp.interfaceSetMac(sw, v.mac);
  if ((v.mtu ?? DEFAULT_MTU) !== (old?.mtu ?? DEFAULT_MTU)) ctx.dp.interfaceSetMtu(sw, v.mtu ?? DEFAULT_MTU);
  /* Said on create whatever the device's default (a port set down stayed up before). */
  if (old === undefined || v.adminUp !== old.adminUp) ctx.dp.interfaceSetAdmin(sw, v.adminUp);
}

/* The dataplane's type names for the model's; other types (the board's
 * pcap and pg ports) are none the agent makes, so never read back. */
const TYPE_OF: Record<string, InterfaceConfig['type']> = { af_packet: 'af_packet', tap: 'tap', loopback: 'loopback', sub: 'sub-interface', vxlan: 'vxlan', ipsec: 'ipsec' };

/* A read-back interface as validateInterface would have made it (same
 * fields, same order); a default MTU or MAC is left out, as a document does. */
function configOf(ctx: RetrieveContext, i: InterfaceInfo, type: InterfaceConfig['type'], addresses: string[], tunnels: Tunnels): InterfaceConfig {
  const cfg: InterfaceConfig = { type, adminUp: i.adminUp, vrf: i.vrf, addresses };
  if (type === 'vxlan') cfg.vxlan = tunnels.vxlan.get(i.swIfIndex);
  if (type === 'ipsec') cfg.ipsec = tunnels.ipsec.get(i.swIfIndex);
  if (type === 'af_packet' || type === 'tap') cfg.hostIf = i.hostIf ?? '';
  if (type === 'sub-interface') {
    cfg.parent = ctx.ifName(i.parent!) ?? `#${i.parent}`;
    cfg.vlan = i.vlan;
  }
  if (i.macSet) cfg.mac = i.mac;
  if (i.mtu !== DEFAULT_MTU) cfg.mtu = i.mtu;
  return cfg;
}

interface Tunnels {
  vxlan: Map<number, VxlanSettings>;
  ipsec: Map<number, IpsecTunnelSettings>;
}

function tunnels(ctx: RetrieveContext): Tunnels {
  return {
    vxlan: new Map(ctx.dp.vxlanTunnels().map((t) => [t.swIfIndex, { source: t.src, destination: t.dst, vni: t.vni, encapVrf: t.encapVrf, port: t.dport }])),
    ipsec: new Map(ctx.dp.ipsecTunnels().map((t) => [t.swIfIndex, { source: t.src, destination: t.dst, encapVrf: t.vrf }])),
  };
}

/* A tunnel's outer packets leave from its source address: it waits for that address in its VRF. */
function sourceAddress(t: { source: string; encapVrf: number }): Dependency {
  return {
    label: `the address ${t.source} in VRF ${t.encapVrf} (the tunnel's source)`,
    kind: 'interfaces',
    match: (key, value) => key.includes('/address/') && (value as InterfaceAddress).vrf === t.encapVrf && (value as InterfaceAddress).address.split('/')[0] === t.source,
  };
}

function addressesBySwIfIndex(ctx: RetrieveContext): Map<number, string[]> {
  const by = new Map<number, string[]>();
  for (const a of ctx.dp.ip4Addresses()) (by.get(a.swIfIndex) ?? by.set(a.swIfIndex, []).get(a.swIfIndex)!).push(a.address);
  return by;
}

export const interfaceDescriptor: Descriptor<InterfaceConfig> = {
  name: 'interfaces',
  validateName: validateInterfaceName,
  validate: validateInterface,
  dependencies: (_key, v) => {
    const tunnel = v.vxlan ?? v.ipsec;
    return v.parent !== undefined ? [`interfaces/${v.parent}`] : tunnel ? [sourceAddress(tunnel)] : [];
  },
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
    else if (v.type === 'vxlan') {
      const t = v.vxlan!;
      sw = ctx.dp.vxlanTunnelAdd(name, { src: t.source, dst: t.destination, vni: t.vni, encapVrf: t.encapVrf, dport: t.port });
    } else if (v.type === 'ipsec') sw = ctx.dp.ipsecTunnelAdd(name, v.ipsec!.source, v.ipsec!.destination, v.ipsec!.encapVrf);
    else sw = ctx.dp.subInterfaceCreate(ctx.ifIndex(v.parent!), v.vlan!);
    try {
      if (v.vrf !== 0) ctx.dp.interfaceSetVrf(sw, v.vrf);
      configure(ctx, sw, undefined, v);
    } catch (e) {
      ctx.dp.interfaceDelete(sw); /* all or nothing: no half-made port left behind */
      throw e;
    }
  },
  delete(ctx, key, v) {
    const sw = ctx.ifIndex(nameOf(key));
    if (v.type === 'vxlan') ctx.dp.vxlanTunnelDelete(sw);
    else if (v.type === 'ipsec') ctx.dp.ipsecTunnelDelete(sw);
    else ctx.dp.interfaceDelete(sw);
  },
  update: (ctx, key, old, v) => configure(ctx, ctx.ifIndex(nameOf(key)), old, v),
  needsRecreate: (old, v) => identity(old) !== identity(v),
  equivalent: (a, b) => identity(a) === identity(b) && settings(a) === settings(b),
  retrieve(ctx) {
    const addresses = addressesBySwIfIndex(ctx);
    const known = tunnels(ctx);
    const items: RetrievedItem<InterfaceConfig>[] = [];
    for (const i of ctx.interfaces) {
      const type = TYPE_OF[i.type];
      if (type) items.push({ key: `interfaces/${i.name}`, value: configOf(ctx, i, type, addresses.get(i.swIfIndex) ?? [], known) });
    }
    return items;
  },
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
  /* Only on interfaces the agent owns: a board port's addresses are the board's. */
  retrieve(ctx) {
    const owned = new Map(ctx.interfaces.filter((i) => TYPE_OF[i.type]).map((i) => [i.swIfIndex, i]));
    return ctx.dp.ip4Addresses().flatMap(({ swIfIndex, address }) => {
      const i = owned.get(swIfIndex);
      if (!i) return [];
      const value: InterfaceAddress = { interface: i.name, address, vrf: i.vrf };
      return [{ key: `interfaces/${i.name}/address/${address}`, value }];
    });
  },
};
