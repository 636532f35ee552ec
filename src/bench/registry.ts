/* Scenario name -> function. A new scenario is one file plus one line here. */
import { afpacketForward } from './afpacket-forward';
import { agentRoutes } from './agent-routes';
import { espDecrypt } from './esp-decrypt';
import { espEncrypt } from './esp-encrypt';
import { ip4Forward } from './ip4-forward';
import { l2Bridge } from './l2-bridge';
import { otaInstall } from './ota-install';
import { pgEthernet } from './pg-ethernet';
import { AgentScenario, Scenario } from './scenario';
import { vxlanDecap } from './vxlan-decap';
import { vxlanEncap } from './vxlan-encap';

export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  'pg-ethernet': pgEthernet,
  'l2-bridge': l2Bridge,
  'ip4-forward': ip4Forward,
  'afpacket-forward': afpacketForward,
  'vxlan-encap': vxlanEncap,
  'vxlan-decap': vxlanDecap,
  'esp-encrypt': espEncrypt,
  'esp-decrypt': espDecrypt,
};

export const AGENT_SCENARIOS: Readonly<Record<string, AgentScenario>> = {
  'agent-routes': agentRoutes,
  'ota-install': otaInstall,
};

export function scenarioNames(): string[] {
  return [...Object.keys(SCENARIOS), ...Object.keys(AGENT_SCENARIOS)];
}
