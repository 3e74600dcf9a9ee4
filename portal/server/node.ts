/**
 * The Portal on a Node HTTP server (@hono/node-server), on 127.0.0.1 only. Request bodies
 * reach the app as streams (uploads are read as they arrive); a long upload is given
 * time (an hour), the rest of Node's defaults stand.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

export interface RunningPortal {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function listen(app: { fetch(request: Request): Response | Promise<Response> }, opts: { port?: number } = {}): Promise<RunningPortal> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: (request: Request) => app.fetch(request), hostname: '127.0.0.1', port: opts.port ?? 0 }, () => resolve(s as Server)) as Server;
    s.once('error', reject);
  });
  server.requestTimeout = 3600_000;
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Open event streams and keep-alive sockets would hold close() for ever.
        server.closeAllConnections();
      }),
  };
}
