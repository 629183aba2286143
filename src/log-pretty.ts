/**
 * One pino JSON record as one human line, for a terminal: `HH:MM:SS.mmm LEVEL message key=value…`.
 * Colours only when asked (the caller asks on a TTY). Journald and files get pino's JSON instead.
 */

const LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** ANSI SGR codes per level: gray, blue, green, yellow, red, magenta. */
const LEVEL_COLOURS: Readonly<Record<number, number>> = { 10: 90, 20: 34, 30: 32, 40: 33, 50: 31, 60: 35 };

/** Fields every record carries that the line shows otherwise (time, level) or that say nothing on a terminal. */
const HIDDEN_KEYS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'v']);

const LEVEL_WIDTH = 5;

export interface PrettyOptions {
  /** ANSI colours (level, dimmed keys). Default false. */
  colours?: boolean;
  /** Time zone for the clock time: 'local' or 'utc'. Default 'local'. */
  zone?: 'local' | 'utc';
}

const paint = (on: boolean, code: number, text: string): string => (on ? `\u001b[${code}m${text}\u001b[0m` : text);

function clockTime(ms: number, zone: 'local' | 'utc'): string {
  const d = new Date(ms);
  const utc = zone === 'utc';
  const two = (n: number) => String(n).padStart(2, '0');
  const h = utc ? d.getUTCHours() : d.getHours();
  const m = utc ? d.getUTCMinutes() : d.getMinutes();
  const s = utc ? d.getUTCSeconds() : d.getSeconds();
  return `${two(h)}:${two(m)}:${two(s)}.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
}

/** A value as it reads after `key=`: plain words bare, anything with spaces or quotes JSON-quoted. */
function valueText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value !== null && typeof value === 'object') {
    // pino's error serializer: the message says it; the stack belongs in the JSON logs.
    const err = value as { type?: unknown; message?: unknown };
    if (typeof err.message === 'string' && typeof err.type === 'string') return JSON.stringify(err.message);
    return JSON.stringify(value);
  }
  return String(value);
}

/** The pretty line (with its newline) for one pino record. */
export function prettyLine(record: Record<string, unknown>, options: PrettyOptions = {}): string {
  const colours = options.colours === true;
  const level = typeof record.level === 'number' ? record.level : 30;
  const name = (LEVEL_NAMES[level] ?? String(level)).padEnd(LEVEL_WIDTH);
  const time = typeof record.time === 'number' ? clockTime(record.time, options.zone ?? 'local') : '';
  const parts = [paint(colours, 90, time), paint(colours, LEVEL_COLOURS[level] ?? 0, name), String(record.msg ?? '')];
  for (const [key, value] of Object.entries(record)) {
    if (HIDDEN_KEYS.has(key) || value === undefined) continue;
    parts.push(`${paint(colours, 2, `${key}=`)}${valueText(value)}`);
  }
  return `${parts.filter((p) => p !== '').join(' ')}\n`;
}

/** The same line from pino's serialized JSON; a line that is not JSON passes through unchanged. */
export function prettyFromJson(json: string, options: PrettyOptions = {}): string {
  try {
    return prettyLine(JSON.parse(json) as Record<string, unknown>, options);
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
}
