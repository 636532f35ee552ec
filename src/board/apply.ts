/* Brings a board's ports up on an open dataplane. */
import { Dataplane } from '../dataplane/dataplane';
import { VecgateError } from '../errors';
import { Logger } from '../log';
import { Port } from './schema';

export interface PortState {
  name: string;
  type: Port['type'];
  swIfIndex: number;
  stream?: number;
}

function createPort(dp: Dataplane, port: Port): PortState {
  if (port.type === 'pcap') {
    const swIfIndex = dp.pcapInterfaceCreate(port.name, { rx: port.rx, rxLoops: port.rxLoops, tx: port.tx });
    return { name: port.name, type: port.type, swIfIndex };
  }
  if (port.type === 'af_packet') {
    return { name: port.name, type: port.type, swIfIndex: dp.afPacketCreate(port.name, port.hostIf, port.options) };
  }
  if (port.type === 'tap') {
    return { name: port.name, type: port.type, swIfIndex: dp.tapCreate(port.name, port.hostIf, port.options) };
  }
  // The stream creates its pg interface (if=<port name>) when it is missing.
  const stream = dp.pgStreamAdd(port.stream);
  const swIfIndex = dp.interfaceFind(port.name);
  if (swIfIndex === undefined) {
    throw new VecgateError('PORT_CREATE', `pg stream of port ${port.name} did not create interface ${port.name}`);
  }
  return { name: port.name, type: port.type, swIfIndex, stream };
}

export function createPorts(dp: Dataplane, ports: Port[], log: Logger): PortState[] {
  return ports.map((port) => {
    const state = createPort(dp, port);
    dp.interfaceSetAdmin(state.swIfIndex, true);
    log.info({ port: state, spec: port.type === 'pg' ? port.stream : undefined, hostIf: 'hostIf' in port ? port.hostIf : undefined }, `port ${port.name} up`);
    return state;
  });
}
