/* Scenario name -> function. A new scenario is one file plus one line here. */
import { pgEthernet } from './pg-ethernet';
import { Scenario } from './scenario';

export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  'pg-ethernet': pgEthernet,
};

export function scenarioNames(): string[] {
  return Object.keys(SCENARIOS);
}
