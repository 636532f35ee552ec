// Prints the median run of each (scenario, variant) in a results file as a table.
'use strict';
const fs = require('node:fs');

const runs = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const groups = new Map();
for (const r of runs) {
  const key = `${r.scenario} ${r.routes ?? r.macs ?? ''} ${r.alg ?? ''} ${r.payload ?? ''} ${r.variant}`;
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(r);
}
const rows = [['scenario', 'variant', 'runs', 'Mpps (median)', 'clocks/packet by node']];
const label = (r) => r.scenario + (r.routes ? ` routes=${r.routes}` : '') + (r.macs ? ` macs=${r.macs}` : '') +
  (r.alg ? ` ${r.alg} payload=${r.payload}` : '');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const group of groups.values()) {
  if (group[0].scenario === 'agent-routes') {
    const f = (k, d = 3) => median(group.map((r) => r[k])).toFixed(d);
    rows.push([label(group[0]), group[0].variant, String(group.length), '-',
      `apply ${f('applySeconds')} s, cold start ${f('coldStartSeconds')} s, RSS ${f('rssMB', 1)} MB (anon ${f('rssAnonMB', 1)}, file ${f('rssFileMB', 1)}; idle ${f('rssIdleMB', 1)})`]);
    continue;
  }
  group.sort((a, b) => a.mpps - b.mpps);
  const m = group[Math.floor(group.length / 2)];
  const nodes = m.nodes.map((n) => `${n.name} ${n.clocksPerPacket.toFixed(1)}`).join(', ');
  // Per generated packet: a node may see each packet twice (vxlan: interface-output, ethernet-input).
  const total = m.nodes.reduce((s, n) => s + (n.clocksPerPacket * n.packets) / m.packets, 0);
  if (m.scenario === 'afpacket-forward') {
    rows.push([label(m), m.variant, String(group.length), m.mpps.toFixed(2),
      `vecgate ${m.vecgatePps} pps, kernel ${m.kernelPps} pps, ratio ${m.ratio.toFixed(2)}`]);
    continue;
  }
  // ESP: Gbit/s of payload and the ratio to OpenSSL's 8192-byte rate measured in the same run.
  const esp = m.alg ? `${m.gbps.toFixed(2)} Gbit/s, OpenSSL ${m.opensslCipher} ${m.opensslBytesPerSecond ? `${(m.opensslBytesPerSecond / 1e9).toFixed(2)} GB/s, ratio ${m.opensslRatio.toFixed(2)}` : 'not measured'}; ` : '';
  rows.push([label(m), m.variant, String(group.length), m.mpps.toFixed(1), `${esp}${total.toFixed(1)} = ${nodes}`]);
}
const width = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(width[i])).join('  ').trimEnd());
