/**
 * `--broker URL`, checked before anything connects: a URL without a scheme, or with one mqtt.js
 * does not speak, would otherwise cost a whole start timeout and end in "could not connect".
 */
import { DamesoError } from '../errors.js';

/** The schemes a node connects with: MQTT over TCP, TLS, WebSocket, secure WebSocket. */
export const BROKER_SCHEMES: readonly string[] = ['mqtt', 'mqtts', 'ws', 'wss'];

const usage = (msg: string): DamesoError => new DamesoError('DAMESO_USAGE', `--broker: ${msg}`);

/**
 * Returns `value` when it is an MQTT broker URL, a comma-separated list of them (the brokers of one
 * cluster, tried in turn), or `embedded` (the command runs a broker of its own); throws a usage
 * error that says how to write it otherwise. A missing port is fine (1883 for mqtt, 8883 for mqtts).
 */
export function parseBrokerUrl(value: string, o: { embedded?: boolean } = {}): string {
  if (!value.includes(',')) return parseOneUrl(value, o);
  // A cluster's brokers, tried in turn: every one a URL (not `embedded`).
  const urls = value.split(',').map((u) => u.trim());
  if (urls.includes('')) throw usage(`"${value}" has an empty entry; write mqtt://a:1883,mqtt://b:1883`);
  return urls.map((u) => parseOneUrl(u, {})).join(',');
}

function parseOneUrl(value: string, o: { embedded?: boolean }): string {
  const v = value.trim();
  if (v === 'embedded') {
    if (o.embedded) return v;
    throw usage('"embedded" runs only with `dameso node` or `dameso fleet`; give mqtt://host:port');
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(v)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw usage(`"${v}" has no scheme: write mqtt://${v} (or mqtts://${v} for TLS)`);
  }
  if (!BROKER_SCHEMES.includes(scheme)) {
    const rest = v.slice(scheme.length + 3);
    throw usage(`"${v}": scheme ${scheme}:// is not MQTT; write mqtt://${rest} (also mqtts://, ws://, wss://)`);
  }
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw usage(`"${v}" is not a URL; write ${scheme}://host:port, e.g. ${scheme}://127.0.0.1:1883`);
  }
  if (url.hostname === '') throw usage(`"${v}" names no host; write ${scheme}://host:port`);
  return v;
}
