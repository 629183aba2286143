/**
 * The parts of the dashboard below the browser: the status and consensus records (validator, the
 * broker's check, the ACL), viewer credentials, the page's HTTP handler, the page's bounded state
 * and the node-side summary of a closed intent.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createViewerAcl } from '../../broker/acl.js';
import { createAcl, createEnvelopeCheck, createFileAuth, setCredential } from '../../broker/index.js';
import { KEEP_MS, MAX_INTENTS } from '../../dashboard/page/constants.js';
import { applyStatus, emptyState } from '../../dashboard/page/state.js';
import { createPageHandler, type PageFiles, pageConfig } from '../../src/dashboard/index.js';
import { summaryOf } from '../../src/dashboard/status-view.js';
import { encode, MAX_STATUS_CLOSED, validateMessage } from '../../src/protocol/index.js';
import type { Entry } from '../../src/series/types.js';
import { runCli } from '../helpers/node-cli.js';

const LIM = { economic: 1, cpu: 0.5, memory: 0.9, w_tracking: 1, objective: 1, topology: 0.8 };
const status = (node: string, extra: Record<string, unknown> = {}) => ({
  v: 1,
  node,
  session: 3,
  t: 1_800_000_000_000,
  board: 'pi-4b',
  lim: LIM,
  closed: [{ id: 'i1', kind: 'want_chunk', ms: 12.5, yes: 2, no: { rate_limited: 1 }, silence: 1, offline: 0 }],
  rep: { 'pi-2': 0.75 },
  ...extra,
});
const consensus = (node: string, cells: unknown[]) => ({ v: 1, node, session: 3, t: 1, cells });
const CELL = { cell: 'u09tvw0', metric: 'temp', value: 19.5, spread: 0.4, n: 3, t: 1 };

describe('status and consensus records (docs/protocol.md §5.6)', () => {
  it('validates a well-formed record and names the field of a bad one', () => {
    expect(validateMessage('dameso/v1/status/pi-1', encode(status('pi-1')))?.type).toBe('status');
    expect(validateMessage('dameso/v1/consensus/pi-1', encode(consensus('pi-1', [CELL])))?.type).toBe('consensus');
    const bad = (topic: string, payload: unknown) => () => validateMessage(topic, encode(payload));
    expect(bad('dameso/v1/status/pi-1', status('pi-2'))).toThrow(/node/);
    expect(bad('dameso/v1/status/pi-1', status('pi-1', { lim: { ...LIM, cpu: 2 } }))).toThrow(/lim\.cpu/);
    expect(bad('dameso/v1/status/pi-1', status('pi-1', { rep: { 'a b': 0.5 } }))).toThrow(/rep/);
    const closed = Array.from({ length: MAX_STATUS_CLOSED + 1 }, (_, i) => ({ ...status('x').closed[0], id: `i${i}` }));
    expect(bad('dameso/v1/status/pi-1', status('pi-1', { closed }))).toThrow(/closed/);
    expect(
      bad('dameso/v1/status/pi-1', status('pi-1', { closed: [{ ...status('x').closed[0], no: { nope: 1 } }] })),
    ).toThrow(/closed\[\]\.no/);
    expect(bad('dameso/v1/consensus/pi-1', consensus('pi-1', [{ ...CELL, cell: 'U09!' }]))).toThrow(/geohash/);
    expect(bad('dameso/v1/consensus/pi-1', consensus('pi-1', [{ ...CELL, low: false }]))).toThrow(/low/);
  });

  it('the broker takes them only from their node own client, with or without auth', () => {
    const check = createEnvelopeCheck();
    const payload = encode(status('pi-1'));
    expect(check.check('dameso.pi-1', 'dameso/v1/status/pi-1', payload)).toMatchObject({ ok: true, dameso: true });
    expect(check.check('dameso.pi-2', 'dameso/v1/status/pi-1', payload)).toMatchObject({
      ok: false,
      reason: 'spoofed',
    });
    // A client that is not a node (a page, a script) may not write a node's status or clear it.
    expect(check.check('dameso-view.wall.1', 'dameso/v1/status/pi-1', payload)).toMatchObject({ reason: 'spoofed' });
    expect(check.check('tool', 'dameso/v1/consensus/pi-1', new Uint8Array())).toMatchObject({ reason: 'spoofed' });
    expect(check.check('dameso.pi-1', 'dameso/v1/consensus/pi-1', new Uint8Array())).toMatchObject({ ok: true });
  });

  it('ACL: a node publishes its own records and reads everyone’s; a viewer only subscribes', () => {
    const acl = createAcl();
    expect(acl('pi-1', 'dameso/v1/status/pi-1', 'publish')).toBe(true);
    expect(acl('pi-1', 'dameso/v1/consensus/pi-2', 'publish')).toBe(false);
    expect(acl('pi-1', 'dameso/v1/consensus/+', 'subscribe')).toBe(true);
    const viewer = createViewerAcl('fleet1');
    for (const f of ['presence', 'status', 'consensus']) {
      expect(viewer(`fleet1/v1/${f}/+`, 'subscribe')).toBe(true);
      expect(viewer(`fleet1/v1/${f}/pi-1`, 'publish')).toBe(false);
    }
    for (const f of ['fleet1/v1/intent/+', 'fleet1/v1/reply/+', 'fleet1/v1/#', '#', 'dameso/v1/presence/+', '$SYS/#']) {
      expect(viewer(f, 'subscribe')).toBe(false);
    }
  });
});

describe('viewer credentials', () => {
  it('passwd writes NAME:viewer:HASH; a viewer authenticates only with a dameso-view.NAME.* client id', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dameso-viewer-'));
    try {
      const file = join(dir, 'users');
      const fast = { ln: 10, r: 8, p: 1 };
      await setCredential(file, 'pi-1', 'node-password', fast);
      await setCredential(file, 'wall', 'wall-password', fast, true);
      expect(await readFile(file, 'utf8')).toMatch(/^pi-1:\$scrypt\$.*\nwall:viewer:\$scrypt\$/);
      const auth = await createFileAuth({ file });
      const pw = (s: string) => Buffer.from(s);
      expect(await auth.authenticate('dameso-view.wall.tab1', 'wall', pw('wall-password'))).toEqual({
        ok: true,
        node: 'wall',
        viewer: true,
      });
      // A viewer can never take a node's client id (nor a node a viewer's).
      expect(await auth.authenticate('dameso.wall', 'wall', pw('wall-password'))).toMatchObject({
        reason: 'client_id_mismatch',
      });
      expect(await auth.authenticate('dameso-view.pi-1.x', 'pi-1', pw('node-password'))).toMatchObject({
        reason: 'client_id_mismatch',
      });
      expect(await auth.authenticate('dameso.pi-1', 'pi-1', pw('node-password'))).toEqual({ ok: true, node: 'pi-1' });
      expect(await auth.authenticate('dameso-view.wall.tab2', 'wall', pw('wrong'))).toMatchObject({
        reason: 'bad_password',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('dameso broker passwd --viewer', () => {
  it('adds a viewer entry; --node with --viewer is one usage line, exit 64', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dameso-viewer-cli-'));
    try {
      const file = join(dir, 'users');
      await writeFile(join(dir, 'secret'), 'wall-password-1');
      const added = await runCli([
        'broker',
        'passwd',
        '--file',
        file,
        '--viewer',
        'wall',
        '--password-file',
        join(dir, 'secret'),
      ]);
      expect(added).toMatchObject({ code: 0, stdout: `added viewer wall in ${file}\n` });
      expect(await readFile(file, 'utf8')).toMatch(/^wall:viewer:\$scrypt\$ln=15,/);
      const both = await runCli(['broker', 'passwd', '--file', file, '--node', 'n1', '--viewer', 'wall']);
      expect(both.code).toBe(64);
      expect(both.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/exactly one of --node ID and --viewer NAME \[DAMESO_USAGE\]$/),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('--http-port mistakes', () => {
  it.each([
    [
      ['node', '--id', 'x', '--broker', 'mqtt://127.0.0.1:1', '--http-port', '8080'],
      /--http-port needs --broker embedded/,
    ],
    [['broker', '--port', '0', '--http-port', '99999'], /--http-port must be a port number \(0-65535\), got "99999"/],
  ])(
    'dameso %j: one usage line, exit 64',
    async (args, message) => {
      const r = await runCli(args);
      expect(r.code).toBe(64);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
    },
    30_000,
  );
});

/** Calls the handler with a fake request; status, headers and body. */
function get(handler: ReturnType<typeof createPageHandler>, url: string, method = 'GET') {
  let code = 0;
  let headers: Record<string, unknown> = {};
  let body = '';
  const res = {
    writeHead(c: number, h: Record<string, unknown>) {
      code = c;
      headers = h;
      return res;
    },
    end(b?: string) {
      body = b ?? '';
    },
  };
  handler({ url, method } as IncomingMessage, res as unknown as ServerResponse);
  return { code, headers, body };
}

