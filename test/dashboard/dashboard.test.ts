/**
 * The field dashboard in a real headless Chromium (Debian's, driven by playwright-core), against
 * a real `dameso broker --http-port` and real `dameso node` processes: every node in the roster
 * with its limiter gauges, a SIGKILLed node offline within the keepalive bound, intents closing
 * with their outcome bars, reputation and the consensus map; with --auth-file, a viewer sees the
 * page and cannot publish (the broker denies it), an anonymous browser gets nothing. The test
 * writes the screenshots docs/ links (docs/dashboard.png, docs/dashboard-login.png).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setCredential } from '../../broker/index.js';
import { encode } from '../../src/protocol/index.js';
import { DEFAULT_KEEPALIVE_S } from '../../src/transport/constants.js';
import { printed, spawnCli } from '../helpers/node-cli.js';
import { makeTestPki, removePki, type TestPki } from '../helpers/tls.js';

const CHROMIUM = '/usr/bin/chromium';
const DOCS = new URL('../../docs/', import.meta.url).pathname;
/** A node SIGKILLed is seen offline within 1.5 keepalives (MQTT-3.1.2-24). */
const OFFLINE_BOUND_MS = DEFAULT_KEEPALIVE_S * 1500;
/** Hang guard of the waits for what the page draws (a failed wait fails the test). */
const DRAW_TIMEOUT_MS = 40_000;
/** A valid 1×1 PNG, what the test's tile server answers. */
const ONE_PIXEL_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
/** Cheap scrypt for throwaway credentials. */
const FAST_SCRYPT = { ln: 10, r: 8, p: 1 };
/** Near Paris, the nodes a few metres apart: one geohash-7 cell, surveyed by all three. */
const POSITIONS = ['48.85660,2.35220', '48.85662,2.35224', '48.85664,2.35221'];

let root: string;
let browser: Browser | undefined;
const children: ChildProcess[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dameso-dashboard-'));
  if (existsSync(CHROMIUM)) {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  }
});
afterAll(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await browser?.close();
  await rm(root, { recursive: true, force: true });
});

interface Listening {
  port: number;
  httpUrl: string;
}

/** `dameso broker --json --http-port 0 …`; resolves with its listening line's addresses. */
async function startBroker(args: string[]): Promise<{ child: ChildProcess; at: Listening; output: () => string }> {
  const child = spawnCli(['broker', '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--json', ...args]);
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const at = await new Promise<Listening>((resolve, reject) => {
    const look = () => {
      for (const line of out.split('\n')) {
        if (!line.includes('"event":"listening"')) continue;
        const l = JSON.parse(line) as Listening;
        resolve(l);
        return;
      }
    };
    child.stdout?.on('data', look);
    child.once('exit', (code) => reject(new Error(`broker exited with ${code}: ${out}`)));
  });
  return { child, at, output: () => out };
}

/** A real `dameso node` mapper at `position` surveying every second. */
async function startNode(
  id: string,
  brokerPort: number,
  position: string,
  extra: string[] = [],
): Promise<ChildProcess> {
  const child = spawnCli([
    'node',
    '--id',
    id,
    '--broker',
    `mqtt://127.0.0.1:${brokerPort}`,
    '--data',
    join(root, id),
    '--position',
    position,
    '--simulate',
    'temp',
    '--survey-every',
    '1',
    '--min-responders',
    '2',
    '--replicate',
    '0',
    '--log-level',
    'warn',
    ...extra,
  ]);
  children.push(child);
  await printed(child, `node ${id} online`);
  return child;
}

async function count(page: Page, selector: string): Promise<number> {
  return page.locator(selector).count();
}

