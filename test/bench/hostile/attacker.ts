/**
 * The attacker of `npm run bench:hostile`, in its own process: `attacker.ts MODE PORT`. Runs at
 * full speed until killed, reopening every socket the broker closes.
 * - idle: sockets that send nothing, 50 from each of 40 addresses (127.0.0.2..41);
 * - half_connect: the same, each sending the first 15,000 bytes of a 16,000-byte CONNECT;
 * - slow_publish: a whole CONNECT with keepalive 0, then a PUBLISH announcing 1 MiB trickled at
 *   1 KiB per 100 ms, 20 from each of 40 addresses;
 * - cbor: one MQTT client publishing hostile CBOR (a shared-reference DAG, a 64 KiB bignum) on a
 *   dameso intent topic, as fast as its socket drains; closed, it connects again every 100 ms.
 */
import type net from 'node:net';
import mqtt from 'mqtt';
import { connectFrom, connectPacket, halfPacket } from '../../helpers/hostile.js';

const [mode, portText] = process.argv.slice(2);
const port = Number(portText);
const ADDRESSES = Array.from({ length: 40 }, (_, i) => `127.0.0.${i + 2}`);

/** Keeps `perAddress` sockets open from each address; `onOpen` starts each one's behaviour. */
function hold(perAddress: number, onOpen: (s: net.Socket) => void): void {
  const open = (from: string) => {
    connectFrom(port, from).then(
      (s) => {
        onOpen(s);
        s.once('close', () => setImmediate(() => open(from)));
      },
      () => setTimeout(() => open(from), 10),
    );
  };
  for (const from of ADDRESSES) for (let i = 0; i < perAddress; i++) open(from);
}

function trickle(s: net.Socket): void {
  s.write(connectPacket(`slow-${Math.random().toString(36).slice(2)}`, 0));
  s.write(halfPacket(0x30, 1024 * 1024, 1024));
  const timer = setInterval(() => s.write(Buffer.alloc(1024, 0x61)), 100);
  s.once('close', () => clearInterval(timer));
}

function sharedRefDag(levels: number): Buffer {
  let item = Buffer.from([0xd8, 0x1c, 0x80]);
  for (let k = 1; k <= levels; k++) {
    const ref = k - 1 < 24 ? Buffer.from([0xd8, 0x1d, k - 1]) : Buffer.from([0xd8, 0x1d, 0x18, k - 1]);
    item = Buffer.concat([Buffer.from([0xd8, 0x1c, 0x82]), item, ref]);
  }
  return item;
}

function bignum(bytes: number): Buffer {
  const head = Buffer.from([0xc2, 0x5a, 0, 0, 0, 0]);
  head.writeUInt32BE(bytes, 2);
  return Buffer.concat([head, Buffer.alloc(bytes, 0xff)]);
}

/** A client of its own, without reconnects: resolves at CONNACK, undefined when closed before it. */
function connectOnce(clientId: string): Promise<mqtt.MqttClient | undefined> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId, reconnectPeriod: 0 });
  return new Promise((resolve) => {
    client.once('connect', () => resolve(client));
    client.once('close', () => {
      client.end(true);
      resolve(undefined);
    });
  });
}

/**
 * Publishes until the broker closes the connection (a drop budget), then connects again every
 * 100 ms (refused while its address cools down) and goes on: it comes back as soon as it may.
 */
async function cbor(): Promise<void> {
  const payloads = [sharedRefDag(40), bignum(64 * 1024)];
  for (;;) {
    const client = await connectOnce('attacker-cbor');
    if (client === undefined) {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    // A publish under way when the connection closes never settles: race it against the close.
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    for (let i = 0; client.connected; i++) {
      await Promise.race([client.publishAsync('dameso/v1/intent/want_chunk', payloads[i % 2]!, { qos: 0 }), closed]);
      if (i % 64 === 0) await new Promise((r) => setImmediate(r));
    }
    client.end(true);
  }
}

if (mode === 'idle') hold(50, () => undefined);
else if (mode === 'half_connect') hold(50, (s) => s.write(halfPacket(0x10, 16_000, 15_000)));
else if (mode === 'slow_publish') hold(20, trickle);
else if (mode === 'cbor') await cbor();
else {
  process.stderr.write(`attacker: unknown mode ${mode}\n`);
  process.exit(64);
}
