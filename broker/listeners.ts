/**
 * TCP, TLS, WebSocket and WebSocket-over-TLS listeners feeding one Aedes (Aedes has none built in:
 * it takes any duplex stream, `broker.handle(stream)`). TCP_NODELAY on every socket: without it
 * Nagle and delayed ACKs put tens of ms on a request/reply (docs/design-notes.md).
 */
import http from 'node:http';
import https from 'node:https';
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

/**
 * Decides on each accepted socket before anything is read from it: false when it refused it (and
 * destroyed it). Run first on every listener, before a TLS handshake or an HTTP request is parsed.
 */
export type AcceptGate = (socket: net.Socket) => boolean;

export async function listenTcp(
  host: string,
  port: number,
  onConnection: OnConnection,
  gate?: AcceptGate,
): Promise<Listener> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    if (gate && !gate(socket)) return;
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

/**
 * Told of each connection that failed its TLS handshake, with the peer's address. A client that
 * verifies during the handshake (OpenSSL's) refuses our certificate with an alert (`unknown ca`); a
 * Node one (mqtt.js) checks it after its side is done and hangs up: in TLS 1.3 before ours is
 * (ECONNRESET, counted), in TLS 1.2 after (not a failed handshake here, not counted).
 */
export type OnTlsFailure = (err: Error, remoteAddress: string | undefined) => void;

/** The context both TLS listeners serve, at creation and at each setCertificate(). */
const secureContextOf = ({ cert, key }: TlsCertificate) => ({ minVersion: 'TLSv1.2', cert, key }) as const;

/**
 * A handshake has 10 s (Node's default is 120 s: a client that opens sockets and never completes the
 * handshake would hold each that long).
 */
const tlsServerOptions = (certificate: TlsCertificate) =>
  ({ noDelay: true, handshakeTimeout: 10_000, ...secureContextOf(certificate) }) as const;

/**
 * Tracks a TLS server's raw sockets, so close() also drops the ones still in their handshake, and
 * reports failed handshakes (Node destroys those sockets itself).
 */
function tlsSockets(
  server: tls.Server,
  onTlsFailure: OnTlsFailure | undefined,
  gate: AcceptGate | undefined,
): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  // Read at accept: once a client has hung up, neither socket knows its peer any more.
  const peers = new WeakMap<net.Socket, string | undefined>();
  // A socket the gate destroyed still reaches the TLS server, which reports it as a failed handshake.
  const refused = new WeakSet<net.Socket>();
  server.prependListener('connection', (socket: net.Socket) => {
    if (gate && !gate(socket)) {
      refused.add(socket);
      return;
    }
    socket.setNoDelay(true);
    sockets.add(socket);
    peers.set(socket, socket.remoteAddress);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
    // `_parent`: the accepted socket a server-side TLSSocket wraps (a Node internal; without it, the
    // TLSSocket's own address, undefined after a reset).
    const accepted = (socket as { _parent?: net.Socket })._parent;
    if (accepted !== undefined && refused.has(accepted)) return;
    onTlsFailure?.(err, (accepted && peers.get(accepted)) ?? socket.remoteAddress);
  });
  return sockets;
}

/** MQTT over TLS (`mqtts://`): TLS 1.2 at least; Aedes gets the stream once the handshake is done. */
export async function listenTls(
  host: string,
  port: number,
  certificate: TlsCertificate,
  onConnection: OnConnection,
  onTlsFailure?: OnTlsFailure,
  gate?: AcceptGate,
): Promise<TlsListener> {
  const server = tls.createServer(tlsServerOptions(certificate), (socket) => onConnection(socket));
  const sockets = tlsSockets(server, onTlsFailure, gate);
  const bound = await bind(server, host, port, 'MQTT/TLS');
  return {
    port: bound,
    setCertificate: (c) => server.setSecureContext(secureContextOf(c)),
    close: () =>
      closeServer(server, () => {
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/**
 * MQTT over WebSocket (`ws://`). Plain HTTP requests get 426, or go to `onRequest` when given (the
 * dashboard's page shares the port with the MQTT it reads).
 */
export async function listenWebSocket(
  host: string,
  port: number,
  maxPayloadBytes: number,
  onConnection: OnConnection,
  gate?: AcceptGate,
  upgradeTimeoutMs?: number,
  onRequest: http.RequestListener = upgradeRequired,
): Promise<Listener> {
  const server = http.createServer(httpTimeouts(upgradeTimeoutMs), onRequest);
  if (gate) server.prependListener('connection', (socket: net.Socket) => gate(socket));
  const closeWebSockets = serveWebSocket(server, maxPayloadBytes, onConnection);
  const bound = await bind(server, host, port, 'MQTT/WebSocket');
  return {
    port: bound,
    close: async () => {
      await closeWebSockets();
      await closeServer(server, () => server.closeAllConnections());
    },
  };
}

/** MQTT over WebSocket over TLS (`wss://`): listenWebSocket on an HTTPS server, TLS as listenTls. */
export async function listenSecureWebSocket(
  host: string,
  port: number,
  maxPayloadBytes: number,
  certificate: TlsCertificate,
  onConnection: OnConnection,
  onTlsFailure?: OnTlsFailure,
  gate?: AcceptGate,
  upgradeTimeoutMs?: number,
  onRequest: http.RequestListener = upgradeRequired,
): Promise<TlsListener> {
  const server = https.createServer({ ...tlsServerOptions(certificate), ...httpTimeouts(upgradeTimeoutMs) }, onRequest);
  const sockets = tlsSockets(server, onTlsFailure, gate);
  const closeWebSockets = serveWebSocket(server, maxPayloadBytes, onConnection);
  const bound = await bind(server, host, port, 'MQTT/WebSocket over TLS');
  return {
    port: bound,
    setCertificate: (c) => server.setSecureContext(secureContextOf(c)),
    close: async () => {
      await closeWebSockets();
      await closeServer(server, () => {
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

/**
 * A socket that has not sent its whole upgrade request within `ms` is closed (Node's defaults wait a
 * minute, checked every 30 s); an upgraded WebSocket is no longer an HTTP request and is not timed.
 */
function httpTimeouts(ms: number | undefined): http.ServerOptions {
  if (ms === undefined) return {};
  return { headersTimeout: ms, requestTimeout: ms, connectionsCheckingInterval: Math.max(10, Math.min(1_000, ms / 4)) };
}

function upgradeRequired(_req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket only\n');
}

/** MQTT over the WebSocket upgrades of `server` (HTTP or HTTPS); returns what closes them. */
function serveWebSocket(
  server: http.Server | https.Server,
  maxPayloadBytes: number,
  onConnection: OnConnection,
): () => Promise<void> {
  // maxPayload: ws refuses larger frames/messages (close 1009) before handing them over.
  const wss = new WebSocketServer({ server, maxPayload: maxPayloadBytes });
  wss.on('connection', (ws, request) => {
    request.socket.setNoDelay(true);
    const stream = createWebSocketStream(ws);
    stream.on('error', () => stream.destroy());
    onConnection(stream, request);
  });
  return async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
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
