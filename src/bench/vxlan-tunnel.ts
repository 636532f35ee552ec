/* What vxlan-encap and vxlan-decap share: a VTEP on an underlay port, one
 * VXLAN tunnel to a remote VTEP behind it, and the bridge domain the tunnel
 * is a port of. The underlay is the sink port (encap) or the generator port
 * (decap); the other bridge port is the other one. */
import { Dataplane } from '../dataplane/dataplane';

export const BD = 1;
export const VNI = 42;
export const LOCAL_VTEP = '10.0.0.1';
export const REMOTE_VTEP = '10.0.0.2';
export const UNDERLAY_MAC = '02:00:00:00:00:02'; /* the box's port to the remote VTEP */
export const REMOTE_MAC = '02:00:00:00:00:01'; /* the remote VTEP's */
/* Hosts on the segment: one on the bridge's local port, one behind the tunnel. */
export const LOCAL_HOST_MAC = '02:00:01:00:00:01';
export const REMOTE_HOST_MAC = '02:00:01:00:00:02';

/* Addresses the underlay port, adds the tunnel and bridges it with `local`;
 * returns the tunnel's sw_if_index. */
export function tunnelBridge(dp: Dataplane, underlay: number, local: number): number {
  dp.interfaceSetMac(underlay, UNDERLAY_MAC);
  dp.interfaceAddIp4(underlay, `${LOCAL_VTEP}/24`);
  dp.ip4NeighborAdd(underlay, REMOTE_VTEP, REMOTE_MAC);
  const tunnel = dp.vxlanTunnelAdd('vxlan0', { src: LOCAL_VTEP, dst: REMOTE_VTEP, vni: VNI });
  dp.bridgeDomainAdd(BD);
  dp.bridgePortSet(local, BD);
  dp.bridgePortSet(tunnel, BD);
  return tunnel;
}
