import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerHost, createBrokerHost, createFileAuth, setCredential } from '../../broker/index.js';
import { BrokerNotAuthorizedError } from '../../src/transport/index.js';
import { fixedHandler, NodePool, YES } from '../helpers/node-fixtures.js';

const CHEAP = { ln: 10, r: 8, p: 1 };

describe('dameso nodes against a broker that authenticates', () => {
  let dir: string;
  let host: BrokerHost;
  let url: string;
  const pool = new NodePool();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dameso-auth-node-'));
    const file = path.join(dir, 'broker.users');
    await setCredential(file, 'resp', 'resp-password', CHEAP);
    await setCredential(file, 'req', 'req-password', CHEAP);
    host = createBrokerHost({ port: 0, auth: await createFileAuth({ file }) });
    url = (await host.start()).url;
  });
  afterAll(async () => {
    await pool.cleanup();
    await host.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('nodes with their password announce, declare and answer within the ACL', async () => {
    await pool.start(url, 'resp', {
      roles: ['bt'],
      brokerPassword: 'resp-password',
      handlers: [fixedHandler('want_chunk', 'bt', YES('here'))],
    });
    const req = await pool.start(url, 'req', { brokerPassword: 'req-password' });
    expect(req.roster.get('resp')?.online).toBe(true);
    const outcome = await req.declare('want_chunk', { subject: 'a'.repeat(64), deadlineMs: 5_000 });
    expect(outcome.yes.map((r) => r.envelope.from)).toEqual(['resp']);
    const s = host.stats();
    // Everything a node subscribes to and publishes is within the ACL.
    expect(s.aclDenied).toEqual({ publish: 0, subscribe: 0 });
    expect(s.authRefusedTotal).toBe(0);
  });

  it('a node with a wrong password fails to start with a typed config error, not a timeout', async () => {
    // The start timeout is far longer than the test's own: the refusal (CONNACK 5) ends the wait.
    await expect(
      pool.start(url, 'req', { brokerPassword: 'wrong-password', startTimeoutMs: 600_000, dataDir: await pool.dir() }),
    ).rejects.toSatisfy(
      (err) => err instanceof BrokerNotAuthorizedError && err.code === 'DAMESO_BAD_CONFIG' && err.returnCode === 5,
    );
    expect(host.stats().authRefused.bad_password).toBeGreaterThan(0);
  });
});
