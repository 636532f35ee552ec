/* system/settings: nothing in the dataplane yet; the scheduler keeps the
 * value, which is what the console and the state report read. */
import { Descriptor } from '../scheduler/descriptor';
import { SystemConfig, validateSystem, validateSystemName } from '../models/system';

export const systemDescriptor: Descriptor<SystemConfig> = {
  name: 'system',
  validateName: validateSystemName,
  validate: validateSystem,
  create: () => undefined,
  delete: () => undefined,
  update: () => undefined,
};
