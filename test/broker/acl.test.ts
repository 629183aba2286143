import { describe, expect, it } from 'vitest';
import { type AclAction, createAcl } from '../../broker/acl.js';

const C = 'a'.repeat(64);
const R = 'dameso/v1';

// (node, topic or filter, action) → allowed
const table: [string, string, AclAction, boolean][] = [
  // Topics that name the sender: only its own.
  ['n1', `${R}/presence/n1`, 'publish', true],
  ['n1', `${R}/presence/n2`, 'publish', false],
  ['n1', `${R}/have/${C}/n1`, 'publish', true],
  ['n1', `${R}/have/${C}/n2`, 'publish', false],
  ['n1', `${R}/sync/n1`, 'publish', true],
  ['n1', `${R}/sync/n2`, 'publish', false],
  // Intents (sender = envelope `from`) and replies (topic names the receiver).
  ['n1', `${R}/intent/want_chunk`, 'publish', true],
  ['n1', `${R}/reply/n2`, 'publish', true],
  ['n1', `${R}/reply/n1`, 'publish', true],
  // Malformed under the root, outside the root, broker topics.
  ['n1', `${R}/presence/n1/extra`, 'publish', false],
  ['n1', `${R}/have/not-a-chunk/n1`, 'publish', false],
  ['n1', `${R}/nope/n1`, 'publish', false],
  ['n1', 'other/app/topic', 'publish', false],
  ['n1', '$SYS/broker/x', 'publish', false],
  ['n1', '$dameso/dropped', 'publish', false],
  // Subscriptions a node makes (src/presence, src/intent, src/chunks).
  ['n1', `${R}/presence/+`, 'subscribe', true],
  ['n1', `${R}/presence/n2`, 'subscribe', true],
  ['n1', `${R}/sync/n1`, 'subscribe', true],
  ['n1', `${R}/reply/n1`, 'subscribe', true],
  ['n1', `${R}/intent/want_chunk`, 'subscribe', true],
  ['n1', `${R}/intent/+`, 'subscribe', true],
  ['n1', `${R}/have/+/+`, 'subscribe', true],
  ['n1', `${R}/have/${C}/+`, 'subscribe', true],
  ['n1', `${R}/have/${C}/n2`, 'subscribe', true],
  // What it does not need: others' replies and barrier records, wide wildcards, other roots.
  ['n1', `${R}/reply/n2`, 'subscribe', false],
  ['n1', `${R}/reply/+`, 'subscribe', false],
  ['n1', `${R}/sync/n2`, 'subscribe', false],
  ['n1', `${R}/sync/+`, 'subscribe', false],
  ['n1', `${R}/#`, 'subscribe', false],
  ['n1', `${R}/+/n1`, 'subscribe', false],
  ['n1', `${R}/presence/#`, 'subscribe', false],
  ['n1', `${R}/have/#`, 'subscribe', false],
  ['n1', `${R}/have/+`, 'subscribe', false],
  ['n1', `${R}/intent/Bad-Kind`, 'subscribe', false],
  ['n1', '#', 'subscribe', false],
  ['n1', '+/v1/presence/+', 'subscribe', false],
  ['n1', '$SYS/#', 'subscribe', false],
  ['n1', '$dameso/#', 'subscribe', false],
  ['n1', 'other/app/#', 'subscribe', false],
];

describe('broker ACL (node, topic, action) → allow/deny', () => {
  const acl = createAcl();
  it.each(table)('%s %s %s → %s', (node, topic, action, allowed) => {
    expect(acl(node, topic, action)).toBe(allowed);
  });

  it('follows the configured prefix', () => {
    const site = createAcl('site/a');
    expect(site('n1', 'site/a/v1/presence/n1', 'publish')).toBe(true);
    expect(site('n1', `${R}/presence/n1`, 'publish')).toBe(false);
    expect(site('n1', 'site/a/v1/reply/n1', 'subscribe')).toBe(true);
  });

  it('answers the same for a topic it has already parsed (the parse memory)', () => {
    const acl2 = createAcl();
    for (let i = 0; i < 3; i++) {
      expect(acl2('n1', `${R}/presence/n1`, 'publish')).toBe(true);
      expect(acl2('n2', `${R}/presence/n1`, 'publish')).toBe(false);
    }
  });
});
