/* pg-ethernet: the generator feeds ethernet-input 64-byte IPv4 frames on a
 * port without IPv4, so ethernet-input sends them to error-drop with a
 * counter. Measures the engine's floor: pg -> ethernet-input -> drop. */
import { measure, withDataplane } from './measure';
import { BenchOptions, BenchResult } from './scenario';

const FRAME =
  'size=64 eth.src=02:00:00:00:00:01 eth.dst=02:00:00:00:00:02 eth.type=0x0800 ' +
  'ip4.src=10.0.0.1 ip4.dst=10.1.0.1-10.1.0.254 l4=udp udp.sport=1024 udp.dport=4789 node=ethernet-input';

export function pgEthernet(opts: BenchOptions): BenchResult {
  return withDataplane(opts, (dp) => measure(dp, 'pg-ethernet', opts, FRAME));
}
