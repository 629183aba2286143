/**
 * Why did the broker refuse this node's CONNECT? Asked once per refusal of a node that sends a Will:
 * the same CONNECT without the Will. Accepted means the broker takes this node's credentials (or
 * wants none) and refused only the Will, whose presence topic lies outside the broker's root: the
 * broker and the node use different prefixes.
 */
import mqtt from 'mqtt';

export interface WillProbe {
  url: string;
  /** The node's client id; the probe uses it only with credentials (the broker binds them to it). */
  clientId: string;
  username?: string;
  password?: string;
  ca?: string | Buffer;
  timeoutMs: number;
}

/** True when the broker accepts the CONNECT without a Will within `timeoutMs` (the probe then leaves at once). */
export function acceptedWithoutWill(p: WillProbe): Promise<boolean> {
  return new Promise((resolve) => {
    const credentials = p.password !== undefined ? { username: p.username, password: p.password } : {};
    const client = mqtt.connect(p.url, {
      protocolVersion: 4,
      // Without credentials an id of no node (a "." is not allowed in node ids), so no connection of
      // a node of that id is taken over by the probe.
      clientId: p.password !== undefined ? p.clientId : `${p.clientId}.probe`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: p.timeoutMs,
      ...credentials,
      ...(p.ca !== undefined ? { ca: p.ca } : {}),
    });
    let settled = false;
    const done = (yes: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end(true);
      resolve(yes);
    };
    const timer = setTimeout(() => done(false), p.timeoutMs);
    client.once('connect', () => done(true));
    client.once('error', () => done(false));
    client.once('close', () => done(false));
  });
}
