import { describe, expect, it } from 'vitest';
import { hasCode } from '../../src/errors.js';
import {
  clientIdForNode,
  createTopicParser,
  createTopics,
  nodeIdFromClientId,
  parseTopic,
  rootTopic,
} from '../../src/protocol/topics.js';
import { CHUNK } from './fixtures.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('topics', () => {
  const t = createTopics();

  it('a remembering parser answers as parseTopic does, and never remembers a topic that throws', () => {
    const parse = createTopicParser('dameso/v1', 4);
    const topics = [
      'dameso/v1/intent/want_chunk',
      'dameso/v1/reply/node-1',
      `dameso/v1/have/${CHUNK}/node-1`,
      'home/kitchen',
      'dameso/v1/presence/node-1',
      'dameso/v1/sync/n',
    ];
    for (let round = 0; round < 3; round++) {
      for (const topic of topics) expect(parse(topic)).toEqual(parseTopic(topic, 'dameso/v1'));
      // Still refused on every call, with the same code.
      expect(codeOf(() => parse('dameso/v1/intent/Bad'))).toBe('DAMESO_BAD_ID');
      expect(codeOf(() => parse('dameso/v1/nope/x'))).toBe('DAMESO_BAD_TOPIC');
    }
    expect(parse('dameso/v1/intent/want_chunk')).toBe(parse('dameso/v1/intent/want_chunk'));
  });

  it('builds the v1 topics under dameso/v1', () => {
    expect(t.root).toBe('dameso/v1');
    expect(t.all).toBe('dameso/v1/#');
    expect(t.presence('pi-7')).toBe('dameso/v1/presence/pi-7');
    expect(t.intent('want_chunk')).toBe('dameso/v1/intent/want_chunk');
    expect(t.reply('node_A')).toBe('dameso/v1/reply/node_A');
    expect(t.have(CHUNK, 'n1')).toBe(`dameso/v1/have/${CHUNK}/n1`);
    expect(t.presenceFilter).toBe('dameso/v1/presence/+');
    expect(t.haveFilter()).toBe('dameso/v1/have/+/+');
    expect(t.haveFilter(CHUNK)).toBe(`dameso/v1/have/${CHUNK}/+`);
  });

  it('takes a configurable prefix, refusing wildcards, $ and empty levels', () => {
    expect(createTopics('site1/dameso').presence('a')).toBe('site1/dameso/v1/presence/a');
    for (const bad of ['', 'a/+', '#', '$SYS', 'a//b', '/a', 'a/']) {
      expect(codeOf(() => rootTopic(bad))).toBe('DAMESO_BAD_CONFIG');
    }
  });

  it('round-trips every family through parse', () => {
    expect(t.parse(t.presence('n-1'))).toEqual({ type: 'presence', node: 'n-1' });
    expect(t.parse(t.intent('want_observations'))).toEqual({ type: 'intent', kind: 'want_observations' });
    expect(t.parse(t.reply('req'))).toEqual({ type: 'reply', requester: 'req' });
    expect(t.parse(t.have(CHUNK, 'x'))).toEqual({ type: 'have', chunk: CHUNK, node: 'x' });
    expect(t.sync('n-2')).toBe('dameso/v1/sync/n-2');
    expect(t.parse(t.sync('n-2'))).toEqual({ type: 'sync', node: 'n-2' });
  });

  it('returns undefined for topics outside the root', () => {
    expect(t.parse('other/v1/presence/a')).toBeUndefined();
    expect(t.parse('dameso/v2/presence/a')).toBeUndefined();
    expect(t.parse('dameso/v1')).toBeUndefined();
    expect(parseTopic('x/v1/presence/a', 'x/v1')).toEqual({ type: 'presence', node: 'a' });
  });

  it('rejects malformed topics under the root with typed codes', () => {
    expect(codeOf(() => t.parse('dameso/v1/presence'))).toBe('DAMESO_BAD_TOPIC');
    expect(codeOf(() => t.parse('dameso/v1/presence/a/b'))).toBe('DAMESO_BAD_TOPIC');
    expect(codeOf(() => t.parse('dameso/v1/gossip/a'))).toBe('DAMESO_BAD_TOPIC');
    expect(codeOf(() => t.parse(`dameso/v1/have/${CHUNK}`))).toBe('DAMESO_BAD_TOPIC');
    expect(codeOf(() => t.parse('dameso/v1/presence/'))).toBe('DAMESO_BAD_ID');
    expect(codeOf(() => t.parse('dameso/v1/presence/a.b'))).toBe('DAMESO_BAD_ID');
    expect(codeOf(() => t.parse(`dameso/v1/presence/${'a'.repeat(65)}`))).toBe('DAMESO_BAD_ID');
    expect(codeOf(() => t.parse('dameso/v1/intent/WantChunk'))).toBe('DAMESO_BAD_ID');
    expect(codeOf(() => t.parse(`dameso/v1/intent/${'a'.repeat(33)}`))).toBe('DAMESO_BAD_ID');
    expect(codeOf(() => t.parse('dameso/v1/have/ABC/n'))).toBe('DAMESO_BAD_ID');
    expect(codeOf(() => t.parse(`dameso/v1/have/${CHUNK.toUpperCase()}/n`))).toBe('DAMESO_BAD_ID');
  });

  it('accepts the id alphabet boundaries', () => {
    expect(t.parse(`dameso/v1/presence/${'Z'.repeat(64)}`)).toEqual({ type: 'presence', node: 'Z'.repeat(64) });
    expect(t.parse(`dameso/v1/intent/${'_'.repeat(32)}`)).toEqual({ type: 'intent', kind: '_'.repeat(32) });
  });

  it('refuses to build topics from bad ids', () => {
    expect(codeOf(() => t.presence('a/b'))).toBe('DAMESO_BAD_ID');
    expect(codeOf(() => t.presence('+'))).toBe('DAMESO_BAD_ID');
    expect(codeOf(() => t.intent('want-chunk'))).toBe('DAMESO_BAD_ID');
    expect(codeOf(() => t.have('abc', 'n'))).toBe('DAMESO_BAD_ID');
  });

  it('maps node ids to client ids and back', () => {
    expect(clientIdForNode('pi-7')).toBe('dameso.pi-7');
    expect(nodeIdFromClientId('dameso.pi-7')).toBe('pi-7');
    expect(nodeIdFromClientId('mqttjs_1234')).toBeUndefined();
    expect(nodeIdFromClientId('dameso.a.b')).toBeUndefined();
    expect(nodeIdFromClientId('dameso.')).toBeUndefined();
    expect(
      hasCode(
        catchErr(() => clientIdForNode('a b')),
        'DAMESO_BAD_ID',
      ),
    ).toBe(true);
  });
});

function catchErr(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}
