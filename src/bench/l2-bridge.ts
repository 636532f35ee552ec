/* l2-bridge: a bridge domain with one generator port and four output ports
 * (loopbacks that are plain ports: a sink that counts and frees, so the
 * bench measures bridging, not a device). `macs` destination MACs are static
 * L2 FIB entries, in blocks per output port; 64-byte frames walk through
 * them. Path: pg -> ethernet-input -> l2-input -> l2-learn -> l2-fwd ->
 * l2-output -> interface-output. */
import { Dataplane } from '../dataplane/dataplane';
import { VecgateError } from '../errors';
import { measure, withDataplane } from './measure';
import { BenchOptions, BenchResult } from './scenario';

const BD = 1;
const OUTPUTS = 4;
const DEFAULT_MACS = 1000;

/* The i-th destination MAC: 02:00:01:xx:xx:xx. */
function mac(i: number): string {
  return ['02', '00', '01', (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff]
    .map((b) => (typeof b === 'string' ? b : b.toString(16).padStart(2, '0')))
    .join(':');
}

function frame(macs: number): string {
  return `size=64 eth.src=02:00:00:00:00:01 eth.dst=${mac(0)}-${mac(macs - 1)} eth.type=0x0800 l4=udp if=pg0`;
}

function setUp(dp: Dataplane, macs: number): void {
  dp.bridgeDomainAdd(BD);
  // A disabled stream creates the generator port, which then joins the domain.
  const s = dp.pgStreamAdd(`name=setup count=1 enable=0 ${frame(1)}`);
  dp.bridgePortSet(dp.interfaceFind('pg0')!, BD);
  dp.pgStreamDelete(s);
  const outs = Array.from({ length: OUTPUTS }, (_, k) => dp.loopbackCreate(`out${k}`));
  for (const sw of outs) dp.bridgePortSet(sw, BD);
  for (let i = 0; i < macs; i++) dp.l2fibAdd(BD, mac(i), outs[Math.floor((i * OUTPUTS) / macs)]!);
}

export function l2Bridge(opts: BenchOptions): BenchResult {
  const macs = opts.macs ?? DEFAULT_MACS;
  if (macs < 1 || macs > 1 << 24) throw new VecgateError('BENCH_OPTION', `--macs must be 1..${1 << 24}`);
  return withDataplane(opts, (dp) => {
    setUp(dp, macs);
    return { ...measure(dp, 'l2-bridge', opts, frame(macs)), macs };
  });
}
