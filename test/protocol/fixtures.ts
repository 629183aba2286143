/** Valid v1 envelopes for protocol and broker tests. */
import type { HaveEnvelope, IntentEnvelope, PresenceEnvelope, ReplyEnvelope } from '../../src/protocol/index.js';

export const CHUNK = 'a'.repeat(64);

export function presence(node = 'node-1', extra: Partial<PresenceEnvelope> = {}): PresenceEnvelope {
  return { v: 1, node, session: 3, state: 'online', roles: ['bt', 'mapper'], t: 1_764_000_000_000, ...extra };
}

export function intent(from = 'node-1', extra: Partial<IntentEnvelope> = {}): IntentEnvelope {
  return {
    v: 1,
    id: '01JDAMESO0000000000000000',
    from,
    session: 3,
    kind: 'want_chunk',
    t: 1_764_000_000_000,
    deadline: 2000,
    subject: CHUNK,
    ...extra,
  };
}

export function reply(from = 'node-2', extra: Partial<ReplyEnvelope> = {}): ReplyEnvelope {
  return {
    v: 1,
    id: '01JDAMESO0000000000000000',
    from,
    session: 3,
    r: 'yes',
    data: new Uint8Array([1, 2, 3]),
    ...extra,
  };
}

export function have(node = 'node-1', extra: Partial<HaveEnvelope> = {}): HaveEnvelope {
  return { v: 1, node, chunk: CHUNK, size: 4096, t: 1_764_000_000_000, ...extra };
}
