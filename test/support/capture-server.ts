/** A local HTTP server that records what is posted to it (Slack's API, response_url). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Captured {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json?: unknown;
}

export async function captureServer(reply: (c: Captured) => unknown = () => ({ ok: true })) {
  const seen: Captured[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const c = { path: req.url ?? '', headers: req.headers, body, json };
      seen.push(c);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(reply(c)));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
