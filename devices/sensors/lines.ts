/**
 * Bounded line framing for serial drivers. NMEA 0183 ends sentences with CRLF, but captures and
 * some microcontrollers send LF only, so a line ends at LF and one trailing CR is dropped: both
 * framings give the same lines. We do not use `@serialport/parser-readline` here because its
 * buffer grows without bound when a port sends garbage with no delimiter (wrong baud rate), and a
 * `'\r\n'` delimiter would never split an LF-only stream.
 */
import { StringDecoder } from 'node:string_decoder';
import { MAX_LINE_BYTES } from './constants.js';
import type { ReadingEmitter } from './emitter.js';
import type { DriverStats, SensorDriver, SerialPortLike } from './types.js';

export interface LineSplitter {
  /** Feed one chunk as read from the port; calls `onLine` for each complete line. */
  push(chunk: Buffer | string): void;
  /** Lines dropped because they grew past the bound. */
  readonly overlong: number;
}

/** `maxLineBytes` (chars, default `MAX_LINE_BYTES`): a longer line is dropped up to its end and counted. */
export function createLineSplitter(onLine: (line: string) => void, maxLineBytes = MAX_LINE_BYTES): LineSplitter {
  const decoder = new StringDecoder('latin1');
  let buf = '';
  let skipping = false;
  let overlong = 0;
  return {
    get overlong() {
      return overlong;
    },
    push(chunk) {
      let text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
      for (;;) {
        const nl = text.indexOf('\n');
        if (nl < 0) break;
        const piece = text.slice(0, nl);
        text = text.slice(nl + 1);
        if (skipping) {
          skipping = false;
          continue;
        }
        let line = buf + piece;
        buf = '';
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line.length > maxLineBytes) {
          overlong++;
          continue;
        }
        onLine(line);
      }
      if (skipping) return;
      buf += text;
      if (buf.length > maxLineBytes) {
        // Bounded: drop what we hold and skip to the next line end.
        overlong++;
        buf = '';
        skipping = true;
      }
    },
  };
}

/**
 * The lifecycle every line-framed serial driver shares: frame the port's bytes into lines for
 * `onLine`, attach on `start()`, detach on `stop()` (the port's owner closes it), and report the
 * driver's counters plus the overlong lines dropped by the framing.
 */
export function createLineDriver(parts: {
  name: string;
  port: SerialPortLike;
  onLine: (line: string) => void;
  stats: DriverStats;
  emitter: ReadingEmitter;
}): SensorDriver {
  const { port, stats, emitter } = parts;
  const splitter = createLineSplitter(parts.onLine);
  const onData = (chunk: Buffer | string): void => splitter.push(chunk);
  let started = false;
  return {
    name: parts.name,
    start() {
      if (started) return;
      started = true;
      port.on('data', onData);
    },
    async stop() {
      if (!started) return;
      started = false;
      port.off('data', onData);
    },
    onReading: (l) => emitter.on(l),
    stats: () => ({ ...stats, overlong: splitter.overlong }),
  };
}
