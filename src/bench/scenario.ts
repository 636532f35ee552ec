/* What every benchmark scenario takes and returns. */
import { ErrorCount } from '../dataplane/counters';

export interface BenchOptions {
  packets: number;
  variant?: string; /* pinned variant; default: VECGATE_VARIANT or the best */
  warmupPackets?: number;
  macs?: number; /* l2-bridge: destination MACs in the L2 FIB */
  routes?: number; /* ip4-forward: routes in the FIB */
  alg?: string; /* esp-*: the ESP algorithm, "aes-128-gcm", "aes-256-cbc-hmac-sha-256" ... */
  payload?: number; /* esp-*: bytes of the inner IPv4 packet ESP protects */
  reference?: boolean; /* esp-*: measure OpenSSL's rate too (default true; smoke tests skip it) */
  dataplaneOptions?: string; /* vg_dp_create options */
  sizeMB?: number; /* ota-install: the bundle's payload in MB */
}

export interface BenchNode {
  name: string;
  calls: number;
  vectors: number;
  packets: number;
  clocksPerPacket: number;
  vectorsPerCall: number;
}

export interface BenchResult {
  scenario: string;
  variant: string;
  packets: number;
  seconds: number; /* wall time of the timed run (process.hrtime) */
  mpps: number;
  generatorSeconds: number; /* first to last packet, from the generator's own clock */
  clockHz: number;
  nodes: BenchNode[]; /* nodes that saw packets */
  errors: ErrorCount[];
  [extra: string]: unknown; /* what a scenario adds: routes, macs ... */
}

export type Scenario = (opts: BenchOptions) => BenchResult | Promise<BenchResult>;

/* The agent's scenarios (processes, a broker) report their own named figures. */
export interface AgentResult {
  scenario: string;
  [figure: string]: unknown;
}

export type AgentScenario = (opts: BenchOptions) => Promise<AgentResult>;