describe('the page handler', () => {
  const files: PageFiles = { 'index.html': '<html>', 'dashboard.css': 'body{}', 'app.js': 'void 0' };
  const handler = createPageHandler(files, pageConfig({ topicPrefix: 'fleet1', auth: true }));

  it('serves the page, and config.json with the root of the broker prefix and whether a login is needed', () => {
    expect(get(handler, '/')).toMatchObject({ code: 200, body: '<html>' });
    expect(get(handler, '/app.js?v=1').headers['content-type']).toMatch(/^text\/javascript/);
    expect(JSON.parse(get(handler, '/config.json').body)).toEqual({ root: 'fleet1/v1', auth: true });
    expect(get(handler, '/').headers['content-security-policy']).toMatch(/script-src 'self'/);
  });

  it('404 for anything else, 405 for anything but GET and HEAD', () => {
    expect(get(handler, '/../package.json').code).toBe(404);
    expect(get(handler, '/mqtt').code).toBe(404);
    expect(get(handler, '/', 'POST').code).toBe(405);
    expect(get(handler, '/', 'HEAD')).toMatchObject({ code: 200, body: '' });
  });
});

describe('the page state is bounded', () => {
  it(`keeps at most ${MAX_INTENTS} intents, counts each once, forgets those older than an hour`, () => {
    const s = emptyState();
    const closedAt = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        id: `i${from + i}`,
        kind: 'k',
        ms: 1,
        yes: 1,
        no: {},
        silence: 0,
        offline: 0,
      }));
    for (let k = 0; k < 30; k++) applyStatus(s, 'pi-1', { closed: closedAt(k * 20, 20) }, 1_000 + k);
    expect(s.intents).toHaveLength(MAX_INTENTS);
    expect(s.intentsSeen).toBe(600);
    expect(s.intents[0]?.id).toBe('i599');
    applyStatus(s, 'pi-1', { closed: closedAt(580, 20) }, 2_000); // the same record again: nothing new
    expect(s.intentsSeen).toBe(600);
    applyStatus(s, 'pi-2', { closed: closedAt(0, 1) }, 1_000 + KEEP_MS + 29);
    expect(s.intents.map((i) => i.requester)).toEqual(['pi-2', ...Array(s.intents.length - 1).fill('pi-1')]);
    applyStatus(s, 'pi-2', {}, 1_000 + KEEP_MS + 1_000);
    expect(s.intents.map((i) => i.id)).toEqual(['i0']);
  });
});

describe('a closed intent as the status record tells it', () => {
  it('counts the outcome entry: YES, NO per reason, silence, offline, ms', () => {
    const entry = {
      seq: 7,
      t: 1,
      event: 'intent_outcome',
      id: 'i1',
      kind: 'store_chunk',
      yes: [{ node: 'a', ms: 3 }],
      no: [
        { node: 'b', ms: 4, reason: 'storage_full' },
        { node: 'c', ms: 5, reason: 'storage_full' },
      ],
      silence: ['d'],
      offline: ['e', 'f'],
      ms: 501.2,
    } as unknown as Entry;
    expect(summaryOf(entry)).toEqual({
      seq: 7,
      id: 'i1',
      kind: 'store_chunk',
      ms: 501.2,
      yes: 1,
      no: { storage_full: 2 },
      silence: 1,
      offline: 2,
    });
  });
});
