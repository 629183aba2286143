/**
 * The MQTT transport of one node: connection, session counter, Will, CBOR in/out, one validating
 * dispatcher.
 */
import { MqttTransport } from './client.js';
import type { Transport, TransportOptions } from './types.js';

export {
  CONNECTION_EVENT,
  CONNECTION_VIEW,
  type ConnectionChange,
  type ConnectionState,
  type ConnectionStatus,
  type ConnectionViewState,
  connectionView,
} from './connection.js';
export * from './constants.js';
export type { DispatchStats, Inbound, InboundHandler, Message, PresenceCleared } from './dispatcher.js';
export { topicMatches } from './dispatcher.js';
export * from './errors.js';
export {
  drawEpoch,
  EPOCH_VIEW,
  epochView,
  nextSession,
  SESSION_STARTED,
  SESSION_VIEW,
  sessionView,
} from './session.js';
export type { PublishOptions, Transport, TransportOptions, TransportStats } from './types.js';

export function createTransport(options: TransportOptions): Transport {
  return new MqttTransport(options);
}
