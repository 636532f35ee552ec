import * as assert from 'node:assert/strict';

import { Console, extension, resultText } from '../../src/console/console';
import { Dataplane } from '../../src/dataplane/dataplane';
import { CommandTree, tokenize } from '../../src/console/tree';
import { withoutVariantPin } from '../helpers';

/* The command tree on its own: parsing, abbreviation, errors, completion and `?`. */
describe('console command tree', () => {
  const ran: unknown[] = [];
  const tree = new CommandTree<null>({ show: 'show things', 'show ip': 'IPv4' })
    .add({ path: 'show interface', help: 'interfaces', args: [{ name: 'interface', type: 'interface', help: 'name', optional: true }], options: [{ name: 'address', help: 'addresses' }], run: (_c, a) => (ran.push(a), { text: 'ok' }) })
    .add({ path: 'show ip fib', help: 'fib', args: [{ name: 'prefix', type: 'prefix', help: 'p', optional: true }], options: [{ name: 'vrf', help: 'vrf', value: { name: 'vrf', type: 'uint', help: 'id', max: 10 } }], run: () => ({ text: '' }) })
    .add({ path: 'show ip neighbors', help: 'arp', run: () => ({ text: '' }) })
    .add({ path: 'trace add', help: 'trace', args: [{ name: 'node', type: 'node', help: 'n' }, { name: 'count', type: 'uint', help: 'c', min: 1, max: 50 }], run: () => ({ text: '' }) });
  const values = (t: string) => (t === 'interface' ? ['wan0', 'lan0', 'lan1'] : t === 'node' ? ['pg-input', 'af-packet-input'] : []);

  it('parses unique prefixes of keywords, positional arguments and options in any order', () => {
    assert.deepEqual(tree.parse('sh int lan0 addr').args, { interface: 'lan0', address: true });
    assert.deepEqual(tree.parse('show ip fib vrf 3 10.0.0.0/8').args, { prefix: '10.0.0.0/8', vrf: 3 });
    assert.deepEqual(tree.parse('  show   ip  fib   10.1.2.3 ').args, { prefix: '10.1.2.3' });
    assert.equal(tree.parse('tr add pg-input 5').command.path, 'trace add');
    assert.deepEqual(tokenize('pcap trace file "my file.pcap"'), ['pcap', 'trace', 'file', 'my file.pcap']);
  });

  it('refuses with one line that says why, and the closest valid command', () => {
    const err = (line: string) => {
      try {
        tree.parse(line);
      } catch (e) {
        return e as { message: string; hint?: string };
      }
      assert.fail(`accepted ${line}`);
    };
    let e = err('shwo interface');
    assert.match(e.message, /^unknown command: 'shwo interface'/);
    assert.equal(e.hint, 'show interface [<interface>] [address]');
    e = err('show ip fob');
    assert.match(e.message, /'show ip' has no 'fob'/);
    assert.match(e.hint!, /^show ip fib/);
    assert.match(err('show ip').message, /incomplete command: 'show ip' goes on with one of: fib, neighbors/);
    assert.match(err('show ip fib 300.1.1.1').message, /<prefix> '300.1.1.1' is not an IPv4 address or prefix/);
    assert.match(err('show ip fib vrf 11').message, /<vrf> '11' is out of range 0..10/);
    assert.match(err('show ip fib vrf').message, /'vrf' needs <vrf>/);
    assert.match(err('trace add pg-input').message, /missing <count>/);
    assert.match(err('trace add pg-input 0').message, /out of range 1..50/);
    assert.match(err('show interface lan0 bogus').message, /unexpected 'bogus' after 'show interface'/);
    assert.match(err('s').message, /ambiguous|incomplete/);
    assert.match(err('x'.repeat(5000)).message.slice(0, 200), /unknown command/);
    assert.ok(err('x'.repeat(5000)).message.length < 300, 'the error stays one short line');
    assert.match(err(Array(100).fill('show').join(' ')).message, /too many words/);
  });

  it('completes keywords, interface and node names, and options', () => {
    assert.deepEqual(tree.complete('sh', values).candidates.map((c) => c.word), ['show']);
    assert.equal(extension(tree.complete('sh', values)), 'ow ');
    assert.equal(extension(tree.complete('show i', values)), undefined, 'interface and ip: nothing common to add');
    assert.deepEqual(tree.complete('show i', values).candidates.map((c) => c.word), ['interface', 'ip']);
    assert.equal(extension(tree.complete('show int', values)), 'erface ');
    assert.deepEqual(tree.complete('show interface l', values).candidates.map((c) => c.word), ['lan0', 'lan1']);
    assert.equal(extension(tree.complete('show interface l', values)), 'an');
    assert.deepEqual(tree.complete('trace add ', values).candidates.map((c) => c.word), ['pg-input', 'af-packet-input']);
    assert.deepEqual(tree.complete('show ip fib 10.0.0.0/8 ', values).candidates.map((c) => c.word), ['vrf', '<cr>']);
    assert.deepEqual(tree.complete('bogus ', values).candidates, []);
  });

  it('answers ? with what may come next and what it does', () => {
    assert.deepEqual(tree.help('show ', values).map((c) => [c.word, c.help]), [['interface', 'interfaces'], ['ip', 'IPv4']]);
    assert.deepEqual(tree.help('show ip', values).map((c) => c.word), ['fib', 'neighbors']);
    assert.deepEqual(tree.help('show ip fib ', values).map((c) => c.word), ['<prefix>', 'vrf', '<cr>']);
    assert.deepEqual(tree.help('trace add pg-input ', values).map((c) => c.word), ['<count>']);
    assert.match(tree.help('trace add pg-input ', values)[0]!.help, /\(1..50\)/);
  });
});

