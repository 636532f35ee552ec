/* The built-in kinds. A later kind (vxlan, ipsec, nat44, acl) is one more
 * model and descriptor registered here; the scheduler does not change. */
import { Registry } from '../scheduler/registry';
import { bridgeDomainDescriptor, bridgePortDescriptor } from './bridge-domain';
import { interfaceAddressDescriptor, interfaceDescriptor } from './interface';
import { ipsecProtectionDescriptor, ipsecSaDescriptor, ipsecSpdDescriptor } from './ipsec';
import { neighborDescriptor } from './neighbor';
import { routeDescriptor } from './route';
import { systemDescriptor } from './system';

export function defaultRegistry(): Registry {
  return new Registry()
    .addKind(interfaceDescriptor)
    .addDerived(interfaceAddressDescriptor)
    .addKind(bridgeDomainDescriptor)
    .addDerived(bridgePortDescriptor)
    .addKind(routeDescriptor)
    .addKind(neighborDescriptor)
    .addKind(systemDescriptor)
    .addKind(ipsecSaDescriptor)
    .addKind(ipsecProtectionDescriptor)
    .addKind(ipsecSpdDescriptor);
}
