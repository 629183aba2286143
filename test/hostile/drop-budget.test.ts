/**
 * The broker's drop budget, with real sockets: a client whose publishes on the dameso root are
 * dropped more than DEFAULT_MAX_DROPS_PER_WINDOW times within the window is disconnected and
 * counted, a reconnect from its address during the cool-down is refused at accept (`cooling_down`),
 * accepted again once the cool-down is over; a node that sent one bad payload stays connected, and
 * a node connected all along still gets its intent answered. The host's clock is a test clock
 * whose monotonic time moves only when the test moves it (the whole flood falls in one window).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DROP_COOLDOWN_MS, DEFAULT_MAX_DROPS_PER_WINDOW } from '../../broker/constants.js';
import { systemClock } from '../../src/clock.js';
import type { BrokerHandle } from '../helpers/brokers.js';
import { startAedes } from '../helpers/brokers.js';
import { fixedHandler, NodePool, until, YES } from '../helpers/node-fixtures.js';
import { bignum, intentWithBody } from './cbor-payloads.js';

const INTENT_TOPIC = 'dameso/v1/intent/want_chunk';
/** Refused by the wire scan (a tag): one drop, reason cbor_tag. */
const BAD = intentWithBody(bignum(64));

let now = 0;
const clock = { ...systemClock, monotonic: () => now };
let broker: BrokerHandle;
const pool = new NodePool();
const raws: MqttClient[] = [];

/** A raw mqtt.js client without reconnects; resolves at CONNACK or rejects when closed before it. */
function connectRaw(clientId: string): Promise<MqttClient> {
  const client = mqtt.connect(broker.url, { clientId, reconnectPeriod: 0, connectTimeout: 10_000 });
  raws.push(client);
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('close', () => reject(new Error(`${clientId}: closed before CONNACK`)));
  });
}

const dropped = () => broker.stats!().droppedTotal;

beforeAll(async () => {
  broker = await startAedes({ clock });
});
afterAll(async () => {
  for (const c of raws) c.end(true);
  await pool.cleanup();
  await broker.stop();
});

describe('drop budget', () => {
  it('disconnects a flooder after its budget and cools its address down; others are untouched', async () => {
    await pool.start(broker.url, 'bt-1', { roles: ['bt'], handlers: [fixedHandler('want_chunk', 'bt', YES('here'))] });
    const requester = await pool.start(broker.url, 'node-1');
    await until(() => requester.roster.get('bt-1')?.online === true, 10_000, 'bt-1 in the roster');

    // One bad payload (QoS 1: acknowledged after the check ran) does not cost the connection.
    const single = await connectRaw('single');
    await single.publishAsync(INTENT_TOPIC, BAD, { qos: 1 });
    expect(dropped()).toBe(1);

    const flooder = await connectRaw('flooder');
    let closed = false;
    flooder.once('close', () => {
      closed = true;
    });
    // Twice the budget, back to back at QoS 0: the broker closes the connection at budget + 1.
    for (let i = 0; i < 2 * (DEFAULT_MAX_DROPS_PER_WINDOW + 1); i++) flooder.publish(INTENT_TOPIC, BAD, { qos: 0 });
    await until(() => closed, 10_000, 'the flooder to be disconnected');
    const stats = broker.stats!();
    expect(stats.disconnectedForDrops).toBe(1);
    expect(stats.droppedTotal).toBeGreaterThanOrEqual(1 + DEFAULT_MAX_DROPS_PER_WINDOW + 1);

    // The same address (every client here is 127.0.0.1) cannot connect during the cool-down.
    await expect(connectRaw('flooder')).rejects.toThrow(/closed before CONNACK/);
    expect(broker.stats!().refused.cooling_down).toBe(1);

    // Connections it already held are not touched: the single bad payload's client, the nodes.
    expect(single.connected).toBe(true);
    await single.publishAsync('elsewhere/ping', 'still here', { qos: 1 });
    const outcome = await requester.declare('want_chunk', { subject: 'a'.repeat(64), deadlineMs: 10_000 });
    expect(outcome.yes.map((r) => r.envelope.from)).toEqual(['bt-1']);
    expect(broker.stats!().disconnectedForDrops).toBe(1);

    // Once the cool-down is over the address is welcome again.
    now += DEFAULT_DROP_COOLDOWN_MS;
    const back = await connectRaw('flooder');
    expect(back.connected).toBe(true);
    expect(broker.stats!().refused.cooling_down).toBe(1);
  });
});