describe.skipIf(!existsSync(CHROMIUM))('dashboard: dameso broker --http-port with three nodes', () => {
  let broker: Awaited<ReturnType<typeof startBroker>>;
  const nodes = new Map<string, ChildProcess>();
  let page: Page;
  // Script errors and refused loads or styles (the page's content security policy) end up here.
  const problems: string[] = [];

  beforeAll(async () => {
    broker = await startBroker([]);
    for (const [i, id] of ['pi-a', 'pi-b', 'pi-c'].entries()) {
      nodes.set(id, await startNode(id, broker.at.port, POSITIONS[i] as string));
    }
    page = await (browser as Browser).newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
    });
    await page.goto(broker.at.httpUrl);
  }, 90_000);
  afterAll(async () => {
    await page?.close();
  });

  it('shows every node online with its status record (board, limiter gauges)', async () => {
    for (const id of nodes.keys()) {
      await page.waitForSelector(`tr[data-node="${id}"][data-state="online"][data-status="live"]`, {
        timeout: DRAW_TIMEOUT_MS,
      });
    }
    expect(await count(page, '#roster-body tr')).toBe(3);
    const gauge = page.locator('tr[data-node="pi-a"] .gauge[data-limiter="cpu"]');
    expect(await gauge.getAttribute('title')).toMatch(/^cpu [01]\.\d\d$/);
    expect(await page.locator('tr[data-node="pi-a"] td').nth(4).textContent()).toBe('generic');
    expect(await page.locator('#conn').getAttribute('data-state')).toBe('connected');
    expect(await page.locator('#root').textContent()).toBe('dameso/v1');
  }, 60_000);

  it('shows intents as they close, with their YES bars and latency, then the consensus map and reputation', async () => {
    // Each survey round declares want_observations to the two other mappers, who answer YES.
    await page.waitForSelector('#intent-list li[data-yes="2"]', { timeout: DRAW_TIMEOUT_MS });
    const first = page.locator('#intent-list li[data-yes="2"]').first();
    expect(await first.locator('.who').textContent()).toMatch(/^want_observations by pi-[abc]$/);
    expect(await first.locator('.ms').textContent()).toMatch(/^\d+ ms$/);
    expect(await first.locator('.part.yes').count()).toBe(1);
    // The bar is drawn: the YES part takes the whole width (both asked answered YES).
    const [bar, yes] = await Promise.all([
      first.locator('.bar').boundingBox(),
      first.locator('.part.yes').boundingBox(),
    ]);
    expect(yes?.width).toBeGreaterThan((bar?.width ?? 0) * 0.9);
    await page.waitForSelector('#map svg.map g.cell', { timeout: DRAW_TIMEOUT_MS });
    expect(await page.locator('#metric').inputValue()).toBe('temp');
    expect(await page.locator('#map-count').textContent()).toMatch(/^\d+ cells · \d+ low confidence$/);
    await page.waitForSelector('#rep-body tr[data-peer]', { timeout: DRAW_TIMEOUT_MS });
    const chosen = await page.locator('#rep-node').inputValue();
    expect(['pi-a', 'pi-b', 'pi-c']).toContain(chosen);
    await page.screenshot({ path: join(DOCS, 'dashboard.png'), fullPage: true });
    expect(problems).toEqual([]);
  }, 90_000);

  it('draws the map over tiles only when given a tile URL, fetching {z}/{x}/{y} from it', async () => {
    expect(await count(page, '#map svg.map image')).toBe(0); // no URL: the plain grid, nothing fetched
    const asked: string[] = [];
    const tileServer = http.createServer((req, res) => {
      asked.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'image/png' }).end(ONE_PIXEL_PNG);
    });
    await new Promise<void>((resolve) => tileServer.listen(0, '127.0.0.1', resolve));
    const { port } = tileServer.address() as AddressInfo;
    try {
      const tiled = await (browser as Browser).newPage({ viewport: { width: 1400, height: 1000 } });
      await tiled.goto(`${broker.at.httpUrl}?tiles=${encodeURIComponent(`http://127.0.0.1:${port}/{z}/{x}/{y}.png`)}`);
      await tiled.waitForSelector('#map svg.tiles g.cell', { timeout: DRAW_TIMEOUT_MS });
      const zoom = Number(await tiled.locator('#map svg.tiles').getAttribute('data-zoom'));
      expect(zoom).toBeGreaterThan(10); // a geohash-7 cell fits at street level
      await until(() => asked.length > 0);
      expect(asked.every((u) => new RegExp(`^/${zoom}/\\d+/\\d+\\.png$`).test(u))).toBe(true);
      await tiled.close();
    } finally {
      tileServer.close();
    }
  }, 60_000);

  it('a SIGKILLed node goes offline within 1.5 keepalives, the others stay online', async () => {
    nodes.get('pi-c')?.kill('SIGKILL');
    await page.waitForSelector('tr[data-node="pi-c"][data-state="offline"]', { timeout: OFFLINE_BOUND_MS });
    expect(await count(page, '#roster-body tr[data-state="online"]')).toBe(2);
    expect(await page.locator('#roster-count').textContent()).toBe('2 online of 3');
  }, 60_000);
});

