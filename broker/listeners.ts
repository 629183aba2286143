/**
 * TCP, TLS and WebSocket listeners feeding one Aedes (Aedes has none built in: it takes any duplex
 * stream, `broker.handle(stream)`). TCP_NODELAY on every socket: measured on this machine, 44 ms
 * median round trip without it, under 1 ms with it (CONVENTIONS).
 */
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { BrokerListenError } from './errors.js';

export interface Listener {
  readonly port: number;
  /** Stops accepting and destroys every open connection. */
  close(): Promise<void>;
}

/** Connection handler: receives the stream Aedes should handle. */
export type OnConnection = (stream: Duplex, request?: http.IncomingMessage) => void;

export async function listenTcp(host: string, port: number, onConnection: OnConnection): Promise<Listener> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  const bound = await bind(server, host, port, 'MQTT/TCP');
  return {
    port: bound,
    close: () =>
      closeServer(server, () => {
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** PEM certificate (chain) and private key of the TLS listener. */
export interface TlsCertificate {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface TlsListener extends Listener {
  /**
   * Serves `certificate` to connections accepted from now on (those open keep theirs). Throws, and
   * keeps the current one, when it is not a PEM certificate with its matching key.
   */
  setCertificate(certificate: TlsCertificate): void;
}

/** MQTT over TLS (`mqtts://`): TLS 1.2 at least; Aedes gets the stream once the handshake is done. */
export async function listenTls(
  host: string,
  port: number,
  certificate: TlsCertificate,
  onConnection: OnConnection,
): Promise<TlsListener> {
  // Raw sockets, so close() also drops the ones still in their handshake.
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(
    // A handshake has 10 s (Node's default is 120 s: a client that opens sockets and never completes
    // the handshake would hold each that long).
    { noDelay: true, minVersion: 'TLSv1.2', handshakeTimeout: 10_000, cert: certificate.cert, key: certificate.key },
    (socket) => onConnection(socket),
  );
  server.on('connection', (socket: net.Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // A client that fails the handshake (no trust in our CA, plain MQTT on the TLS port) is its own
  // problem: Node destroys the socket; listening here keeps that from being reported as ours.
  server.on('tlsClientError', () => undefined);
  const bound = await bind(server, host, port, 'MQTT/TLS');
  return {
    port: bound,
    setCertificate: ({ cert, key }) => server.setSecureContext({ minVersion: 'TLSv1.2', cert, key }),
    close: () =>
      closeServer(server, () => {
        for (const socket of sockets) socket.destroy();
      }),
  };
}

export async function listenWebSocket(
  host: string,
  port: number,
  maxPayloadBytes: number,
  onConnection: OnConnection,
): Promise<Listener> {
  const server = http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket only\n');
  });
  // maxPayload: ws refuses larger frames/messages (close 1009) before handing them over.
  const wss = new WebSocketServer({ server, maxPayload: maxPayloadBytes });
  wss.on('connection', (ws, request) => {
    request.socket.setNoDelay(true);
    const stream = createWebSocketStream(ws);
    stream.on('error', () => stream.destroy());
    onConnection(stream, request);
  });
  const bound = await bind(server, host, port, 'MQTT/WebSocket');
  return {
    port: bound,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await closeServer(server, () => server.closeAllConnections());
    },
  };
}

async function bind(server: net.Server, host: string, port: number, what: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(new BrokerListenError(what, host, port, err));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return (server.address() as net.AddressInfo).port;
}

async function closeServer(server: net.Server, dropConnections: () => void): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  dropConnections();
  await closed;
}
