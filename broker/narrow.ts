/**
 * Fan-out narrowed by `to` (docs/protocol.md §12). The
 * topic narrows an intent to the nodes serving its kind; an intent that names its responders with
 * `to` is then delivered only to those of them, instead of to every node of the kind, which would
 * decode it only to drop it. On a fleet of boards that is bandwidth and CPU on every bystander per
 * addressed intent (a chunk fetch asks one holder of five `bt` nodes: one delivery instead of five).
 *
 * Only what the envelope check has validated is narrowed, and only for clients that are dameso nodes
 * (`dameso.{node}`): any other subscriber (a logger, `mosquitto_sub`, a tool) still gets everything.
 * An intent that reaches this broker from another one (Redis cluster) was not checked here and goes
 * to every subscriber: receivers drop what is not theirs, as they do behind a broker that does not
 * narrow (Mosquitto), so narrowing is an optimisation, never something a node relies on.
 */
import { nodeIdFromClientId } from '../src/protocol/index.js';

export interface ToNarrowing {
  /** An intent publish passed the check and names `to`: remember it for the deliveries that follow. */
  addressed(payload: object, to: readonly string[]): void;
  /** Deliver this packet to this client? */
  delivers(clientId: string, payload: unknown): boolean;
}

export function createToNarrowing(): ToNarrowing {
  // Keyed by the payload buffer, which Aedes hands on unchanged from the publish to every delivery
  // of it; weak, so nothing outlives the packet.
  const recipients = new WeakMap<object, readonly string[]>();
  // Client id -> node id (null: not a node). Client ids repeat on every delivery; bounded by clearing.
  const nodes = new Map<string, string | null>();
  const nodeOf = (clientId: string): string | null => {
    let node = nodes.get(clientId);
    if (node === undefined) {
      node = nodeIdFromClientId(clientId) ?? null;
      if (nodes.size >= MAX_REMEMBERED_CLIENTS) nodes.clear();
      nodes.set(clientId, node);
    }
    return node;
  };

  return {
    addressed(payload, to) {
      recipients.set(payload, to);
    },
    delivers(clientId, payload) {
      if (typeof payload !== 'object' || payload === null) return true;
      const to = recipients.get(payload);
      if (to === undefined) return true;
      const node = nodeOf(clientId);
      return node === null || to.includes(node);
    },
  };
}

/** Client ids remembered for their node id (a fleet's worth; cleared beyond). */
const MAX_REMEMBERED_CLIENTS = 10_000;
