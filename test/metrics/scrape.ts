/** Scraping a real metrics endpoint over HTTP, and reading one sample out of the text format. */
import http from 'node:http';

export interface Scraped {
  status: number;
  contentType: string;
  body: string;
}

/** One GET on a fresh connection (no agent pool: a closed endpoint must refuse, not reuse a socket). */
export function get(url: string, method = 'GET'): Promise<Scraped> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body }),
      );
    });
    req.once('error', reject);
    req.end();
  });
}

/** The value of `name{labels}` (labels matched exactly, order-insensitive); undefined if absent. */
export function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const got = (m[2] ?? '').split(',').filter(Boolean).sort().join(',');
    if (got === want) return Number(m[3]);
  }
  return undefined;
}
