/**
 * The scrape endpoint: `GET /metrics` in the Prometheus text format, any extra routes the caller
 * gives (a node's `/healthz` and `/status`), 404 anywhere else. Bound to
 * 127.0.0.1 unless told otherwise (the counters say what a node does; exposing them is a choice).
 * `close()` also drops kept-alive scraper connections, so a stopping node does not wait on them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, messageOf } from '../errors.js';
import type { Metrics } from './registry.js';

export const DEFAULT_METRICS_HOST = '127.0.0.1';
/** The port the OpenTelemetry/Prometheus convention gives exporters (help text examples use it). */
export const EXAMPLE_METRICS_PORT = 9464;
export const METRICS_PATH = '/metrics';

function listenError(host: string, port: number, err: NodeJS.ErrnoException): ConfigError {
  const why =
    err.code === 'EADDRNOTAVAIL' ? `${host} is not an address of this machine; use one it has, or 0.0.0.0` : undefined;
  return new ConfigError(
    'metrics-port',
    `cannot listen on ${host}:${port} (${err.code ?? err.message}); ${why ?? 'pick another --metrics-port or --metrics-host'}`,
  );
}

/**
 * Throws the listen error now if `host:port` cannot be bound (busy, not an address here), so a node
 * refuses to start before it goes online rather than after.
 */
export async function checkMetricsListen(listen: { host?: string; port: number }): Promise<void> {
  if (listen.port === 0) return;
  const host = listen.host ?? DEFAULT_METRICS_HOST;
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(host, listen.port, err)));
    server.listen(listen.port, host, () => resolve());
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

/** What an extra route answers. */
export interface RouteReply {
  status: number;
  body: string;
  contentType?: string;
}

export interface MetricsServerOptions {
  metrics: Metrics;
  /** Extra GET routes by path (e.g. `/healthz`), answered beside `/metrics`. Default none. */
  routes?: Readonly<Record<string, () => Promise<RouteReply>>>;
  /** 0 = any free port. */
  port: number;
  host?: string;
}

/** Listens; a port in use, not permitted or an unknown host is a `ConfigError` (exit 78). */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { metrics } = options;
  const host = options.host ?? DEFAULT_METRICS_HOST;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'method not allowed\n');
    const route = path === undefined || !Object.hasOwn(options.routes ?? {}, path) ? undefined : options.routes?.[path];
    if (route !== undefined) {
      route().then(
        (r) => reply(res, r.status, req.method === 'HEAD' ? '' : r.body, r.contentType),
        (err: unknown) => reply(res, 500, `${path}: ${messageOf(err)}\n`),
      );
      return;
    }
    if (path !== METRICS_PATH) return reply(res, 404, `not found; metrics are at ${METRICS_PATH}\n`);
    metrics.text().then(
      (body) => reply(res, 200, req.method === 'HEAD' ? '' : body, metrics.contentType),
      (err: unknown) => reply(res, 500, `metrics: ${messageOf(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(listenError(host, options.port, err));
    server.once('error', onError);
    server.listen(options.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port,
    url: `http://${shown}:${port}${METRICS_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function reply(
  res: http.ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
