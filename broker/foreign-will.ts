/**
 * A Will on `P/v1/presence/{node}` from the client `dameso.{node}`, with P not this broker's prefix:
 * a node of the same protocol configured for another fleet. It is refused like any Will outside the
 * root, but said as what it most likely is, a `--prefix` that differs, not a spoof.
 */
import { PROTOCOL_LEVEL } from '../src/protocol/index.js';

/** P when `topic` is `P/v1/presence/{node}` and P/v1 is not `root`; otherwise undefined. */
export function otherPrefixOf(topic: string, root: string, node: string | undefined): string | undefined {
  if (node === undefined) return undefined;
  const tail = `/${PROTOCOL_LEVEL}/presence/${node}`;
  if (!topic.endsWith(tail)) return undefined;
  const prefix = topic.slice(0, topic.length - tail.length);
  return prefix === '' || `${prefix}/${PROTOCOL_LEVEL}` === root ? undefined : prefix;
}
