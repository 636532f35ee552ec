/* ipsec-sas/<id>, ipsec-protections/<interface>, ipsec-spds/<id> -> the
 * dataplane's SAs, tunnel protection and SPDs. An SA is never changed in
 * place (its keys and sequence numbers belong together): a changed SA is a
 * new one, and what uses it is re-made on it. */
import { Dataplane } from '../dataplane/dataplane';
import { IpsecPolicySpec, IpsecSaInfo, IpsecSaSpec } from '../dataplane/ipsec';
import {
  ANY_ADDRESS,
  ANY_PORT,
  IpsecPolicy,
  IpsecProtectionConfig,
  IpsecSaConfig,
  IpsecSpdConfig,
  validateProtection,
  validateProtectionName,
  validateSa,
  validateSaId,
  validateSpd,
  validateSpdName,
} from '../models/ipsec';
import { NAT_T_PORT } from '../net/esp';
import { Descriptor } from '../scheduler/descriptor';

const idOf = (key: string) => Number(key.slice(key.lastIndexOf('/') + 1));
const saKey = (id: number) => `ipsec-sas/${id}`;

export function saSpec(v: IpsecSaConfig): IpsecSaSpec {
  return {
    spi: v.spi,
    inbound: v.direction === 'inbound',
    tunnel: v.mode === 'tunnel',
    esn: v.esn,
    antiReplay: v.antiReplay,
    udpEncap: v.udpEncap !== undefined,
    crypto: v.crypto,
    cryptoKey: v.cryptoKey,
    integrity: v.integrity,
    integrityKey: v.integrityKey,
    tunnelSrc: v.tunnel?.source,
    tunnelDst: v.tunnel?.destination,
    vrf: v.tunnel?.encapVrf ?? 0,
    udpSport: v.udpEncap?.sourcePort,
    udpDport: v.udpEncap?.destinationPort,
    replayWindow: v.antiReplay ? v.replayWindow : 0,
  };
}

/* An SA read back, as validateSa makes it (same fields, same order). */
function saConfigOf(i: IpsecSaInfo): IpsecSaConfig {
  const cfg: IpsecSaConfig = {
    spi: i.spi,
    direction: i.inbound ? 'inbound' : 'outbound',
    mode: i.tunnel ? 'tunnel' : 'transport',
    crypto: i.crypto,
    cryptoKey: i.cryptoKey,
    integrity: i.integrity,
    esn: i.esn ?? false,
    antiReplay: i.antiReplay ?? false,
    replayWindow: i.replayWindow!,
  };
  if (i.integrityKey !== undefined) cfg.integrityKey = i.integrityKey;
  if (i.tunnel) cfg.tunnel = { source: i.tunnelSrc ?? '0.0.0.0', destination: i.tunnelDst ?? '0.0.0.0', encapVrf: i.vrf ?? 0 };
  if (i.udpEncap) cfg.udpEncap = { sourcePort: i.udpSport || NAT_T_PORT, destinationPort: i.udpDport || NAT_T_PORT };
  return cfg;
}

/* The replay window means nothing without anti-replay: left out of the comparison. */
const comparableSa = (v: IpsecSaConfig) => JSON.stringify({ ...v, replayWindow: v.antiReplay ? v.replayWindow : 0 });

export const ipsecSaDescriptor: Descriptor<IpsecSaConfig> = {
  name: 'ipsec-sas',
  validateName: validateSaId,
  validate: (v, path) => validateSa(v, path),
  create: (ctx, key, v) => ctx.dp.ipsecSaAdd(idOf(key), saSpec(v)),
  delete: (ctx, key) => ctx.dp.ipsecSaDelete(idOf(key)),
  equivalent: (a, b) => comparableSa(a) === comparableSa(b),
  retrieve: (ctx) => ctx.dp.ipsecSas().map((i) => ({ key: saKey(i.saId), value: saConfigOf(i) })),
};

export const ipsecProtectionDescriptor: Descriptor<IpsecProtectionConfig> = {
  name: 'ipsec-protections',
  validateName: validateProtectionName,
  validate: validateProtection,
  dependencies: (_key, v) => [`interfaces/${v.interface}`, saKey(v.outboundSa), ...v.inboundSas.map(saKey)],
  create: (ctx, _key, v) => ctx.dp.ipsecTunnelProtect(ctx.ifIndex(v.interface), v.outboundSa, v.inboundSas),
  /* A rekey: the new SAs replace the old in one call, no packet unprotected. */
  update: (ctx, _key, _old, v) => ctx.dp.ipsecTunnelProtect(ctx.ifIndex(v.interface), v.outboundSa, v.inboundSas),
  delete: (ctx, _key, v) => ctx.dp.ipsecTunnelUnprotect(ctx.ifIndex(v.interface)),
  retrieve: (ctx) =>
    ctx.dp.ipsecTunnels().flatMap((t) =>
      t.saOut === null || !ctx.managed(t.name) ? [] : [{ key: `ipsec-protections/${t.name}`, value: { interface: t.name, outboundSa: t.saOut, inboundSas: t.saIn } }],
    ),
};

