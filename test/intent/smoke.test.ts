import net from 'node:net';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { fixedHandler, NO_FULL, NodePool, SILENCE, YES } from '../helpers/node-fixtures.js';

let url = '';
let server: net.Server;
let broker: Aedes;
const pool = new NodePool();

beforeAll(async () => {
  broker = await Aedes.createBroker();
  server = net.createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});
afterAll(async () => {
  await pool.cleanup();
  await new Promise<void>((r) => server.close(() => r()));
  await new Promise<void>((r) => broker.close(() => r()));
});

test('smoke: yes, no, silence', async () => {
  await pool.start(url, 'y1', { roles: ['bt'], handlers: [fixedHandler('want_chunk', 'bt', YES('abc'))] });
  await pool.start(url, 'n1', { roles: ['bt'], handlers: [fixedHandler('want_chunk', 'bt', NO_FULL)] });
  await pool.start(url, 's1', { roles: ['bt'], handlers: [fixedHandler('want_chunk', 'bt', SILENCE)] });
  const req = await pool.start(url, 'req', {});
  const outcome = await req.declare('want_chunk', { subject: 'x', deadlineMs: 1000 });
  expect(outcome.expected.sort()).toEqual(['n1', 's1', 'y1']);
  expect(outcome.yes.map((r) => r.envelope.from)).toEqual(['y1']);
  expect(outcome.no.map((r) => r.envelope.reason)).toEqual(['storage_full']);
  expect(outcome.silence).toEqual(['s1']);
  expect(outcome.closedBy).toBe('deadline');
});
