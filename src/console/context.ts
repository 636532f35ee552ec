/* What a console command may reach. Only the dataplane is always there
 * (`vecgate run` has all of it; a test may give just a dataplane). The agent
 * parts are typed by what the commands read, so the console loads none of
 * the agent's modules itself. */
import type { Agent } from '../agent/agent';
import type { Dataplane } from '../dataplane/dataplane';
import type { LogRing } from '../log';

export interface ConsoleContext {
  dataplane(): Dataplane; /* throws while there is none (a restart in progress) */
  agent?: Agent;
  logs?: LogRing;
  board?: string;
  ota?: () => import('../ota/client').OtaStateReport; /* boards with OTA slots */
  startedAt: number; /* Date.now() at start, for uptime */
  /* Lines a long command (ping) shows as they come; the final output follows. */
  progress?: (line: string) => void;
}