/* Full ranges go down as "any": a port range, even a full one, would
 * match only TCP and UDP. */
function policySpec(p: IpsecPolicy): IpsecPolicySpec {
  const isAny = (r: { first: unknown; last: unknown }, any: { first: unknown; last: unknown }) => r.first === any.first && r.last === any.last;
  const spec: IpsecPolicySpec = { priority: p.priority, direction: p.direction, action: p.action, saId: p.sa, protocol: p.protocol };
  if (!isAny(p.local, ANY_ADDRESS)) spec.local = p.local;
  if (!isAny(p.remote, ANY_ADDRESS)) spec.remote = p.remote;
  if (!isAny(p.localPorts, ANY_PORT)) spec.localPorts = p.localPorts;
  if (!isAny(p.remotePorts, ANY_PORT)) spec.remotePorts = p.remotePorts;
  return spec;
}

function policyConfigOf(p: IpsecPolicySpec): IpsecPolicy {
  const cfg: IpsecPolicy = {
    priority: p.priority,
    direction: p.direction,
    action: p.action,
    local: p.local ?? ANY_ADDRESS,
    remote: p.remote ?? ANY_ADDRESS,
    localPorts: p.localPorts ?? ANY_PORT,
    remotePorts: p.remotePorts ?? ANY_PORT,
  };
  if (p.action === 'protect') cfg.sa = p.saId;
  if (p.protocol !== undefined) cfg.protocol = p.protocol;
  return cfg;
}

/* The order that matters is the dataplane's: by priority, highest first,
 * the earlier of equals first; per direction. */
function matchOrder(policies: IpsecPolicy[]): string {
  const canonical = (p: IpsecPolicy) => JSON.stringify([p.direction, p.priority, p.action, p.sa, p.local, p.remote, p.protocol, p.localPorts, p.remotePorts]);
  const sorted = policies.map((p, i) => ({ p, i })).sort((a, b) => (a.p.direction < b.p.direction ? -1 : a.p.direction > b.p.direction ? 1 : b.p.priority - a.p.priority || a.i - b.i));
  return sorted.map(({ p }) => canonical(p)).join('\n');
}

export const ipsecSpdDescriptor: Descriptor<IpsecSpdConfig> = {
  name: 'ipsec-spds',
  validateName: validateSpdName,
  validate: (v, path) => validateSpd(v, path),
  dependencies: (_key, v) => [...v.interfaces.map((i) => `interfaces/${i}`), ...new Set(v.policies.flatMap((p) => (p.sa === undefined ? [] : [saKey(p.sa)])))],
  create(ctx, key, v) {
    const id = idOf(key);
    ctx.dp.ipsecSpdAdd(id);
    try {
      for (const p of v.policies) ctx.dp.ipsecSpdEntryAdd(id, policySpec(p));
      for (const i of v.interfaces) ctx.dp.ipsecSpdBind(ctx.ifIndex(i), id);
    } catch (e) {
      removeSpd(ctx.dp, id); /* all or nothing */
      throw e;
    }
  },
  delete: (ctx, key) => removeSpd(ctx.dp, idOf(key)),
  equivalent: (a, b) => JSON.stringify(a.interfaces.slice().sort()) === JSON.stringify(b.interfaces.slice().sort()) && matchOrder(a.policies) === matchOrder(b.policies),
  retrieve(ctx) {
    const bindings = ctx.dp.ipsecSpdBindings();
    return ctx.dp.ipsecSpds().map((s) => ({
      key: `ipsec-spds/${s.spdId}`,
      value: {
        interfaces: bindings.filter((b) => b.spdId === s.spdId).map((b) => ctx.ifName(b.swIfIndex) ?? `#${b.swIfIndex}`),
        policies: ctx.dp.ipsecSpdEntries(s.spdId).map(policyConfigOf),
      },
    }));
  },
};

/* Unbinds it everywhere, then deletes it (the SPD goes with its entries). */
function removeSpd(dp: Dataplane, id: number): void {
  for (const b of dp.ipsecSpdBindings()) if (b.spdId === id) dp.ipsecSpdBind(b.swIfIndex, null);
  dp.ipsecSpdDelete(id);
}
