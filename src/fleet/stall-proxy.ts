/**
 * A TCP proxy between a set of nodes and the broker that can stop forwarding for a while: the
 * nodes stay alive and their connections stay open, but nothing gets through either way, as on a
 * network that silently drops. While stalled, a side that closes is not told to the other (the
 * broker learns of a stalled node only by its keep-alive, then publishes its Will); new
 * connections are accepted and held. When the stall ends, held data flows again and the
 * connections whose other side closed meanwhile are closed.
 */
import net from 'node:net';

export interface StallProxy {
  /** `mqtt://127.0.0.1:PORT`: the broker URL the nodes behind the proxy connect to. */
  readonly url: string;
  readonly stalled: boolean;
  /** Connections open now (each node's, through the proxy), count. */
  connections(): number;
  /** Stops forwarding until `resume()`. */
  stall(): void;
  resume(): void;
  close(): Promise<void>;
}

interface Pair {
  node: net.Socket;
  broker: net.Socket;
  /** One side closed while stalled: close the other when the stall ends. */
  closeOnResume: boolean;
}

/**
 * Starts a proxy on 127.0.0.1 (ephemeral port) to the broker at `host:port`; a function is asked
 * at each connection (the broker may be known only once the proxy's URL has been handed out).
 */
export async function startStallProxy(
  target: { host: string; port: number } | (() => { host: string; port: number }),
): Promise<StallProxy> {
  const where = typeof target === 'function' ? target : () => target;
  const pairs = new Set<Pair>();
  let stalled = false;
  const server = net.createServer((node) => {
    node.setNoDelay(true);
    const { host, port } = where();
    const broker = net.connect(port, host);
    broker.setNoDelay(true);
    const pair: Pair = { node, broker, closeOnResume: false };
    pairs.add(pair);
    forward(node, broker, () => stalled);
    forward(broker, node, () => stalled);
    const end = (): void => {
      if (stalled) pair.closeOnResume = true;
      else drop(pair);
    };
    for (const s of [node, broker]) {
      s.on('error', () => undefined); // a reset is the end of this pair, handled on close
      s.on('close', end);
      if (stalled) s.pause();
    }
  });
  const drop = (p: Pair): void => {
    pairs.delete(p);
    p.node.destroy();
    p.broker.destroy();
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    get stalled() {
      return stalled;
    },
    connections: () => pairs.size,
    stall() {
      stalled = true;
      for (const p of pairs) {
        p.node.pause();
        p.broker.pause();
      }
    },
    resume() {
      stalled = false;
      for (const p of [...pairs]) {
        if (p.closeOnResume) drop(p);
        else {
          p.node.resume();
          p.broker.resume();
        }
      }
    },
    close() {
      for (const p of [...pairs]) drop(p);
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Copies `from` to `to` with back-pressure; nothing is read while stalled. */
function forward(from: net.Socket, to: net.Socket, isStalled: () => boolean): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) from.pause();
  });
  to.on('drain', () => {
    if (!isStalled()) from.resume();
  });
}
