/**
 * What an authenticated node may publish and subscribe to (`dameso broker --auth-file`). Pure: a
 * node id, a topic or filter and an action in, allow or deny out. Least privilege over the root
 * R = `{prefix}/v1` (src/protocol/topics.ts):
 *
 * publish   R/presence/{self}, R/have/{chunk}/{self}, R/sync/{self}, R/status/{self},
 *           R/consensus/{self}  (the topic names the sender)
 *           R/intent/{kind}, R/reply/{requester}  (the sender is the envelope's `from`, which the
 *           envelope check holds to the client id, so the host refuses auth without the check; a
 *           reply topic names its receiver)
 * subscribe R/presence/+|{node}, R/status/+|{node}, R/consensus/+|{node}, R/intent/+|{kind},
 *           R/have/+|{chunk}/+|{node}, and only its own
 *           R/reply/{self} (replies carry data meant for the requester) and R/sync/{self}
 *
 * Everything else is denied: `#`, `R/#`, other nodes' replies, topics outside the root (a node's
 * credentials are not a general-purpose broker account) and `$` topics (the broker's).
 *
 * A viewer (a dashboard's credential) publishes nothing and subscribes only to the retained records
 * a dashboard draws: R/presence, R/status and R/consensus (`+` or one node).
 */

import {
  CHUNK_ID_PATTERN,
  createTopicParser,
  KIND_PATTERN,
  NODE_ID_PATTERN,
  type ParsedTopic,
  rootTopic,
} from '../src/protocol/index.js';

export type AclAction = 'publish' | 'subscribe';

/** `(node, topic, action) → allowed`, for one root. */
export type Acl = (node: string, topic: string, action: AclAction) => boolean;

export function createAcl(topicPrefix?: string): Acl {
  const root = rootTopic(topicPrefix);
  const rootSlash = `${root}/`;
  // Publishes repeat the same few topics per node: each is parsed once (bounded memory).
  const parse = createTopicParser(root);

  const mayPublish = (node: string, topic: string): boolean => {
    let parsed: ParsedTopic | undefined;
    try {
      parsed = parse(topic);
    } catch {
      return false; // under the root but malformed
    }
    if (parsed === undefined) return false;
    switch (parsed.type) {
      case 'presence':
      case 'have':
      case 'sync':
      case 'status':
      case 'consensus':
        return parsed.node === node;
      case 'intent':
      case 'reply':
        return true;
    }
  };

  const maySubscribe = (node: string, filter: string): boolean => {
    if (!filter.startsWith(rootSlash)) return false;
    const [family, a, b, ...rest] = filter.slice(rootSlash.length).split('/');
    if (rest.length > 0 || a === undefined) return false;
    const any = (level: string, pattern: RegExp) => level === '+' || pattern.test(level);
    switch (family) {
      case 'presence':
      case 'status':
      case 'consensus':
        return b === undefined && any(a, NODE_ID_PATTERN);
      case 'intent':
        return b === undefined && any(a, KIND_PATTERN);
      case 'have':
        return b !== undefined && any(a, CHUNK_ID_PATTERN) && any(b, NODE_ID_PATTERN);
      case 'reply':
      case 'sync':
        return b === undefined && a === node;
      default:
        return false;
    }
  };

  return (node, topic, action) => (action === 'publish' ? mayPublish(node, topic) : maySubscribe(node, topic));
}

/** What a viewer (read-only credential) may do, for one root: subscribe to what a dashboard draws. */
export function createViewerAcl(topicPrefix?: string): (topic: string, action: AclAction) => boolean {
  const rootSlash = `${rootTopic(topicPrefix)}/`;
  const families = new Set(['presence', 'status', 'consensus']);
  return (filter, action) => {
    if (action !== 'subscribe' || !filter.startsWith(rootSlash)) return false;
    const [family, node, ...rest] = filter.slice(rootSlash.length).split('/');
    return (
      rest.length === 0 &&
      family !== undefined &&
      families.has(family) &&
      node !== undefined &&
      (node === '+' || NODE_ID_PATTERN.test(node))
    );
  };
}
