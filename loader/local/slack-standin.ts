/**
 * Slack's Web API, stood in for on one machine: the local bot and loader post their
 * messages (chat.postMessage) here, and they are printed in the terminal that runs the
 * stack. Listens on 127.0.0.1 only.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startSlackStandin(print: (line: string) => void): Promise<{ url: string; stop(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = (req.url ?? '').replace(/^\/(api\/)?/, '').split('?')[0];
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> = {};
      try {
        body = (req.headers['content-type'] ?? '').includes('json') ? JSON.parse(raw) : Object.fromEntries(new URLSearchParams(raw));
      } catch {
        body = {};
      }
      if (method === 'chat.postMessage') {
        print(
          `[slack #${String(body.channel ?? '?')}] ${String(body.text ?? '')
            .split('\n')
            .join('\n    ')}`,
        );
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, ts: `${Date.now() / 1000}`, channel: body.channel }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
