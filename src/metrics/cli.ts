/**
 * What `dameso node` and `dameso broker` share for `--metrics-port P [--metrics-host H]`: parsing
 * (a bad port is a usage error, exit 64), the help text, and serving one node or broker.
 */
import type { BrokerStats } from '../../broker/types.js';
import { DamesoError } from '../errors.js';
import type { DamesoNode } from '../node.js';
import { healthOf, type NodeStatus, statusOfNode } from '../status/index.js';
import {
  DEFAULT_METRICS_HOST,
  EXAMPLE_METRICS_PORT,
  type MetricsServer,
  type RouteReply,
  startMetricsServer,
} from './http.js';
import type { Source } from './registry.js';
import { brokerSource, nodeSource } from './sources.js';

/**
 * prom-client (with its OpenTelemetry and t-digest dependencies) is loaded only when a metrics
 * port is given: imported up front it would cost every `dameso` start (any command) start-up time
 * and RSS (docs/benchmarks.md) for an endpoint that is off by default.
 */
const loadRegistry = () => import('./registry.js');

export interface MetricsFlags {
  metricsPort?: string;
  metricsHost?: string;
}

export interface MetricsListen {
  port: number;
  host: string;
}

export const METRICS_PORT_FLAG = [
  '--metrics-port <port>',
  'serve Prometheus metrics on http://HOST:PORT/metrics (off by default)',
] as const;
export const METRICS_HOST_FLAG = [
  '--metrics-host <host>',
  `interface of the metrics endpoint (default ${DEFAULT_METRICS_HOST}; 0.0.0.0 exposes it to the network)`,
] as const;

export function metricsHelp(command: string): string {
  return `
Metrics (Prometheus text format, counters read from the running parts at each scrape):
  dameso ${command} --metrics-port ${EXAMPLE_METRICS_PORT}
  curl -s localhost:${EXAMPLE_METRICS_PORT}/metrics | grep dameso_
A bad --metrics-port exits 64; one that cannot be bound (in use, not permitted) exits 78.
`;
}

/** The node's other routes on the metrics port. */
export const NODE_ROUTES_HELP = `
Health and status on the same port:
  curl -s localhost:${EXAMPLE_METRICS_PORT}/healthz   # "ok" (200) while connected and writing, else 503 and why
  dameso status --metrics http://localhost:${EXAMPLE_METRICS_PORT}   # the live status (GET /status, JSON)
`;

/** undefined when `--metrics-port` is absent; a usage error (exit 64) for a bad port or host. */
export function parseMetricsFlags(flags: MetricsFlags): MetricsListen | undefined {
  if (flags.metricsPort === undefined) {
    if (flags.metricsHost !== undefined) throw usage('--metrics-host needs --metrics-port');
    return undefined;
  }
  const port = Number(flags.metricsPort);
  if (flags.metricsPort.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw usage(`--metrics-port must be a port number in [0, 65535], got "${flags.metricsPort}"`);
  }
  const host = flags.metricsHost ?? DEFAULT_METRICS_HOST;
  if (host.trim() === '') throw usage('--metrics-host must not be empty');
  return { port, host };
}

/** What the command adds beside the node's own on its metrics port (supervision). */
export interface NodeExtras {
  /** Samples under the node's label. */
  samples?: Source;
  /** The `supervise` part of `/status`; a safe mode in it is a `/healthz` warning. */
  supervise?: () => NodeStatus['supervise'];
}

/** Serves a started node's metrics; close the returned server before stopping the node. */
export async function serveNodeMetrics(
  node: DamesoNode,
  listen: MetricsListen,
  extras: NodeExtras = {},
): Promise<MetricsServer> {
  const metrics = (await loadRegistry()).createMetrics();
  const own = nodeSource(node);
  const extra = extras.samples;
  metrics.addNodeSource(
    node.id,
    extra === undefined
      ? own
      : (sink) => {
          own(sink);
          extra(sink);
        },
  );
  // A node on `--broker embedded` serves its broker's counters too, labelled broker="<node id>".
  const broker = node.embeddedBroker;
  if (broker !== undefined) metrics.addBrokerSource(node.id, brokerSource(broker));
  return startMetricsServer({ metrics, ...listen, routes: nodeRoutes(node, extras.supervise) });
}

/**
 * `/healthz`: 200 `ok` while connected and writing (warnings on the lines after), else 503 with one
 * line per problem; `/status`: JSON.
 */
function nodeRoutes(
  node: DamesoNode,
  supervise: NodeExtras['supervise'] = () => null,
): Record<string, () => Promise<RouteReply>> {
  return {
    '/healthz': async () => {
      const h = healthOf(node);
      const warnings = [...h.warnings, ...safeModeWarning(supervise())];
      const lines = h.ok ? ['ok', ...warnings] : [...h.problems, ...warnings];
      return { status: h.ok ? 200 : 503, body: `${lines.join('\n')}\n` };
    },
    '/status': async () => ({
      status: 200,
      body: `${JSON.stringify({ ...(await statusOfNode(node)), supervise: supervise() })}\n`,
      contentType: 'application/json',
    }),
  };
}

/** Safe mode is said, not failed: a supervisor restarting the node for it would only add crashes. */
function safeModeWarning(s: NodeStatus['supervise']): string[] {
  const m = s?.safeMode;
  if (!m) return [];
  return [
    `safe mode since ${new Date(m.since).toISOString()}: ${m.crashes} crashes at start within ${m.windowMs / 60_000} min; presence and status only`,
  ];
}

/** Serves a broker host's metrics, labelled `broker=<name>` (its listen address). */
export async function serveBrokerMetrics(
  name: string,
  host: { stats(): BrokerStats },
  listen: MetricsListen,
): Promise<MetricsServer> {
  const metrics = (await loadRegistry()).createMetrics();
  metrics.addBrokerSource(name, brokerSource(host));
  return startMetricsServer({ metrics, ...listen });
}

const usage = (msg: string) => new DamesoError('DAMESO_USAGE', msg);
