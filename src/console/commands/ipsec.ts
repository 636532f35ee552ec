/* IPsec commands, as vppctl names them: show ipsec sa [id] [detail],
 * show ipsec tunnel, show ipsec spd, show ipsec all. Keys are never shown:
 * the agent reads them back for a resync, the console has no use for them. */
import type { Dataplane } from '../../dataplane/dataplane';
import type { IpsecSaInfo, IpsecSpdEntryInfo } from '../../dataplane/ipsec';
import { NAT_T_PORT } from '../../net/esp';
import { ConsoleContext } from '../context';
import { ConsoleError } from '../errors';
import { fields, table } from '../table';
import { CommandSpec } from '../tree';

type Spec = CommandSpec<ConsoleContext>;

/* What the console may show of an SA: everything but the key material. */
export type SaView = Omit<IpsecSaInfo, 'cryptoKey' | 'integrityKey' | 'seq' | 'initialSeq'> & { seq: string; initialSeq?: string };

function view(s: IpsecSaInfo): SaView {
  const { cryptoKey: _c, integrityKey: _i, ...rest } = s;
  return { ...rest, seq: String(s.seq), initialSeq: s.initialSeq === undefined ? undefined : String(s.initialSeq) };
}

const hex32 = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
const peerOf = (s: IpsecSaInfo) => (s.tunnel ? `${s.tunnelSrc} > ${s.tunnelDst}` : s.tunnelDst ? `> ${s.tunnelDst}` : '-');

function flagsOf(s: IpsecSaInfo): string {
  const f = [s.esn && 'esn', s.antiReplay && `anti-replay ${s.replayWindow || 64}`, s.udpEncap && `udp ${s.udpSport || NAT_T_PORT}>${s.udpDport || NAT_T_PORT}`, s.copyDf && 'copy-df'];
  return f.filter(Boolean).join(', ') || '-';
}

function saTable(dp: Dataplane, sas: IpsecSaInfo[]): string {
  const names = new Map(dp.interfaces().map((i) => [i.swIfIndex, i.name]));
  const rows = sas.map((s) => [
    s.saId,
    hex32(s.spi),
    s.inbound ? 'in' : 'out',
    s.tunnel ? 'tunnel' : 'transport',
    s.crypto,
    s.integrity,
    peerOf(s),
    s.swIfIndex === null ? (s.users ? `${s.users} policy` : '-') : (names.get(s.swIfIndex) ?? s.swIfIndex),
    String(s.seq),
    s.packets,
    s.bytes,
    s.replayDrops + s.integFails + s.decryptErrors + s.seqExhausted,
  ]);
  return table(['SA', 'SPI', 'Dir', 'Mode', 'Crypto', 'Integrity', 'Tunnel', 'Used-by', 'Seq', 'Packets', 'Bytes', 'Errors'], rows);
}

function saDetail(dp: Dataplane, s: IpsecSaInfo): string {
  const names = new Map(dp.interfaces().map((i) => [i.swIfIndex, i.name]));
  return [
    `[${s.saId}] spi ${s.spi} (${hex32(s.spi)}) ${s.inbound ? 'inbound' : 'outbound'} ${s.tunnel ? 'tunnel' : 'transport'}`,
    fields(
      [
        ['crypto', s.crypto],
        ['integrity', s.integrity],
        ['tunnel', s.tunnel ? `${s.tunnelSrc} > ${s.tunnelDst}` : '-'],
        ['vrf', s.vrf ?? 0],
        ['flags', flagsOf(s)],
        ['protects', s.swIfIndex === null ? '-' : (names.get(s.swIfIndex) ?? String(s.swIfIndex))],
        ['users', s.users],
        [s.inbound ? 'highest seq' : 'last seq', `${s.seq}${s.esn ? ` (high ${s.seq >> 32n}, low ${s.seq & 0xffffffffn})` : ''}`],
        ['packets', s.packets],
        ['bytes', s.bytes],
        ['replay drops', s.replayDrops],
        ['integrity fails', s.integFails],
        ['decrypt errors', s.decryptErrors],
        ['seq exhausted', s.seqExhausted],
      ],
      2,
    ),
  ].join('\n');
}

