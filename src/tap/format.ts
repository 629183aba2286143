/** A tap event as one readable line (what `mosquitto_sub -v` would show, decoded). */
import type { TapEvent } from './decode.js';

const time = (t: number): string => new Date(t).toISOString().slice(11, 23);
const short = (id: string): string => (id.length > 16 ? `${id.slice(0, 12)}…` : id);

function body(e: TapEvent): string {
  switch (e.type) {
    case 'presence':
      return `${e.from} ${e.state} session ${e.session}${e.roles.length > 0 ? ` roles ${e.roles.join(',')}` : ''}`;
    case 'intent':
      return (
        `${e.kind} from ${e.from}${e.subject !== undefined ? ` subject ${e.subject}` : ''}` +
        `${e.to !== undefined ? ` to ${e.to.join(',')}` : ''} id ${e.id} deadline ${e.deadline} ms`
      );
    case 'reply': {
      const r = e.r === 'no' ? `no ${e.reason ?? ''}`.trim() : 'yes';
      const ms = e.elapsedMs === null ? 'intent not seen' : `${e.elapsedMs.toFixed(1)} ms`;
      return `${r} from ${e.from} to ${e.to} id ${e.id} (${ms})`;
    }
    case 'have':
      return `${short(e.chunk)} at ${e.from} ${e.size === null ? 'withdrawn' : `${e.size} bytes`}`;
    case 'sync':
      return `${e.from}${e.cleared ? ' cleared' : ''}`;
    case 'malformed':
      return `${e.topic}: ${e.reason} (${e.detail})`;
  }
}

export function tapLine(e: TapEvent): string {
  return `${time(e.t)} ${e.type.padEnd(9)} ${body(e)}${e.retained ? ' (retained)' : ''}`;
}
