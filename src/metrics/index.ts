/**
 * Prometheus metrics: a per-process registry whose families read the parts' existing counters at
 * scrape time, sources for a node and a broker host, and the `/metrics` HTTP endpoint.
 */
export * from './cli.js';
export * from './families.js';
export * from './http.js';
export * from './registry.js';
export * from './sources.js';
