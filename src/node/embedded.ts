/**
 * `broker: 'embedded'`: a broker host in this process (the broker engineer's `createBrokerHost`).
 */
import type { Logger } from '../log.js';

export interface EmbeddedBroker {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedBroker(_options: { port: number; log: Logger }): Promise<EmbeddedBroker> {
  throw new Error('embedded broker: waiting for broker/ createBrokerHost');
}
