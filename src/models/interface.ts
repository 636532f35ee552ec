/* interfaces/<name>: a dataplane port and its L3 settings. Its addresses
 * become derived items (interfaces/<name>/address/<cidr>) so routes can
 * depend on one address, and so an address change touches nothing else. */
import { array, bool, cidr, fail, ifName, int, mac, object, tunnelEnds } from './check';

export const INTERFACE_TYPES = ['af_packet', 'tap', 'loopback', 'sub-interface', 'vxlan', 'ipsec'] as const;

/* A VXLAN tunnel (RFC 7348) is an interface: a bridge-domain port, or an
 * L3 interface with addresses and routes, like any other. */
export interface VxlanSettings {
  source: string; /* an address of the box in encapVrf */
  destination: string; /* the remote VTEP */
  vni: number;
  encapVrf: number; /* where the outer packets are routed (default 0) */
  port: number; /* UDP destination port (default 4789) */
}

export const VXLAN_PORT = 4789;

/* A route-based IPsec tunnel: a point-to-point interface whose traffic its
 * protection (ipsec-protections/<name>) encrypts and decrypts. */
export interface IpsecTunnelSettings {
  source: string; /* an address of the box in encapVrf */
  destination: string; /* the peer */
  encapVrf: number;
}

export interface InterfaceConfig {
  type: (typeof INTERFACE_TYPES)[number];
  hostIf?: string; /* af_packet: the Linux interface owned; tap: the one created */
  parent?: string; /* sub-interface: name of the parent; the name is <parent>.<vlan> */
  vlan?: number;
  mac?: string;
  mtu?: number; /* absent: the dataplane's default, 1500 */
  adminUp: boolean; /* default true */
  vrf: number;
  addresses: string[];
  vxlan?: VxlanSettings;
  ipsec?: IpsecTunnelSettings;
}

export const DEFAULT_MTU = 1500;
const FIELDS = ['type', 'hostIf', 'parent', 'vlan', 'mac', 'mtu', 'adminUp', 'vrf', 'addresses', 'vxlan', 'ipsec'];

export function validateInterfaceName(parts: string[], path: string): void {
  if (parts.length !== 1) fail(path, 'key must be interfaces/<name>');
  ifName(parts[0], path);
}

export function validateInterface(v: unknown, path: string, name: string): InterfaceConfig {
  const o = object(v, path, FIELDS);
  const type = o.type as InterfaceConfig['type'];
  if (!INTERFACE_TYPES.includes(type)) fail(`${path}.type`, `must be one of ${INTERFACE_TYPES.join(', ')}`);
  const needsHost = type === 'af_packet' || type === 'tap';
  const isSub = type === 'sub-interface';
  if (!needsHost && o.hostIf !== undefined) fail(`${path}.hostIf`, `not used by type ${type}`);
  if (!isSub && (o.parent !== undefined || o.vlan !== undefined))
    fail(`${path}.${o.parent !== undefined ? 'parent' : 'vlan'}`, `only a sub-interface has one`);
  const cfg: InterfaceConfig = {
    type,
    adminUp: bool(o.adminUp, `${path}.adminUp`, true),
    vrf: int(o.vrf, `${path}.vrf`, 0, 0xfffffffe) ?? 0,
    addresses: addresses(o.addresses, `${path}.addresses`),
  };
  if (needsHost) {
    if (o.hostIf === undefined) fail(`${path}.hostIf`, `required for type ${type}`);
    cfg.hostIf = ifName(o.hostIf, `${path}.hostIf`);
  }
  if (isSub) {
    cfg.parent = ifName(o.parent ?? fail(`${path}.parent`, 'required for a sub-interface'), `${path}.parent`);
    cfg.vlan = int(o.vlan ?? fail(`${path}.vlan`, 'required for a sub-interface'), `${path}.vlan`, 1, 4094);
    if (name !== `${cfg.parent}.${cfg.vlan}`)
      fail(path, `a sub-interface is named <parent>.<vlan>: interfaces/${cfg.parent}.${cfg.vlan}`);
  }
  if (type === 'vxlan') cfg.vxlan = vxlan(o.vxlan ?? fail(`${path}.vxlan`, 'required for type vxlan'), `${path}.vxlan`);
  else if (o.vxlan !== undefined) fail(`${path}.vxlan`, 'only a vxlan interface has one');
  if (type === 'ipsec') cfg.ipsec = ipsecTunnel(o.ipsec ?? fail(`${path}.ipsec`, 'required for type ipsec'), `${path}.ipsec`);
  else if (o.ipsec !== undefined) fail(`${path}.ipsec`, 'only an ipsec interface has one');
  if (o.mac !== undefined) cfg.mac = mac(o.mac, `${path}.mac`);
  if (o.mtu !== undefined) cfg.mtu = int(o.mtu, `${path}.mtu`, 68, 9000);
  return cfg;
}

function addresses(v: unknown, path: string): string[] {
  if (v === undefined) return [];
  const list = array(v, path).map((a, i) => cidr(a, `${path}[${i}]`, false));
  const dup = list.findIndex((a, i) => list.indexOf(a) !== i);
  if (dup >= 0) fail(`${path}[${dup}]`, `${list[dup]} is listed twice`);
  return list;
}

function ipsecTunnel(v: unknown, path: string): IpsecTunnelSettings {
  return tunnelEnds(object(v, path, ['source', 'destination', 'encapVrf']), path);
}

function vxlan(v: unknown, path: string): VxlanSettings {
  const o = object(v, path, ['source', 'destination', 'vni', 'encapVrf', 'port']);
  const { source, destination, encapVrf } = tunnelEnds(o, path);
  return {
    source,
    destination,
    vni: int(o.vni ?? fail(`${path}.vni`, 'required'), `${path}.vni`, 0, 0xffffff)!,
    encapVrf,
    port: int(o.port, `${path}.port`, 1, 65535) ?? VXLAN_PORT,
  };
}
