/**
 * Does a port speak TLS? Asked when a plain MQTT connection was closed before its CONNACK: a TLS
 * listener drops the MQTT bytes it cannot read, and the node can then say to use mqtts://.
 */
import tls from 'node:tls';

/** True when `host:port` completes a TLS handshake (the certificate is not checked), within `timeoutMs`. */
export function speaksTls(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, servername: undefined });
    const done = (yes: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(yes);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** True for the error of a TLS handshake the peer did not answer as TLS (a plain listener). */
export function isNotTlsError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return (
    code === 'EPROTO' ||
    /wrong version number|before secure TLS connection was established|packet length too long/i.test(err.message)
  );
}
