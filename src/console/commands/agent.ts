/* Agent commands: what is configured and why, its history, the MQTT link,
 * the system and the recent log. */
import type { Agent } from '../../agent/agent';
import { formatLogLine } from '../../log';
import { ConsoleContext } from '../context';
import { ConsoleError } from '../errors';
import { fields, fixed, table } from '../table';
import { CommandSpec } from '../tree';

type Spec = CommandSpec<ConsoleContext>;

function agentOf(ctx: ConsoleContext): Agent {
  if (!ctx.agent) throw new ConsoleError('no agent in this process (the dataplane alone is running)');
  return ctx.agent;
}

const showConfig: Spec = {
  path: 'show config',
  help: 'the applied configuration: version, sources, every item and its state',
  run(ctx) {
    const s = agentOf(ctx).report();
    const keys = Object.keys(s.items).sort();
    const rows = keys.map((k) => {
      const i = s.items[k]!;
      return [k, i.state, i.reason ?? i.error ?? (i.retry ? `retry ${i.retry}` : '')];
    });
    const head = fields([
      ['version', s.version],
      ['applied', s.appliedAt ?? 'never'],
      ['sources', s.sources.map((x) => `${x.source}@${x.version ?? '?'} ${x.sha256.slice(0, 12)}`).join(', ') || 'none'],
      ['items', Object.entries(s.counts).map(([k, n]) => `${n} ${k}`).join(', ') || 'none'],
      ...(s.rejected ? [['rejected', `${s.rejected.source}: ${s.rejected.problems.map((p) => `${p.path}: ${p.reason}`).join('; ')}`] as [string, string]] : []),
      ...(s.commitConfirm ? [['commit-confirm', `${s.commitConfirm.state}${s.commitConfirm.deadline ? ` until ${s.commitConfirm.deadline}` : ''}${s.commitConfirm.reason ? `: ${s.commitConfirm.reason}` : ''}`] as [string, string]] : []),
      ...(s.persistError ? [['not saved', s.persistError] as [string, string]] : []),
    ]);
    return { text: head + '\n\n' + table(['Key', 'State', 'Detail'], rows), data: s };
  },
};

const showHistory: Spec = {
  path: 'show config history',
  help: 'the transactions, newest last, with their results',
  run(ctx) {
    const h = agentOf(ctx).configHistory();
    const results = ['CONFIGURED', 'PENDING', 'FAILED', 'REMOVED'];
    const rows = h.map((t) => [t.seq, t.started, t.trigger, t.version, t.durationMs, ...results.map((r) => t.counts[r] ?? 0), t.canRollBack ? 'yes' : '-']);
    return { text: table(['Txn', 'Started', 'Trigger', 'Version', 'Ms', 'Configured', 'Pending', 'Failed', 'Removed', 'Rollback'], rows), data: h };
  },
};

const rollback: Spec = {
  path: 'config rollback',
  help: 'apply the configuration as it stood after a transaction',
  args: [{ name: 'txn', type: 'uint', help: 'transaction number (show config history)', min: 1 }],
  run(ctx, a) {
    const txn = agentOf(ctx).rollback(Number(a.txn));
    const counts: Record<string, number> = {};
    for (const i of txn.items) counts[i.result] = (counts[i.result] ?? 0) + 1;
    const text = `rolled back to transaction ${a.txn} as transaction ${txn.seq}: version ${txn.version}, ${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ') || 'no changes'}`;
    return { text, data: { seq: txn.seq, version: txn.version, counts } };
  },
};

const showMqtt: Spec = {
  path: 'show mqtt',
  help: 'the broker connection, topics and recent messages',
  run(ctx) {
    const agent = agentOf(ctx);
    const m = agent.mqttStatus();
    if (!m) return { text: 'no broker configured', data: null };
    const head = fields([
      ['broker', m.url],
      ['client id', m.clientId],
      ['state', m.connected ? `connected (MQTT ${m.protocolVersion === 5 ? '5' : '3.1.1'}) since ${m.upSince}` : `not connected${m.lastError ? `: ${m.lastError}` : ''}`],
      ['reconnects', m.reconnects],
      ['subscribed', m.subscriptions.join(', ')],
      ['state topic', agent.topics.state],
    ]);
    const rows = m.recent.map((r) => [r.at, r.direction, r.topic, r.bytes, r.qos, r.retained ? 'R' : '']);
    return { text: head + '\n\n' + table(['Time', 'Dir', 'Topic', 'Bytes', 'QoS', 'Ret'], rows), data: m };
  },
};

const showSystem: Spec = {
  path: 'show system',
  help: 'CPU load and temperature, memory, disks, uptime',
  async run(ctx) {
    /* systeminformation only when asked: the console must not weigh on an idle box. */
    const { collectTelemetry } = require('../../telemetry/collect') as typeof import('../../telemetry/collect');
    const s = (await collectTelemetry(undefined, { timeoutMs: 3000 })).system;
    const mb = (n: number | undefined) => (n === undefined ? '-' : `${fixed(n / 1048576, 0)} MB`);
    const head = fields([
      ['cpu load', s.cpuLoadPercent === null ? '-' : `${fixed(s.cpuLoadPercent, 1)} %`],
      ['temperature', s.cpuTemperatureC === null ? '-' : `${fixed(s.cpuTemperatureC, 1)} C`],
      ['memory', s.memory ? `${mb(s.memory.usedBytes)} used of ${mb(s.memory.totalBytes)}` : '-'],
      ['agent rss', mb(process.memoryUsage().rss)],
      ['uptime', s.uptimeSeconds === null ? '-' : `${fixed(s.uptimeSeconds / 3600, 1)} h`],
    ]);
    const disks = s.disks?.length ? '\n\n' + table(['Mount', 'Size', 'Used', 'Use%'], s.disks.map((d) => [d.mount, mb(d.sizeBytes), mb(d.usedBytes), fixed(d.sizeBytes ? (100 * d.usedBytes) / d.sizeBytes : 0, 1)])) : '';
    return { text: head + disks, data: s };
  },
};

const showLog: Spec = {
  path: 'show log',
  help: 'recent log lines, oldest first',
  args: [{ name: 'lines', type: 'uint', help: 'how many (default 50)', optional: true, min: 1, max: 10_000 }],
  run(ctx, a) {
    if (!ctx.logs) throw new ConsoleError('no log kept in this process');
    const lines = ctx.logs.lines(Number(a.lines ?? 50));
    return { text: lines.map(formatLogLine).join('\n') || 'no log lines yet', data: lines };
  },
};

export const AGENT_COMMANDS: readonly Spec[] = [showConfig, showHistory, rollback, showMqtt, showSystem, showLog];
export const AGENT_GROUPS: Readonly<Record<string, string>> = { config: 'configuration changes', 'show config': 'the applied configuration' };