describe('console over a dataplane', () => {
  it('runs commands and reports a bad one as one line with the closest command', async () => {
    withoutVariantPin();
    const dp = Dataplane.open({ options: 'buffers=1024' });
    try {
      const lo = dp.loopbackCreate('lo0');
      dp.interfaceAddIp4(lo, '192.0.2.1/24');
      dp.ip4RouteAdd('198.51.100.0/24', [{ via: '192.0.2.9' }]);
      const con = new Console({ dataplane: () => dp, startedAt: Date.now() });
      const fib = await con.run('sh ip fib 198.51.100.77');
      assert.ok(fib.ok, fib.error);
      assert.match(fib.text, /^ipv4-VRF:0\n198\.51\.100\.0\/24 static .*via 192\.0\.2\.9/);
      assert.doesNotMatch(fib.text, /192\.0\.2\.1\/32/);
      const ints = await con.run('show interface address');
      assert.match(ints.text, /lo0 \(up\):\n {2}L3 192\.0\.2\.1\/24/);
      const bad = await con.run('show interfaec');
      assert.equal(bad.ok, false);
      assert.equal(resultText(bad).split('\n').length, 1);
      assert.match(resultText(bad), /did you mean: show interface/);
      const noVrf = await con.run('show ip fib vrf 7');
      assert.match(noVrf.error!, /no VRF 7/);
      assert.deepEqual(con.complete('show interface ').candidates.filter((c) => c.insertable).map((c) => c.word), ['lo0', 'address']);
      dp.vxlanTunnelAdd('vx0', { src: '192.0.2.1', dst: '192.0.2.77', vni: 9 });
      assert.match((await con.run('show vxlan tunnel')).text, /^Name +Idx +Src +Dst +VNI +Encap-VRF +Port +Rx +Tx\nvx0 +\d+ +192\.0\.2\.1 +192\.0\.2\.77 +9 +0 +4789 +0 +0$/);
      dp.loopbackCreate('loopback-longer-name');
      const hw = (await con.run('show hardware-interfaces')).text.split('\n');
      assert.match(hw[0]!, /^Name +Idx +Link +Hardware$/);
      const rows = hw.filter((l) => /^lo/.test(l));
      assert.ok(hw.some((l) => /^vx0 /.test(l)), 'the tunnel is an interface too');
      assert.equal(rows.length, 2);
      assert.equal(rows[0]!.indexOf('loopback 02:'), rows[1]!.indexOf('loopback 02:'), 'one table: columns line up');
      assert.match(hw[2]!, /^ {4}loopback, in no bridge domain/);
      const progress: string[] = [];
      const ping = await con.run('ping 192.0.2.1 count 3 interval 10', (l) => progress.push(l));
      assert.ok(ping.ok, ping.error);
      assert.equal(progress.length, 3);
      assert.match(progress[0]!, /^64 bytes from 192\.0\.2\.1: icmp_seq=1 ttl=\d+ time=[\d.]+ ms$/);
      assert.match(ping.text, /Statistics: 3 sent, 3 received, 0% packet loss/);
      const lost = await con.run('ping 198.18.0.1 count 1');
      assert.equal(lost.ok, false, 'no route: refused at once');
      assert.match(lost.error!, /198\.18\.0\.1/);
    } finally {
      dp.close();
    }
  });
});
