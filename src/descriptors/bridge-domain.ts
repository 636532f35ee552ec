/* bridge-domains/<id> -> the domain, plus bridge-port for each port. */
import { Descriptor } from '../scheduler/descriptor';
import { BridgeDomainConfig, BridgePort, validateBridgeDomain, validateBridgeDomainName } from '../models/bridge-domain';

function options(v: BridgeDomainConfig): string {
  const o = [`learn=${+v.learn}`, `flood=${+v.flood}`, `uu-flood=${+v.uuFlood}`];
  if (v.macAge !== undefined) o.push(`mac-age=${v.macAge}`);
  if (v.macLimit !== undefined) o.push(`mac-limit=${v.macLimit}`);
  return o.join(' ');
}

const withoutPorts = ({ ports: _ports, ...rest }: BridgeDomainConfig) => JSON.stringify(rest);

/* The dataplane has no "modify domain": any change re-creates it, ports
 * first out and back in (the scheduler cascades that). */
export const bridgeDomainDescriptor: Descriptor<BridgeDomainConfig> = {
  name: 'bridge-domains',
  validateName: validateBridgeDomainName,
  validate: validateBridgeDomain,
  derived: (key, v) =>
    v.ports.map((p) => ({ key: `${key}/port/${p.interface}`, descriptor: 'bridge-port', value: { bd: v.id, ...p } })),
  create: (ctx, _key, v) => ctx.dp.bridgeDomainAdd(v.id, options(v)),
  delete: (ctx, _key, v) => ctx.dp.bridgeDomainDelete(v.id),
  equivalent: (a, b) => withoutPorts(a) === withoutPorts(b),
};

export type BridgePortItem = BridgePort & { bd: number };

export const bridgePortDescriptor: Descriptor<BridgePortItem> = {
  name: 'bridge-port',
  dependencies: (_key, v) => [`bridge-domains/${v.bd}`, `interfaces/${v.interface}`],
  create: (ctx, _key, v) => ctx.dp.bridgePortSet(ctx.ifIndex(v.interface), v.bd, { shg: v.shg, bvi: v.bvi }),
  delete: (ctx, _key, v) => ctx.dp.bridgePortSet(ctx.ifIndex(v.interface), null),
};
