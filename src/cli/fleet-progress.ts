/**
 * What `dameso fleet` shows on stderr while it runs. On a terminal: a progress bar while the nodes
 * come up, then one live line rewritten in place each second. Elsewhere (a pipe, a log file):
 * plain lines, the start at every tenth of the fleet and the live line once a second.
 */
import type { FleetProgress } from '../fleet/index.js';

/** Characters of the bar between its brackets. */
const BAR_CHARS = 30;
/** Without a terminal, a start line every this share of the fleet. */
const PLAIN_START_STEP_SHARE = 0.1;

export function progressLine(p: FleetProgress): string {
  return (
    `t=${p.seconds}s live=${p.live} restarts=${p.restarts} | declared=${p.declared} closed=${p.closed} open=${p.open} | ` +
    `yes=${p.yes} no=${p.no} silence=${p.silence} offline=${p.offline} | reply p50=${p.replyP50Ms}ms p99=${p.replyP99Ms}ms`
  );
}

export function startBar(up: number, total: number): string {
  const done = Math.round((BAR_CHARS * up) / Math.max(1, total));
  return `[${'#'.repeat(done)}${'.'.repeat(BAR_CHARS - done)}] ${up}/${total} nodes up`;
}

export interface ProgressView {
  starting(up: number, total: number): void;
  running(p: FleetProgress): void;
  /** Ends an in-place line before the summary. */
  done(): void;
}

export function progressView(out: NodeJS.WriteStream): ProgressView {
  const tty = out.isTTY === true;
  let nextPlain = 0;
  let inPlace = false;
  const put = (line: string): void => {
    if (!tty) {
      out.write(`${line}\n`);
      return;
    }
    // Clear to the end of the line: the new text may be shorter than the old.
    out.write(`\r${line}\x1b[K`);
    inPlace = true;
  };
  return {
    starting(up, total) {
      if (tty || up >= nextPlain || up === total) {
        put(startBar(up, total));
        nextPlain = up + Math.max(1, Math.ceil(total * PLAIN_START_STEP_SHARE));
      }
    },
    running: (p) => put(progressLine(p)),
    done() {
      if (inPlace) out.write('\n');
      inPlace = false;
    },
  };
}
