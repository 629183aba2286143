import type { Client, PublishPacket, Subscription } from 'aedes';
import { describe, expect, it } from 'vitest';
import { toAedesHooks } from '../../broker/hooks.js';

const client = { id: 'c' } as Client;
const packet = {
  cmd: 'publish',
  topic: 't',
  payload: Buffer.alloc(0),
  qos: 0,
  retain: false,
  dup: false,
} as PublishPacket;

function call<A extends unknown[]>(
  fn: (...args: [...A, (...r: unknown[]) => void]) => void,
  ...args: A
): Promise<unknown[]> {
  return new Promise((resolve) => fn(...args, (...r: unknown[]) => resolve(r)));
}

describe('promise hooks → Aedes callbacks (aedes #185, #483)', () => {
  it('a rejected authorizePublish reaches Aedes as an error, a resolved one as null', async () => {
    const denied = toAedesHooks({ authorizePublish: async () => Promise.reject(new Error('no')) });
    const [err] = await call(denied.authorizePublish!, client, packet);
    expect((err as Error).message).toBe('no');
    const allowed = toAedesHooks({ authorizePublish: async () => {} });
    expect(await call(allowed.authorizePublish!, client, packet)).toEqual([null]);
  });

  it('an authorizePublish that decides synchronously is answered synchronously, exactly once', () => {
    const answers: unknown[][] = [];
    const allowed = toAedesHooks({ authorizePublish: () => undefined });
    allowed.authorizePublish!(client, packet, (...r: unknown[]) => answers.push(r));
    expect(answers).toEqual([[null]]);
    const denied = toAedesHooks({
      authorizePublish: () => {
        throw new Error('spoofed');
      },
    });
    denied.authorizePublish!(client, packet, (...r: unknown[]) => answers.push(r));
    expect(answers).toHaveLength(2);
    expect((answers[1]![0] as Error).message).toBe('spoofed');
  });

  it('a thrown non-Error becomes an Error', async () => {
    const hooks = toAedesHooks({
      authorizePublish: async () => {
        throw 'plain string';
      },
    });
    const [err] = await call(hooks.authorizePublish!, client, packet);
    expect(err).toBeInstanceOf(Error);
  });

  it('authenticate false becomes CONNACK 5 (not authorized)', async () => {
    const hooks = toAedesHooks({ authenticate: async () => false });
    const [err, ok] = await call(hooks.authenticate!, client, undefined, undefined);
    expect((err as { returnCode: number }).returnCode).toBe(5);
    expect(ok).toBe(false);
    const yes = toAedesHooks({ authenticate: async () => true });
    expect(await call(yes.authenticate!, client, 'u', Buffer.from('p'))).toEqual([null, true]);
  });

  it('authorizeSubscribe passes the granted subscription or null', async () => {
    const sub = { topic: 'a/#', qos: 1 } as Subscription;
    const hooks = toAedesHooks({ authorizeSubscribe: async (_c, s) => (s.topic === 'a/#' ? null : s) });
    expect(await call(hooks.authorizeSubscribe!, client, sub)).toEqual([null, null]);
    expect(await call(hooks.authorizeSubscribe!, client, { ...sub, topic: 'b' })).toEqual([
      null,
      { ...sub, topic: 'b' },
    ]);
  });

  it('installs only the hooks given', () => {
    expect(Object.keys(toAedesHooks({}))).toEqual([]);
  });
});
