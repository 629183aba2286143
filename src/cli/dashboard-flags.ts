/**
 * `--http-port P` of `dameso broker`, `dameso node --broker embedded` and `dameso field`: the field
 * dashboard (a read-only page) and MQTT over WebSocket on one port, HTTPS and WSS under TLS. The
 * page is built (or read prebuilt) before the broker listens, so a missing build fails at start.
 */
import type { BrokerHostOptions } from '../../broker/index.js';
import { buildPage, createPageHandler, pageConfig } from '../dashboard/index.js';
import { DamesoError } from '../errors.js';

export const HTTP_PORT_FLAG = [
  '--http-port <port>',
  'serve the field dashboard (a read-only page: roster, limiters, intents as they close, reputation, ' +
    'consensus map) and MQTT over WebSocket on this port (0 = any free port); HTTPS/WSS under TLS; e.g. --http-port 8080',
] as const;

export const DASHBOARD_HELP = `
Dashboard (--http-port; config "httpPort"):
  dameso broker --http-port 8080                   # open http://<broker>:8080/
  dameso broker --auth-file /etc/dameso/broker.users --http-port 8080
  dameso broker passwd --file /etc/dameso/broker.users --viewer wall   # a read-only login for the page
  The page subscribes only (it never publishes); under --auth-file it asks for a viewer credential,
  whose ACL allows nothing but subscribing to presence, status and consensus records.
  Map tiles only when asked: http://<broker>:8080/?tiles=https://tiles.example/{z}/{x}/{y}.png`;

/** The port of `--http-port`, or undefined when not given (a bad one is a usage error, 64). */
export function parseHttpPort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) {
    throw new DamesoError('DAMESO_USAGE', `--http-port must be a port number (0-65535), got "${value}"`);
  }
  return n;
}

/** The broker host's `http` option serving the page on `port` for the broker's prefix and auth. */
export async function dashboardHttp(
  port: number | undefined,
  options: { topicPrefix?: string; auth: boolean },
): Promise<BrokerHostOptions['http'] | undefined> {
  if (port === undefined) return undefined;
  const files = await buildPage();
  return { port, onRequest: createPageHandler(files, pageConfig(options)) };
}
