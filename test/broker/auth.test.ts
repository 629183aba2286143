import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrokerAuth,
  type BrokerHost,
  closeRevoked,
  createBrokerHost,
  createFileAuth,
  hashPassword,
  parseCredentials,
  parseHash,
  type ScryptGateOptions,
  setCredential,
  verifyPassword,
} from '../../broker/index.js';
import { ConfigError } from '../../src/errors.js';
import { clientIdForNode, encode } from '../../src/protocol/index.js';
import { collect, connectClient, endAll, waitFor } from '../helpers/broker-clients.js';
import { CHUNK, have, intent, presence } from '../protocol/fixtures.js';

// Tests use the cheapest cost the file accepts (ln=10): the scheme is the same, only slower by default.
const CHEAP = { ln: 10, r: 8, p: 1 };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dameso-auth-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('password hashes', () => {
  it('hashes with a random salt and verifies only the right password', async () => {
    const a = await hashPassword('correct horse', CHEAP);
    const b = await hashPassword('correct horse', CHEAP);
    expect(a).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct');
    const parsed = parseHash(a);
    expect(parsed).toBeDefined();
    expect(await verifyPassword('correct horse', parsed!)).toBe(true);
    expect(await verifyPassword('correct horsE', parsed!)).toBe(false);
  });

  it('refuses costs outside the bounds', () => {
    expect(
      parseHash('$scrypt$ln=30,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ).toBeUndefined();
  });
});

describe('credentials file format', () => {
  it('parses entries, skips comments and blank lines', async () => {
    const h = await hashPassword('pw-one-123', CHEAP);
    const creds = parseCredentials(`# site A\n\nn1:${h}\r\nn2:${h}\n`, 'f');
    expect([...creds.keys()]).toEqual(['n1', 'n2']);
  });

  it.each([
    ['no colon', 'n1 $scrypt$x', /f line 2: expected NODE:\$scrypt/],
    ['bad node id', 'bad.node:$scrypt$x', /f line 2: node id "bad.node"/],
    ['plaintext password', 'n1:hunter22', /f line 2: node n1: not a scrypt hash/],
  ])('a malformed line is a ConfigError naming the line (%s)', (_what, line, message) => {
    const err = (() => {
      try {
        parseCredentials(`# header\n${line}\n`, 'f');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('DAMESO_BAD_CONFIG');
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('hunter22');
  });

  it('refuses a node listed twice', async () => {
    const h = await hashPassword('pw-one-123', CHEAP);
    expect(() => parseCredentials(`n1:${h}\nn1:${h}\n`, 'f')).toThrow(/f line 2: node n1 listed twice/);
  });

  it('setCredential adds and replaces atomically with mode 0600, keeping other lines', async () => {
    const file = path.join(dir, 'set.users');
    await writeFile(file, '# fleet\n', { mode: 0o644 });
    expect(await setCredential(file, 'n1', 'first-password', CHEAP)).toBe('added');
    expect(await setCredential(file, 'n2', 'second-password', CHEAP)).toBe('added');
    const before = await readFile(file, 'utf8');
    expect(await setCredential(file, 'n1', 'third-password', CHEAP)).toBe('replaced');
    const text = await readFile(file, 'utf8');
    expect(text.split('\n')[0]).toBe('# fleet');
    expect(text.split('\n')[2]).toBe(before.split('\n')[2]); // n2 untouched
    expect(text).not.toContain('password');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const creds = parseCredentials(text);
    expect(await verifyPassword('third-password', creds.get('n1')!)).toBe(true);
    expect(await verifyPassword('second-password', creds.get('n2')!)).toBe(true);
  });

  it('setCredential refuses to rewrite a malformed file', async () => {
    const file = path.join(dir, 'broken.users');
    await writeFile(file, 'n1:plaintext\n');
    await expect(setCredential(file, 'n2', 'some-password', CHEAP)).rejects.toThrow(/line 1/);
    expect(await readFile(file, 'utf8')).toBe('n1:plaintext\n');
  });
});

describe('broker host with --auth-file (real Aedes, real mqtt.js clients)', () => {
  let host: BrokerHost;
  let auth: BrokerAuth;
  let url: string;
  let file: string;
  let hosts = 0;
  const clients: MqttClient[] = [];

  const connect = async (node: string, password?: string, clientId = clientIdForNode(node)) => {
    const c = await connectClient(url, { clientId, username: node, ...(password ? { password } : {}) });
    clients.push(c);
    return c;
  };
  /** The CONNACK return code of a refused CONNECT (mqtt.js reports it as the error's code). */
  const refusedWith = async (options: Parameters<typeof connectClient>[1]): Promise<unknown> => {
    try {
      clients.push(await connectClient(url, options));
    } catch (err) {
      return (err as { code?: unknown }).code;
    }
    return 'connected';
  };

  const start = async (checkEnvelopes = true, gate: ScryptGateOptions = {}) => {
    file = path.join(dir, `host-${++hosts}.users`);
    await setCredential(file, 'n1', 'n1-password', CHEAP);
    await setCredential(file, 'n2', 'n2-password', CHEAP);
    auth = await createFileAuth({ file, gate });
    host = createBrokerHost({ port: 0, auth, checkEnvelopes });
    url = (await host.start()).url;
  };
  afterEach(async () => {
    await endAll(...clients.splice(0));
    await host?.stop();
  });

  it('the right password connects and intents flow between authenticated nodes', async () => {
    await start();
    const n1 = await connect('n1', 'n1-password');
    const n2 = await connect('n2', 'n2-password');
    const got = await collect(n2, 'dameso/v1/intent/want_chunk', 0);
    await n1.publishAsync('dameso/v1/intent/want_chunk', encode(intent('n1')), { qos: 0 });
    await waitFor(n2, () => got.length === 1, 'the intent');
    // A second connection of n1 (reconnect) is matched against the remembered digest.
    await n1.endAsync();
    await connect('n1', 'n1-password');
    expect(host.stats().authRefusedTotal).toBe(0);
  });

  it('refuses a wrong password, an unknown node, no password and another node’s client id with CONNACK 5', async () => {
    await start();
    // Remembered digest of a good login must not let a wrong password through later.
    await connect('n1', 'n1-password');
    expect(await refusedWith({ clientId: 'dameso.n1', username: 'n1', password: 'n1-passwore' })).toBe(5);
    // The same wrong password again (remembered: no scrypt), then the right one still connects.
    expect(await refusedWith({ clientId: 'dameso.n1', username: 'n1', password: 'n1-passwore' })).toBe(5);
    await connect('n1', 'n1-password');
    expect(await refusedWith({ clientId: 'dameso.n9', username: 'n9', password: 'n1-password' })).toBe(5);
    expect(await refusedWith({ clientId: 'dameso.n1', username: 'n1' })).toBe(5);
    expect(await refusedWith({ clientId: 'dameso.n2', username: 'n1', password: 'n1-password' })).toBe(5);
    expect(await refusedWith({ clientId: 'monitor', username: 'n1', password: 'n1-password' })).toBe(5);
    const s = host.stats();
    expect(s.authRefused).toEqual({
      no_credentials: 1,
      unknown_node: 1,
      bad_password: 2,
      client_id_mismatch: 2,
      busy: 0,
      throttled: 0,
    });
    expect(s.authRefusedTotal).toBe(6);
  });

  it('refuses to run without the envelope check: the ACL leaves `from` of intents and replies to it', async () => {
    await expect(start(false)).rejects.toThrow(ConfigError);
    await expect(start(false)).rejects.toThrow(/config "check": authentication needs the envelope check/);
  });

  it.each([true])(
    'drops a publish in another node’s name (envelope check %s) and refuses subscriptions a node does not need',
    async (checkEnvelopes) => {
      await start(checkEnvelopes);
      const n1 = await connect('n1', 'n1-password');
      const n2 = await connect('n2', 'n2-password');
      const seen = await collect(n2, 'dameso/v1/presence/+', 1);
      const haves = await collect(n2, 'dameso/v1/have/+/+', 1);
      // n1 speaks as n2 on topics naming the sender, then in its own name.
      await n1.publishAsync('dameso/v1/presence/n2', encode(presence('n2')), { qos: 1, retain: true });
      await n1.publishAsync(`dameso/v1/have/${CHUNK}/n2`, encode(have('n2')), { qos: 1, retain: true });
      await n1.publishAsync('dameso/v1/presence/n1', encode(presence('n1')), { qos: 1, retain: true });
      await waitFor(n2, () => seen.some((m) => m.topic.endsWith('/n1')), 'n1 presence');
      expect(seen.map((m) => m.topic)).toEqual(['dameso/v1/presence/n1']);
      expect(haves).toEqual([]);
      const s = host.stats();
      if (checkEnvelopes) expect(s.dropped.spoofed).toBe(2);
      else expect(s.aclDenied.publish).toBe(2);

      // mqtt.js rejects a SUBSCRIBE whose SUBACK holds 0x80 (refused).
      await expect(n1.subscribeAsync('dameso/v1/reply/n1', { qos: 0 })).resolves.toEqual([
        { topic: 'dameso/v1/reply/n1', qos: 0 },
      ]);
      await expect(n1.subscribeAsync('dameso/v1/reply/n2', { qos: 0 })).rejects.toThrow(/Subscribe error/);
      await expect(n1.subscribeAsync('dameso/v1/#', { qos: 0 })).rejects.toThrow(/Subscribe error/);
      expect(host.stats().aclDenied.subscribe).toBe(2);
    },
  );

  it('an address that keeps failing gets CONNACK 3 without a scrypt; a node already verified still connects', async () => {
    await start(true, { failuresPerSource: 2 });
    await (await connect('n1', 'n1-password')).endAsync();
    // Fresh wrong passwords: each would cost a scrypt.
    expect(await refusedWith({ clientId: clientIdForNode('n2'), username: 'n2', password: 'guess-1' })).toBe(5);
    expect(await refusedWith({ clientId: clientIdForNode('n2'), username: 'n2', password: 'guess-2' })).toBe(5);
    expect(await refusedWith({ clientId: clientIdForNode('n2'), username: 'n2', password: 'guess-3' })).toBe(3);
    // The right password of a node not yet verified needs a scrypt too: it waits out the window.
    expect(await refusedWith({ clientId: clientIdForNode('n2'), username: 'n2', password: 'n2-password' })).toBe(3);
    // n1's password was verified before: matched by its digest, no scrypt, not throttled.
    expect(await refusedWith({ clientId: clientIdForNode('n1'), username: 'n1', password: 'n1-password' })).toBe(
      'connected',
    );
    expect(host.stats().authRefused).toMatchObject({ bad_password: 2, throttled: 2, busy: 0 });
  });

  it('refuses a Will in another node’s name at CONNECT (by the ACL, before the envelope check)', async () => {
    await start();
    const will = {
      topic: 'dameso/v1/presence/n2',
      payload: encode(presence('n2', { state: 'offline' })),
      qos: 1 as const,
      retain: true,
    };
    expect(await refusedWith({ clientId: 'dameso.n1', username: 'n1', password: 'n1-password', will })).toBe(5);
    expect(host.stats().aclDenied.publish).toBe(1);
  });

  it('reload() takes a changed file; a malformed one keeps the credentials in force', async () => {
    await start();
    await connect('n1', 'n1-password'); // its digest is remembered
    await setCredential(file, 'n1', 'n1-new-password', CHEAP);
    await setCredential(file, 'n3', 'n3-password', CHEAP);
    expect(await refusedWith({ clientId: 'dameso.n3', username: 'n3', password: 'n3-password' })).toBe(5);
    await auth.reload();
    expect(auth.size()).toBe(3);
    expect(await refusedWith({ clientId: 'dameso.n1', username: 'n1', password: 'n1-password' })).toBe(5);
    await connect('n1', 'n1-new-password');
    await connect('n3', 'n3-password');

    const good = await readFile(file, 'utf8');
    await writeFile(file, `${good}n4:oops\n`);
    await expect(auth.reload()).rejects.toThrow(/line 4: node n4: not a scrypt hash/);
    expect(auth.size()).toBe(3);
    await connect('n2', 'n2-password');
  });

  it('closeRevoked() closes the connections of nodes a reload took out of the file', async () => {
    await start();
    const n1 = await connect('n1', 'n1-password');
    const n2 = await connect('n2', 'n2-password');
    const text = await readFile(file, 'utf8');
    await writeFile(
      file,
      text
        .split('\n')
        .filter((l) => !l.startsWith('n2:'))
        .join('\n'),
    );
    await auth.reload();
    const n2Closed = new Promise<void>((resolve) => n2.once('close', () => resolve()));
    expect(closeRevoked(host.broker!, auth)).toBe(1);
    await n2Closed;
    expect(n1.connected).toBe(true);
    expect(await refusedWith({ clientId: 'dameso.n2', username: 'n2', password: 'n2-password' })).toBe(5);
  });

  it('an unreadable or missing file is a ConfigError', async () => {
    await expect(createFileAuth({ file: path.join(dir, 'missing.users') })).rejects.toBeInstanceOf(ConfigError);
  });

  it('without auth the host stays open (no username needed)', async () => {
    host = createBrokerHost({ port: 0 });
    url = (await host.start()).url;
    clients.push(await connectClient(url, { clientId: 'anything' }));
    expect(host.stats().authRefusedTotal).toBe(0);
  });
});