describe.skipIf(!existsSync(CHROMIUM))('dashboard under --auth-file: viewers only', () => {
  let broker: Awaited<ReturnType<typeof startBroker>>;
  const VIEWER_PASSWORD = 'wall-password-1';

  beforeAll(async () => {
    const users = join(root, 'broker.users');
    await setCredential(users, 'pi-x', 'node-password-1', FAST_SCRYPT);
    await setCredential(users, 'wall', VIEWER_PASSWORD, FAST_SCRYPT, true);
    await writeFile(join(root, 'pi-x.secret'), 'node-password-1');
    broker = await startBroker(['--auth-file', users, '--log-level', 'warn']);
    await startNode('pi-x', broker.at.port, POSITIONS[0] as string, ['--password-file', join(root, 'pi-x.secret')]);
  }, 90_000);

  it('an anonymous browser gets nothing: a login form, and a wrong password is refused', async () => {
    const page = await (browser as Browser).newPage();
    await page.goto(broker.at.httpUrl);
    await page.waitForSelector('#conn[data-state="login"]', { timeout: DRAW_TIMEOUT_MS });
    await page.fill('input[name=username]', 'wall');
    await page.fill('input[name=password]', 'not-the-password');
    await page.click('button[type=submit]');
    await page.waitForSelector('#conn[data-state="refused"]', { timeout: DRAW_TIMEOUT_MS });
    expect(await count(page, '#roster-body tr')).toBe(0);
    await page.screenshot({ path: join(DOCS, 'dashboard-login.png') });
    await page.close();
  }, 60_000);

  it('a viewer sees the roster; its credential cannot publish (the broker denies and drops it)', async () => {
    const page = await (browser as Browser).newPage();
    await page.goto(broker.at.httpUrl);
    await page.fill('input[name=username]', 'wall');
    await page.fill('input[name=password]', VIEWER_PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector('tr[data-node="pi-x"][data-state="online"]', { timeout: DRAW_TIMEOUT_MS });
    await page.close();

    // The same credential from a script: subscribing to intents is refused, publishing is dropped.
    const wsUrl = broker.at.httpUrl.replace(/^http/, 'ws');
    const viewer = await mqtt.connectAsync(`${wsUrl}mqtt`, {
      clientId: 'dameso-view.wall.script',
      username: 'wall',
      password: VIEWER_PASSWORD,
      reconnectPeriod: 0,
    });
    const seen: string[] = [];
    viewer.on('message', (topic) => seen.push(topic));
    const granted = await viewer.subscribeAsync('dameso/v1/presence/+', { qos: 0 });
    expect(granted.map((g) => g.qos)).toEqual([0]);
    // SUBACK 0x80: mqtt.js rejects the subscription.
    await expect(viewer.subscribeAsync('dameso/v1/intent/+', { qos: 0 })).rejects.toThrow(/Subscribe error/);
    const forged = { v: 1, node: 'ghost', session: 1, state: 'online', roles: [], t: Date.now() };
    await viewer.publishAsync('dameso/v1/presence/ghost', Buffer.from(encode(forged)), { qos: 1, retain: true });
    await until(
      () => broker.output().includes('"client":"dameso-view.wall.script"') && broker.output().includes('acl: denied'),
    );
    expect(seen.filter((t) => t.endsWith('/ghost'))).toEqual([]);
    // The page's own connection published nothing: the only denial is the script's.
    const denials = broker
      .output()
      .split('\n')
      .filter((l) => l.includes('acl: denied'));
    expect(denials.every((l) => l.includes('dameso-view.wall.script'))).toBe(true);
    await viewer.endAsync();
  }, 60_000);

  it('an anonymous MQTT connection on the page port is refused', async () => {
    const wsUrl = broker.at.httpUrl.replace(/^http/, 'ws');
    await expect(
      mqtt.connectAsync(`${wsUrl}mqtt`, { clientId: 'dameso-view.anon.x', reconnectPeriod: 0 }),
    ).rejects.toThrow(/Not authorized|Bad username or password/i);
  });
});

describe.skipIf(!existsSync(CHROMIUM))('dashboard of an embedded broker, under a prefix', () => {
  it('dameso node --broker embedded --http-port prints the URL; the page reads the prefix from it', async () => {
    const child = spawnCli([
      'node',
      '--id',
      'solo',
      '--broker',
      'embedded',
      '--embedded-port',
      '0',
      '--http-port',
      '0',
      '--prefix',
      'fleet1',
      '--data',
      join(root, 'solo'),
      '--replicate',
      '0',
      '--log-level',
      'warn',
    ]);
    children.push(child);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await printed(child, 'node solo online');
    const url = /, dashboard (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
    expect(url).toBeDefined();
    const page = await (browser as Browser).newPage();
    await page.goto(url as string);
    await page.waitForSelector('tr[data-node="solo"][data-state="online"][data-status="live"]', {
      timeout: DRAW_TIMEOUT_MS,
    });
    expect(await page.locator('#root').textContent()).toBe('fleet1/v1');
    await page.close();
    child.kill('SIGTERM');
  }, 60_000);

  it('dameso field prints its dashboard URL', async () => {
    const child = spawnCli(['field', '--nodes', '2', '--duration', '2', '--rate', '5']);
    children.push(child);
    await printed(child, 'field: dashboard on http://127.0.0.1:');
  }, 60_000);
});

describe.skipIf(!existsSync(CHROMIUM))('dashboard under TLS: HTTPS and WSS on the page port', () => {
  let pki: TestPki | undefined;
  let broker: Awaited<ReturnType<typeof startBroker>>;

  beforeAll(async () => {
    pki = await makeTestPki();
    broker = await startBroker(['--tls-port', '0', '--tls-cert', pki.files.cert, '--tls-key', pki.files.key]);
  }, 60_000);
  afterAll(async () => {
    await removePki(pki);
  });

  it('serves the page over HTTPS and reads the broker over WSS', async () => {
    expect(broker.at.httpUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    // The test CA is not the browser's: trust it for this context only.
    const context = await (browser as Browser).newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(broker.at.httpUrl);
    await page.waitForSelector('#conn[data-state="connected"]', { timeout: DRAW_TIMEOUT_MS });
    expect(await page.locator('#conn').textContent()).toMatch(/^live: wss:\/\/127\.0\.0\.1:\d+\/mqtt/);
    await context.close();
  }, 60_000);
});

/** Polls `cond` every 50 ms; throws after `ms` (a failed wait fails the test). */
async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
