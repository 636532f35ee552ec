/* bridge-domains/<id> -> the domain, plus bridge-port for each port. */
import { BridgeDomainInfo } from '../dataplane/dataplane';
import { Descriptor, RetrieveContext } from '../scheduler/descriptor';
import { BridgeDomainConfig, BridgePort, validateBridgeDomain, validateBridgeDomainName } from '../models/bridge-domain';

/* What the dataplane takes when macAge or macLimit is left out (vecgate.h). */
const DEFAULT_MAC_AGE = 300;
const DEFAULT_MAC_LIMIT = 65536;

function options(v: BridgeDomainConfig): string {
  const o = [`learn=${+v.learn}`, `flood=${+v.flood}`, `uu-flood=${+v.uuFlood}`];
  if (v.macAge !== undefined) o.push(`mac-age=${v.macAge}`);
  if (v.macLimit !== undefined) o.push(`mac-limit=${v.macLimit}`);
  return o.join(' ');
}

/* The settings as the dataplane runs them: a default left out is the default. */
const settings = (v: BridgeDomainConfig) =>
  JSON.stringify([v.learn, v.flood, v.uuFlood, v.macAge ?? DEFAULT_MAC_AGE, v.macLimit ?? DEFAULT_MAC_LIMIT]);

/* The ports of a read-back domain on interfaces the agent owns. */
function portsOf(ctx: RetrieveContext, bd: BridgeDomainInfo): BridgePort[] {
  return bd.ports.flatMap((p) => {
    const name = ctx.ifName(p.swIfIndex);
    return name !== undefined && ctx.managed(name) ? [{ interface: name, shg: p.shg, bvi: p.bvi }] : [];
  });
}

/* A read-back domain as validateBridgeDomain would have made it. */
function configOf(ctx: RetrieveContext, bd: BridgeDomainInfo): BridgeDomainConfig {
  const cfg: BridgeDomainConfig = { id: bd.bdId, learn: bd.learn, flood: bd.flood, uuFlood: bd.uuFlood, ports: portsOf(ctx, bd) };
  if (bd.macAge !== DEFAULT_MAC_AGE) cfg.macAge = bd.macAge;
  if (bd.macLimit !== DEFAULT_MAC_LIMIT) cfg.macLimit = bd.macLimit;
  return cfg;
}

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
  /* Ports are compared as their own items. */
  equivalent: (a, b) => a.id === b.id && settings(a) === settings(b),
  retrieve: (ctx) => ctx.dp.bridgeDomainTable().map((bd) => ({ key: `bridge-domains/${bd.bdId}`, value: configOf(ctx, bd) })),
};

export type BridgePortItem = BridgePort & { bd: number };

export const bridgePortDescriptor: Descriptor<BridgePortItem> = {
  name: 'bridge-port',
  dependencies: (_key, v) => [`bridge-domains/${v.bd}`, `interfaces/${v.interface}`],
  create: (ctx, _key, v) => ctx.dp.bridgePortSet(ctx.ifIndex(v.interface), v.bd, { shg: v.shg, bvi: v.bvi }),
  delete: (ctx, _key, v) => ctx.dp.bridgePortSet(ctx.ifIndex(v.interface), null),
  retrieve: (ctx) =>
    ctx.dp.bridgeDomainTable().flatMap((bd) =>
      portsOf(ctx, bd).map((p) => ({ key: `bridge-domains/${bd.bdId}/port/${p.interface}`, value: { bd: bd.bdId, ...p } })),
    ),
};
