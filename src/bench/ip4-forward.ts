/* ip4-forward: 64-byte IPv4 frames routed from the generator port to a sink
 * port through a FIB of `routes` /24 routes (1.0.0.0/24, 1.0.1.0/24, ...),
 * each destination drawn at random over all of them, so a big table is
 * really looked up all over. Path: pg -> ethernet-input -> ip4-input ->
 * ip4-lookup -> ip4-rewrite -> interface-output -> the sink's tx. */
import { ip4Text, ip4ToNumber } from '../dataplane/dataplane';
import { VecgateError } from '../errors';
import { generatorPort, measure, withDataplane } from './measure';
import { BenchOptions, BenchResult } from './scenario';

const DEFAULT_ROUTES = 1000;
const MAX_ROUTES = 1 << 22;
const FIRST = ip4ToNumber('1.0.0.0');

export function ip4Forward(opts: BenchOptions): BenchResult {
  const routes = opts.routes ?? DEFAULT_ROUTES;
  if (!Number.isInteger(routes) || routes < 1 || routes > MAX_ROUTES) {
    throw new VecgateError('BENCH_OPTION', `--routes must be 1..${MAX_ROUTES}`);
  }
  return withDataplane(opts, (dp) => {
    // The generator port routes: it needs an address and a known MAC.
    const pg0 = generatorPort(dp);
    dp.interfaceSetMac(pg0, '02:00:00:00:00:02');
    dp.interfaceAddIp4(pg0, '192.168.0.1/24'); // outside the routes' 1.0.0.0 - 64.255.255.255
    const sink = dp.loopbackCreate('sink0');
    dp.interfaceAddIp4(sink, '192.168.255.1/24');
    dp.ip4NeighborAdd(sink, '192.168.255.2', '02:00:00:00:ff:02');
    const via = [{ via: '192.168.255.2', swIfIndex: sink }];
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < routes; i++) dp.ip4RouteAdd(`${ip4Text(FIRST + i * 256)}/24`, via);
    const routeSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const last = ip4Text(FIRST + routes * 256 - 1);
    const frame =
      `size=64 if=pg0 eth.src=02:00:00:00:00:01 eth.dst=02:00:00:00:00:02 ip4.src=192.168.0.2 ` +
      `ip4.dst=1.0.0.0-${last}/random l4=udp udp.sport=1024 udp.dport=1024`;
    const result = measure(dp, 'ip4-forward', opts, frame);
    return { ...result, routes, routesPerSecond: routes / routeSeconds };
  });
}
