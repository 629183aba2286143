/**
 * A stand-in for systemd's notify socket: a real unix datagram socket (python3, as Node has none)
 * that hands each sd_notify message to the test as its `KEY=VALUE` fields, and closes the file
 * descriptor a `BARRIER=1` message carries, as systemd does, so `systemd-notify` returns.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const LISTENER = `
import array, json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"listening": True}), flush=True)
while True:
    msg, anc, _flags, _addr = s.recvmsg(65536, socket.CMSG_SPACE(64 * 4))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
            for fd in fds:
                os.close(fd)
    print(json.dumps({"fields": [f for f in msg.decode().split("\\n") if f]}), flush=True)
`;

export interface NotifySocket {
  readonly path: string;
  /** Every message received, oldest first, as its fields (`READY=1`, `STATUS=…`). */
  readonly messages: string[][];
  /** How many messages hold `field`. */
  count(field: string): number;
  /** Resolves with the first message (from index `from` on) holding `field`; rejects after `timeoutMs`. */
  next(field: string, timeoutMs?: number, from?: number): Promise<string[]>;
  close(): void;
}

export async function startNotifySocket(dir: string): Promise<NotifySocket> {
  const path = join(dir, 'notify.sock');
  const child: ChildProcess = spawn('python3', ['-c', LISTENER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: string[][] = [];
  const waiters = new Set<() => void>();
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`notify listener exited with ${code}`)));
    lines.on('line', (line) => {
      const m = JSON.parse(line) as { listening?: boolean; fields?: string[] };
      if (m.listening) resolve();
      if (m.fields) {
        messages.push(m.fields);
        for (const w of [...waiters]) w();
      }
    });
  });
  const count = (field: string) => messages.filter((m) => m.includes(field)).length;
  return {
    path,
    messages,
    count,
    next(field, timeoutMs = 15_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.slice(from).find((m) => m.includes(field));
          if (found === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${field} within ${timeoutMs} ms; got ${JSON.stringify(messages)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => {
      child.kill('SIGKILL');
    },
  };
}
