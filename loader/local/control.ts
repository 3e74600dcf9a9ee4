/**
 * Commands from other terminals, run inside the local stack: `POST /run {argv}` with the
 * stack's token; the answer streams the command's stdout and stderr as JSON lines and
 * ends with its exit code. Listens on 127.0.0.1 only.
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { StackState } from './state';

export type RunCommand = (argv: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }) => Promise<number>;

function lineWriter(res: http.ServerResponse, key: 'o' | 'e'): Writable {
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      res.write(`${JSON.stringify({ [key]: chunk.toString() })}\n`);
      done();
    },
  });
}

export async function startControlServer(token: string, run: RunCommand): Promise<{ url: string; stop(): Promise<void> }> {
  const expected = Buffer.from(`Bearer ${token}`);
  const server = http.createServer((req, res) => {
    const auth = Buffer.from(req.headers.authorization ?? '');
    if (req.method !== 'POST' || req.url !== '/run' || auth.length !== expected.length || !timingSafeEqual(auth, expected)) {
      res.writeHead(req.url === '/run' ? 401 : 404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let argv: string[];
      try {
        argv = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { argv: string[] }).argv;
        if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) throw new Error('argv');
      } catch {
        res.writeHead(400).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      run(argv, { stdout: lineWriter(res, 'o'), stderr: lineWriter(res, 'e') })
        .catch((err: unknown) => {
          res.write(`${JSON.stringify({ e: `benchsight: ${(err as Error).message}\n` })}\n`);
          return 1;
        })
        .then((code) => res.end(`${JSON.stringify({ code })}\n`));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/** Sends a command to the running stack and relays its output; resolves with its exit code. */
export async function forwardToStack(state: StackState, argv: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
  const res = await fetch(`${state.controlUrl}/run`, {
    method: 'POST',
    headers: { authorization: `Bearer ${state.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ argv }),
  });
  if (!res.ok || !res.body) throw new Error(`the running BenchSight stack (pid ${state.pid}) refused the command: HTTP ${res.status}`);
  let code = 1;
  let rest = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    rest += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (!line) continue;
      const m = JSON.parse(line) as { o?: string; e?: string; code?: number };
      if (m.o !== undefined) io.stdout.write(m.o);
      if (m.e !== undefined) io.stderr.write(m.e);
      if (m.code !== undefined) code = m.code;
    }
  }
  return code;
}
