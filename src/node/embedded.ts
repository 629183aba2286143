/**
 * `broker: 'embedded'`: the dameso broker host (broker/, Aedes + envelope check + packet guard) in
 * this process, listening on 127.0.0.1 unless `host` says otherwise (a hub for other boards). One node, one machine, no separate broker to run. It keeps
 * the hosted broker's connection limits and timeouts at their defaults (broker/constants.ts).
 */
import { type BrokerHostOptions, type BrokerStats, createBrokerHost } from '../../broker/index.js';
import type { Logger } from '../log.js';

export interface EmbeddedBroker {
  url: string;
  /** Where the dashboard is served (`http`), else undefined. */
  httpUrl?: string;
  /** Its counters (connections, publishes checked and dropped…), as `dameso broker` reports them. */
  stats(): BrokerStats;
  stop(): Promise<void>;
}

export async function startEmbeddedBroker(options: {
  port: number;
  /** Interface to listen on. Default `127.0.0.1` (this machine only). */
  host?: string;
  log: Logger;
  topicPrefix?: string;
  /** Connections from one address. Default the broker's (a bound meant for remote boards). */
  maxConnectionsPerIp?: number;
  /** The dashboard's page and MQTT over WebSocket on one port (src/dashboard). Default none. */
  http?: BrokerHostOptions['http'];
}): Promise<EmbeddedBroker> {
  const host = createBrokerHost({
    host: options.host ?? '127.0.0.1',
    port: options.port,
    log: options.log,
    ...(options.maxConnectionsPerIp !== undefined ? { maxConnectionsPerIp: options.maxConnectionsPerIp } : {}),
    ...(options.topicPrefix !== undefined ? { topicPrefix: options.topicPrefix } : {}),
    ...(options.http !== undefined ? { http: options.http } : {}),
  });
  const address = await host.start();
  return {
    url: address.url,
    ...(address.httpUrl !== undefined ? { httpUrl: address.httpUrl } : {}),
    stats: () => host.stats(),
    stop: () => host.stop(),
  };
}
