/**
 * The HTTP side of the dashboard's port: the page's files and `config.json` (the topic root, and
 * whether a viewer credential is needed), everything else 404. MQTT over WebSocket on the same port
 * is the broker host's (an upgrade never reaches this handler).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { rootTopic } from '../protocol/index.js';
import type { PageFiles } from './build.js';

export interface PageConfig {
  /** `{prefix}/v1`: the page subscribes under it, so it follows the broker's `--prefix`. */
  root: string;
  /** The broker authenticates: the page asks for a viewer credential before connecting. */
  auth: boolean;
}

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'config.json': 'application/json',
};

/**
 * Same origin only: the script, the style and the MQTT WebSocket all come from this port, inline
 * script is refused (received text never becomes markup anyway; this makes sure). mqtt.js keeps
 * its keepalive timer in a blob worker (a background tab throttles page timers). Images may come
 * from any http(s) origin: the map tiles of the URL the user gives.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: http: https:; connect-src 'self' ws: wss:; worker-src blob:; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

export function pageConfig(options: { topicPrefix?: string; auth: boolean }): PageConfig {
  return { root: rootTopic(options.topicPrefix), auth: options.auth };
}

/** The request handler of the page's port. */
export function createPageHandler(
  files: PageFiles,
  config: PageConfig,
): (req: IncomingMessage, res: ServerResponse) => void {
  const bodies = new Map<string, string>(Object.entries({ ...files, 'config.json': JSON.stringify(config) }));
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    const name = path === '/' ? 'index.html' : path.slice(1);
    const body = bodies.get(name);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('read-only\n');
      return;
    }
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': TYPES[name] ?? 'application/octet-stream',
      'content-length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
