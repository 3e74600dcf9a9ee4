/**
 * The bot over HTTP, for local use: Bolt's HTTPReceiver behind a server that listens on
 * 127.0.0.1 only and answers POST /slack/events. Slow commands run in this process
 * after the ack (in-process dispatcher) unless another dispatcher is given.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTPReceiver, LogLevel } from './bolt';
import type { Database } from '../loader/db/database';
import type { CommandContext, Extensions } from '../loader/commands/execute';
import type { Source } from '../loader/engine';
import { createBotApp } from './app';
import type { BotConfig } from './config';
import { inProcessDispatcher, type JobDispatcher } from './dispatcher';
import { slackClient } from './report';
import { requestGuard, type IncomingRequest } from './request-guard';
import { botLog } from './log';

const EVENTS_PATH = '/slack/events';

export interface StartBotOptions {
  config: BotConfig;
  db: Database;
  /** 0 picks a free port; default 3000. */
  port?: number;
  /** Where loads read their files (a folder, the drop bucket). */
  source?: (want?: { gameId?: number }) => Promise<Source>;
  extensions?: Extensions;
  loadOptions?: CommandContext['loadOptions'];
  /** Default: run jobs in this process after the ack. */
  dispatcher?: JobDispatcher;
  log?: (line: string) => void;
  now?: () => number;
  answerWithinMs?: number;
  progressEveryMs?: number;
}

export interface RunningBot {
  port: number;
  /** http://127.0.0.1:<port>/slack/events */
  url: string;
  dispatcher: JobDispatcher;
  /** Stops listening, then waits for the jobs this process runs. */
  stop(): Promise<void>;
}

/** Slack's requests are a few kilobytes; Bolt's own limit is 4 MB. */
const MAX_BODY = 1024 * 1024;

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error(`request body over ${limit} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function incoming(req: IncomingMessage, rawBody: Buffer): IncomingRequest {
  const one = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? undefined : v;
  };
  return {
    rawBody: rawBody.toString('utf8'),
    contentType: one('content-type'),
    timestamp: one('x-slack-request-timestamp'),
    signature: one('x-slack-signature'),
    remote: req.socket.remoteAddress,
    path: req.url,
  };
}

export async function startBot(o: StartBotOptions): Promise<RunningBot> {
  const log = o.log ?? ((l: string) => botLog(l));
  const receiver = new HTTPReceiver({ signingSecret: o.config.signingSecret, endpoints: EVENTS_PATH, logLevel: LogLevel.ERROR });
  const inProcess = o.dispatcher
    ? undefined
    : inProcessDispatcher({
        db: o.db,
        source: o.source,
        extensions: o.extensions,
        loadOptions: o.loadOptions,
        log,
        progressEveryMs: o.progressEveryMs,
        client: slackClient(o.config.botToken, { slackApiUrl: o.config.slackApiUrl }),
      });
  const dispatcher = o.dispatcher ?? inProcess!;
  createBotApp(receiver, { config: o.config, db: o.db, dispatcher, extensions: o.extensions, log, now: o.now, answerWithinMs: o.answerWithinMs });
  // Signature, clock and replays are checked before Bolt sees a request (request-guard.ts).
  const guard = requestGuard(o.db, { signingSecret: o.config.signingSecret, log });

  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://x').pathname !== EVENTS_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: the bot answers POST ${EVENTS_PATH}\n`);
      return;
    }
    void (async () => {
      let rawBody: Buffer;
      try {
        rawBody = await readBody(req, MAX_BODY);
      } catch (err) {
        res.writeHead(413, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`);
        return;
      }
      const verdict = await guard(incoming(req, rawBody));
      if (!verdict.ok) {
        res.writeHead(verdict.status, { 'content-type': 'text/plain' }).end(`${verdict.text}\n`);
        return;
      }
      // Bolt reads a body that was already read from here (HTTPModuleFunctions.bufferIncomingMessage).
      Object.assign(req, { rawBody });
      receiver.requestListener(req, res);
    })().catch((err: unknown) => {
      log(`slack: a request failed: ${(err as Error).stack ?? err}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 3000, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}${EVENTS_PATH}`,
    dispatcher,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await inProcess?.drain();
    },
  };
}
