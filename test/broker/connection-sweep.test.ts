import { describe, expect, it } from 'vitest';
import { createConnectionSweep, type SweepClose, type Swept } from '../../broker/connection-sweep.js';
import { createManualClock } from '../../src/clock.js';

function connection(connected = true) {
  const closed: SweepClose[] = [];
  const c = {
    completed: 0,
    midPacket: false,
    connected: () => connected,
    close: (why: SweepClose) => closed.push(why),
  };
  return { c: c as Swept & { completed: number; midPacket: boolean }, closed };
}

describe('connection sweep', () => {
  it('closes a packet under way longer than the packet timeout, whatever trickles in', () => {
    const clock = createManualClock();
    const sweep = createConnectionSweep({ clock, packetTimeoutMs: 1_000, idleMs: 60_000 });
    const { c, closed } = connection();
    sweep.add(c);
    sweep.start();
    c.midPacket = true; // a packet starts and never completes
    clock.advance(900);
    expect(closed).toEqual([]);
    clock.advance(600);
    expect(closed).toEqual(['packet_timeout']);
    expect(sweep.size).toBe(0);
    sweep.stop();
  });

  it('a connection completing packets is neither slow nor idle', () => {
    const clock = createManualClock();
    const sweep = createConnectionSweep({ clock, packetTimeoutMs: 1_000, idleMs: 3_000 });
    const { c, closed } = connection();
    sweep.add(c);
    sweep.start();
    for (let i = 0; i < 20; i++) {
      c.midPacket = true;
      clock.advance(500);
      c.completed++;
      c.midPacket = false;
      clock.advance(500);
    }
    expect(closed).toEqual([]);
    sweep.stop();
  });

  it('closes a connected client silent past the idle limit, not one still before its CONNECT', () => {
    const clock = createManualClock();
    const sweep = createConnectionSweep({ clock, packetTimeoutMs: 1_000, idleMs: 3_000 });
    const idle = connection(true);
    const connecting = connection(false);
    sweep.add(idle.c);
    sweep.add(connecting.c);
    sweep.start();
    clock.advance(2_900);
    expect(idle.closed).toEqual([]);
    clock.advance(400);
    expect(idle.closed).toEqual(['idle']);
    clock.advance(10_000);
    expect(connecting.closed).toEqual([]); // the connect timeout is Aedes' job
    sweep.stop();
  });
});