const showSa: Spec = {
  path: 'show ipsec sa',
  help: 'IPsec SAs: SPI, direction, mode, algorithms, tunnel, sequence number and counters (never keys)',
  args: [{ name: 'id', type: 'uint', help: 'SA id', optional: true }],
  options: [{ name: 'detail', help: 'every field and counter, one SA a block' }],
  run(ctx, a) {
    const dp = ctx.dataplane();
    let sas = dp.ipsecSas();
    if (a.id !== undefined) {
      sas = sas.filter((s) => s.saId === Number(a.id));
      if (!sas.length) throw new ConsoleError(`no SA ${a.id}`, 'show ipsec sa');
    }
    const text = a.detail || a.id !== undefined ? sas.map((s) => saDetail(dp, s)).join('\n\n') : saTable(dp, sas);
    return { text: text || 'no SAs', data: sas.map(view) };
  },
};

function tunnelsText(dp: Dataplane): { text: string; data: unknown } {
  const counters = new Map(dp.interfaceCounters().map((c) => [c.name, c]));
  const ts = dp.ipsecTunnels();
  const rows = ts.map((t) => {
    const c = counters.get(t.name);
    return [t.name, t.swIfIndex, t.src, t.dst, t.vrf, t.saOut ?? '-', t.saIn.join(',') || '-', c?.rxPackets ?? 0, c?.txPackets ?? 0];
  });
  return { text: ts.length ? table(['Name', 'Idx', 'Src', 'Dst', 'Encap-VRF', 'SA-out', 'SA-in', 'Rx', 'Tx'], rows) : 'no ipsec tunnels', data: ts };
}

const showTunnel: Spec = {
  path: 'show ipsec tunnel',
  help: 'ipsec tunnel interfaces: endpoints, their SAs and counters',
  run: (ctx) => tunnelsText(ctx.dataplane()),
};

const range = (r: { first: string | number; last: string | number } | undefined) => (r ? (r.first === r.last ? String(r.first) : `${r.first}-${r.last}`) : 'any');

function entryRow(e: IpsecSpdEntryInfo): unknown[] {
  return [e.entryId, e.direction, e.priority, e.action === 'protect' ? `protect sa ${e.saId}` : e.action, range(e.local), range(e.remote), e.protocol ?? 'any', range(e.localPorts), range(e.remotePorts), e.packets];
}

function spdsText(dp: Dataplane): { text: string; data: unknown } {
  const names = new Map(dp.interfaces().map((i) => [i.swIfIndex, i.name]));
  const bindings = dp.ipsecSpdBindings();
  const spds = dp.ipsecSpds().map((s) => ({
    ...s,
    boundTo: bindings.filter((b) => b.spdId === s.spdId).map((b) => names.get(b.swIfIndex) ?? String(b.swIfIndex)),
    policies: dp.ipsecSpdEntries(s.spdId),
  }));
  const text = spds
    .map((s) =>
      [
        `spd ${s.spdId}: ${s.policies.length} entries, bound to ${s.boundTo.join(', ') || 'no interface'}`,
        table(['Id', 'Dir', 'Prio', 'Action', 'Local', 'Remote', 'Proto', 'Lport', 'Rport', 'Packets'], s.policies.map(entryRow) as never, { indent: 2 }),
      ].join('\n'),
    )
    .join('\n\n');
  return { text: text || 'no SPDs', data: spds };
}

const showSpd: Spec = {
  path: 'show ipsec spd',
  help: 'security policy databases: bindings and entries in match order, with packets matched',
  run: (ctx) => spdsText(ctx.dataplane()),
};

const showAll: Spec = {
  path: 'show ipsec all',
  help: 'SAs, tunnels and SPDs at once',
  run(ctx) {
    const dp = ctx.dataplane();
    const sas = dp.ipsecSas();
    const tunnels = tunnelsText(dp);
    const spds = spdsText(dp);
    const text = ['SAs:', sas.length ? saTable(dp, sas) : 'no SAs', '', 'Tunnels:', tunnels.text, '', 'SPDs:', spds.text].join('\n');
    return { text, data: { sas: sas.map(view), tunnels: tunnels.data, spds: spds.data } };
  },
};

export const IPSEC_COMMANDS: readonly Spec[] = [showSa, showTunnel, showSpd, showAll];
export const IPSEC_GROUPS: Readonly<Record<string, string>> = { 'show ipsec': 'IPsec SAs, tunnels and policies' };
