/** mqtt.js clients for broker tests: connect with TCP_NODELAY, collect messages, publish and wait. */
import type { Socket } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** Connects (MQTT 3.1.1, no auto-reconnect unless asked) and resolves on CONNACK. */
export async function connectClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => {
      (client.stream as Partial<Socket>).setNoDelay?.(true);
      resolve();
    });
    client.once('error', reject);
    client.once('close', () => reject(new Error(`connection to ${url} closed before CONNACK`)));
  });
  return client;
}

export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

/** Subscribes and records every message on `filter` in order. */
export async function collect(client: MqttClient, filter: string, qos: 0 | 1 = 1): Promise<Received[]> {
  const got: Received[] = [];
  client.on('message', (topic, payload, packet) => {
    if (matches(filter, topic)) got.push({ topic, payload, retain: packet.retain });
  });
  await client.subscribeAsync(filter, { qos });
  return got;
}

/** Resolves when `predicate` holds, checking on every message the client receives. */
export function waitFor(client: MqttClient, predicate: () => boolean, what = 'condition'): Promise<void> {
  if (predicate()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onMessage = () => {
      if (predicate()) {
        client.off('message', onMessage);
        client.off('close', onClose);
        resolve();
      }
    };
    const onClose = () => reject(new Error(`connection closed while waiting for ${what}`));
    client.on('message', onMessage);
    client.once('close', onClose);
  });
}

export async function endAll(...clients: (MqttClient | undefined)[]): Promise<void> {
  await Promise.all(clients.map((c) => c?.endAsync(true)));
}

/** MQTT topic filter match (+ and #). */
export function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
