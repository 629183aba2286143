import { describe, expect, it } from 'vitest';
import { otherPrefixOf } from '../../broker/foreign-will.js';

describe('otherPrefixOf: a node Will under another prefix', () => {
  it('names the prefix of a presence Will of the node itself under another root', () => {
    expect(otherPrefixOf('dameso/v1/presence/n1', 'fleet1/v1', 'n1')).toBe('dameso');
    expect(otherPrefixOf('site/a/v1/presence/n1', 'fleet1/v1', 'n1')).toBe('site/a');
  });

  it('is undefined for the broker root, another node, another topic or a client of no node', () => {
    expect(otherPrefixOf('fleet1/v1/presence/n1', 'fleet1/v1', 'n1')).toBeUndefined();
    expect(otherPrefixOf('dameso/v1/presence/n2', 'fleet1/v1', 'n1')).toBeUndefined();
    expect(otherPrefixOf('dameso/v1/have/n1', 'fleet1/v1', 'n1')).toBeUndefined();
    expect(otherPrefixOf('/v1/presence/n1', 'fleet1/v1', 'n1')).toBeUndefined();
    expect(otherPrefixOf('dameso/v1/presence/n1', 'fleet1/v1', undefined)).toBeUndefined();
  });
});
