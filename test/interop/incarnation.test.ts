/**
 * The incarnation rule in the roster and the reply check where no dameso broker checks anything
 * (Mosquitto, Debian's package, started by the test): a replaced board (empty data folder, same
 * id, session 1 under a new epoch) is counted online and answers at once, and a late offline
 * record of the old board does not mark it offline (protocol/incarnation.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { clientIdForNode, encode } from '../../src/protocol/index.js';
import { connectClient, endAll } from '../helpers/broker-clients.js';
import { type BrokerHandle, hasMosquitto, startMosquitto } from '../helpers/brokers.js';
import { fixedHandler, NodePool, until, YES } from '../helpers/node-fixtures.js';
import { presence } from '../protocol/fixtures.js';

const pool = new NodePool();
let broker: BrokerHandle | undefined;
afterEach(async () => {
  await pool.cleanup();
  await broker?.stop();
  broker = undefined;
});

const OLD_EPOCH = 4_242;

describe.skipIf(!hasMosquitto())('Mosquitto: a replaced board and the old board’s late offline record', () => {
  it('the roster takes the new epoch at once and ignores the old epoch’s offline record', async () => {
    broker = await startMosquitto();
    const url = broker.url;
    const req = await pool.start(url, 'req');
    // The old board: session 3 of epoch OLD_EPOCH, as its retained online record says.
    const oldBoard = await connectClient(url, { clientId: clientIdForNode('n3') });
    const record = (state: 'online' | 'offline') =>
      encode(presence('n3', { epoch: OLD_EPOCH, session: 3, state, roles: ['bt'] }));
    await oldBoard.publishAsync('dameso/v1/presence/n3', record('online'), { qos: 1, retain: true });
    await until(() => req.roster.get('n3')?.epoch === OLD_EPOCH, 10_000, 'old n3 online at req');

    // The new board, on an empty data folder, takes the id over (MQTT-3.1.4-2).
    const fresh = await pool.start(url, 'n3', {
      roles: ['bt'],
      handlers: [fixedHandler('want_chunk', 'bt', YES('from the new n3'))],
    });
    expect(fresh.transport.session).toBe(1);
    await until(() => req.roster.get('n3')?.epoch === fresh.transport.epoch, 10_000, 'new n3 at req');
    expect(req.roster.get('n3')).toMatchObject({ online: true, session: 1 });

    // The old board's offline record arrives late (a bridge, a Will held elsewhere): Mosquitto passes it on.
    const staleBefore = req.roster.stats().stale;
    const bridge = await connectClient(url, { clientId: 'bridge' });
    await bridge.publishAsync('dameso/v1/presence/n3', record('offline'), { qos: 1, retain: true });
    await until(() => req.roster.stats().stale > staleBefore, 10_000, 'the late record ignored');
    expect(req.roster.get('n3')).toMatchObject({ online: true, session: 1, epoch: fresh.transport.epoch });

    const outcome = await req.declare('want_chunk', { subject: 'c', to: ['n3'], deadlineMs: 5_000 });
    expect(outcome.yes.map((r) => [r.envelope.from, r.envelope.session])).toEqual([['n3', 1]]);
    expect(req.stats().intents.declare.staleSession).toBe(0);

    // The new board put its own record back in the store: a newcomer counts it online.
    const late = await pool.start(url, 'late');
    expect(late.roster.get('n3')).toMatchObject({ online: true, session: 1, epoch: fresh.transport.epoch });
    await endAll(oldBoard, bridge);
  });
});
