/**
 * The dashboard page: reads the broker it was served by, over MQTT over WebSocket on the same port,
 * and never publishes (a read-only reader; under `--auth-file` its credential cannot). The topic
 * root and whether credentials are needed come from the server (`config.json`).
 */
import { decode } from 'cbor-x';
import mqtt, { type MqttClient } from 'mqtt';
import { RECONNECT_MS, REDRAW_MS, VIEWER_CLIENT_ID_PREFIX } from './constants.js';
import { drawAll, drawMap, drawReputation } from './render.js';
import { applyConsensus, applyPresence, applyStatus, type DashboardState, emptyState, forgetOld } from './state.js';

interface PageConfig {
  root: string;
  auth: boolean;
}

const state: DashboardState = emptyState();
/** The tile URL template the user gave (`?tiles=` or the field under the map); none: the lat/lon grid. */
let tiles: string | undefined;
let client: MqttClient | undefined;

function setConnection(what: 'connecting' | 'connected' | 'refused' | 'lost' | 'login', text: string): void {
  const conn = document.getElementById('conn') as HTMLElement;
  conn.dataset.state = what;
  conn.textContent = text;
}

let redrawTimer: number | undefined;
function scheduleRedraw(): void {
  if (redrawTimer !== undefined) return;
  redrawTimer = window.setTimeout(() => {
    redrawTimer = undefined;
    forgetOld(state, Date.now());
    drawAll(state, tiles);
  }, REDRAW_MS);
}

function onMessage(root: string, topic: string, payload: Uint8Array): void {
  const [family, node, ...rest] = topic.slice(root.length + 1).split('/');
  if (node === undefined || rest.length > 0) return;
  let m: Record<string, unknown> | null = null;
  if (payload.length > 0) {
    try {
      const value = decode(payload) as unknown;
      if (typeof value !== 'object' || value === null) return;
      m = value as Record<string, unknown>;
    } catch {
      return; // the broker checks every record; a reader still never throws on what arrives
    }
  }
  const now = Date.now();
  if (family === 'presence') applyPresence(state, node, m);
  else if (family === 'status') applyStatus(state, node, m, now);
  else if (family === 'consensus') applyConsensus(state, node, m, now);
  scheduleRedraw();
}

function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function connect(config: PageConfig, login?: { username: string; password: string }): void {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const url = `${scheme}://${location.host}/mqtt`;
  const name = login?.username ?? 'page';
  client?.end(true);
  setConnection('connecting', `connecting to ${url}`);
  const c = mqtt.connect(url, {
    clientId: `${VIEWER_CLIENT_ID_PREFIX}${name}.${randomSuffix()}`,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: RECONNECT_MS,
    ...(login !== undefined ? { username: login.username, password: login.password } : {}),
  });
  client = c;
  c.on('connect', () => {
    setConnection('connected', `live: ${url} · ${config.root}`);
    const filters = ['presence', 'status', 'consensus'].map((f) => `${config.root}/${f}/+`);
    c.subscribe(filters, { qos: 0 }, (err, granted) => {
      const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
      if (err || refused.length > 0)
        setConnection('refused', `the broker refused ${refused.join(', ') || String(err)}`);
    });
  });
  c.on('message', (topic, payload) => onMessage(config.root, topic, payload));
  c.on('error', (err) => {
    const code = (err as { code?: number }).code;
    if (code === 4 || code === 5) {
      // Not authorized: retrying with the same credential cannot help.
      c.end(true);
      setConnection('refused', 'the broker refused this connection (not authorized): sign in with a viewer credential');
      showLogin(config);
    }
  });
  c.on('offline', () => setConnection('lost', `lost ${url}; reconnecting`));
}

function showLogin(config: PageConfig): void {
  const form = document.getElementById('login') as HTMLFormElement;
  form.hidden = false;
  form.onsubmit = (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    form.hidden = true;
    connect(config, { username: String(data.get('username')), password: String(data.get('password')) });
  };
}

/** Tiles only when asked: `?tiles=https://…/{z}/{x}/{y}.png` or the field under the map. */
function watchTiles(): void {
  const input = document.getElementById('tiles') as HTMLInputElement;
  const given = new URLSearchParams(location.search).get('tiles');
  const accept = (value: string) => {
    tiles = /^https?:\/\/.*\{z\}.*\{x\}.*\{y\}/.test(value) ? value : undefined;
    input.setCustomValidity(value === '' || tiles !== undefined ? '' : 'an http(s) URL with {z}, {x} and {y}');
    drawMap(state, tiles);
  };
  if (given !== null) input.value = given;
  input.onchange = () => accept(input.value.trim());
  accept(input.value.trim());
}

async function main(): Promise<void> {
  const config = (await (await fetch('config.json', { cache: 'no-store' })).json()) as PageConfig;
  document.getElementById('root')?.replaceChildren(config.root);
  (document.getElementById('rep-node') as HTMLSelectElement).onchange = () => drawReputation(state);
  (document.getElementById('metric') as HTMLSelectElement).onchange = () => drawMap(state, tiles);
  watchTiles();
  if (config.auth) {
    setConnection('login', 'this broker needs a viewer credential');
    showLogin(config);
    return;
  }
  connect(config);
}

main().catch((err: unknown) => setConnection('refused', `cannot start: ${String(err)}`));
