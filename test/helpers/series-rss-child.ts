/**
 * Child process for the series benchmark: open a series, use it a little, report the open time
 * and the memory of this process as one JSON line. With `--bare` it only reports the memory of a
 * process that loaded the same code (the floor a series adds to).
 */
import { createSeries, type Entry, type View } from '../../src/series/index.js';

const count: View<Record<string, number>> = {
  name: 'count',
  initial: () => ({}),
  apply: (s, e: Entry) => ({ ...s, [e.event]: (s[e.event] ?? 0) + 1 }),
};

const [dir, mode] = process.argv.slice(2);
if (mode === '--bare') {
  process.stdout.write(`${JSON.stringify({ rssBytes: process.memoryUsage().rss })}\n`);
} else {
  const t0 = performance.now();
  const s = createSeries({ dir: dir!, durability: 'batch', views: [count as View<unknown>] });
  const report = await s.open();
  const openMs = performance.now() - t0;
  const data = new Uint8Array(100);
  await Promise.all(Array.from({ length: 1000 }, (_, i) => s.append({ event: 'rss', i, data })));
  const tail = await s.tail(100);
  let read = 0;
  for await (const _ of s.read({ fromSeq: report.firstSeq, toSeq: report.firstSeq + 5000 })) read++;
  (globalThis as { gc?: () => void }).gc?.();
  const mem = process.memoryUsage();
  await s.close();
  process.stdout.write(
    `${JSON.stringify({ openMs, rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, report, tail: tail.length, read })}\n`,
  );
}
