/**
 * A node's incarnation: `epoch`, a random number drawn when the node's series has none (a new
 * board, a re-flashed card) and kept in its `session_started` entries, sent beside `session` in
 * presence records, intents and replies. Sessions count within one epoch only: a replaced board
 * starts again at session 1 under a new epoch, and is never taken for a replay of the old one.
 * A record without `epoch` (a protocol v1 peer) is of epoch 0.
 *
 * The rule (README "Sessions and incarnations"), for a record (e, s) about node N against the
 * newest one known (eK, sK):
 *   - same epoch: the Sparkplug bdSeq rule, s < sK is stale;
 *   - another epoch, an online record: a new incarnation, it replaces the known one;
 *   - another epoch, an offline record arriving live while N is known online: the late Will of
 *     another incarnation (the old board's), ignored; stored state (a retained record sent at
 *     subscription), or N known offline, is taken as it is;
 *   - an intent or reply must be of the known epoch (a new incarnation announces itself with its
 *     presence first), and not of an older session.
 * A broker that knows connections (broker/envelope-check.ts) believes N's own connection at once.
 */

/** Epoch of a record that carries none (protocol v1 peers). */
export const NO_EPOCH = 0;

/** Exclusive upper bound of a drawn epoch: a CBOR integer of at most 5 bytes. */
export const EPOCH_LIMIT = 2 ** 32;

export function epochOf(envelope: { epoch?: number }): number {
  return envelope.epoch ?? NO_EPOCH;
}

/** Sets an outgoing intent's or reply's epoch; NO_EPOCH is left out, which is what a missing one means. */
export function stampEpoch(envelope: { epoch?: number }, epoch: number): void {
  if (epoch !== NO_EPOCH) envelope.epoch = epoch;
}

/**
 * An intent or reply against the sender's newest presence: stale when of another incarnation
 * (random epochs are not ordered: the roster's is the current one) or of an older session.
 */
export function isStaleSession(
  known: { epoch: number; session: number },
  record: { epoch?: number; session: number },
): boolean {
  return epochOf(record) !== known.epoch || record.session < known.session;
}
