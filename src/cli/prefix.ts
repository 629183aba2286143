/**
 * `--prefix P` of every command that talks to a broker: the fleet's topics live under `P/v1`, and a
 * node, a requester and the broker that checks them must all use the same P. Several fleets share
 * one broker (or one Redis) by taking a prefix each.
 */
import { DamesoError } from '../errors.js';
import { DEFAULT_TOPIC_PREFIX, rootTopic } from '../protocol/index.js';

/** `--prefix` of the commands that connect to a broker (config key `prefix`). */
export const PREFIX_FLAG = [
  '--prefix <prefix>',
  'topic prefix of the fleet: its topics are PREFIX/v1/…; every node, command and the broker of one fleet use the same one, e.g. --prefix fleet1',
  DEFAULT_TOPIC_PREFIX,
] as const;

/** `--prefix` checked before anything connects: a bad one is a bad flag (64) that says how to write it. */
export function parsePrefix(value: string): string {
  try {
    rootTopic(value);
  } catch {
    throw new DamesoError(
      'DAMESO_USAGE',
      `--prefix "${value}" must be levels of [A-Za-z0-9_-] separated by "/", with no wildcards or "$" (e.g. --prefix fleet1)`,
    );
  }
  return value;
}

/** The node option for a prefix: nothing for the default, so callers keep their defaults. */
export function topicPrefixOption(prefix: string | undefined): { topicPrefix?: string } {
  return prefix === undefined || prefix === DEFAULT_TOPIC_PREFIX ? {} : { topicPrefix: parsePrefix(prefix) };
}

/** ` (prefix fleet1)` for a start line; nothing for the default prefix. */
export function prefixNote(prefix: string | undefined): string {
  return prefix === undefined || prefix === DEFAULT_TOPIC_PREFIX ? '' : ` (prefix ${prefix})`;
}
