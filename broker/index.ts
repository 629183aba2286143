/**
 * The Aedes host (docs/architecture.md): TCP + WebSocket listeners with TCP_NODELAY, a maximum
 * packet size, and the publish check that drops malformed, spoofed and stale envelopes on
 * `dameso/v1/#` before they reach the fleet. How a node knows it holds the whole retained roster
 * despite Aedes streaming retained records after SUBACK: src/protocol/roster-barrier.ts.
 */

export { type Acl, type AclAction, createAcl, createViewerAcl } from './acl.js';
export { CONNECTION_REFUSALS, type ConnectionRefusal, sourceKey } from './admission.js';
export {
  AUTH_REFUSALS,
  type AuthRefusal,
  type AuthResult,
  type BrokerAuth,
  closeRevoked,
  createFileAuth,
  deleteCredential,
  type FileAuthOptions,
  hashPassword,
  loadCredentials,
  MIN_PASSWORD_CHARS,
  type PasswordHash,
  parseCredentials,
  parseHash,
  SCRYPT_DEFAULTS,
  type ScryptParams,
  type StoredCredential,
  setCredential,
  VIEWER_CLIENT_ID_PREFIX,
  verifyPassword,
  viewerFromClientId,
} from './auth.js';
export {
  DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
  parseRedisUrl,
  type RedisClusterOptions,
  RedisUnreachableError,
  redisCluster,
} from './cluster.js';
export * from './constants.js';
export {
  createEnvelopeCheck,
  DROP_REASONS,
  type DropReason,
  type EnvelopeCheck,
  type Verdict,
} from './envelope-check.js';
export * from './errors.js';
export { type FdLimit, parseFdLimit, readFdLimit } from './fd-limit.js';
export type { AuthenticateFn, AuthorizePublishFn, AuthorizeSubscribeFn, PreConnectFn, PromiseHooks } from './hooks.js';
export { createBrokerHost } from './host.js';
export { createScryptGate, type GateRefusal, type ScryptGate, type ScryptGateOptions } from './scrypt-gate.js';
export type {
  BrokerAddress,
  BrokerCluster,
  BrokerHost,
  BrokerHostOptions,
  BrokerLimits,
  BrokerStats,
  ClusterParts,
} from './types.js';
