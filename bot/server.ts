/**
 * The bot over HTTP, for local use: Bolt's HTTPReceiver behind a server that listens on
 * 127.0.0.1 only and answers POST /slack/events. Slow commands run in this process
 * after the ack (in-process dispatcher) unless another dispatcher is given.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTPReceiver, LogLevel } from './bolt';
import type { Database } from '../loader/db/database';
import type { CommandContext, Extensions } from '../loader/commands/execute';
import type { Source } from '../loader/engine';
import { createBotApp } from './app';
import type { BotConfig } from './config';
import { inProcessDispatcher, type JobDispatcher } from './dispatcher';
import { slackClient } from './report';
import { signatureFailureAuditor } from './signature-audit';

export const EVENTS_PATH = '/slack/events';

export interface StartBotOptions {
  config: BotConfig;
  db: Database;
  /** 0 picks a free port; default 3000. */
  port?: number;
  /** Where loads read their files (a folder, the drop bucket). */
  source?: () => Promise<Source>;
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

export async function startBot(o: StartBotOptions): Promise<RunningBot> {
  const log = o.log ?? ((l: string) => console.error(l));
  const receiver = new HTTPReceiver({ signingSecret: o.config.signingSecret, endpoints: EVENTS_PATH, logLevel: LogLevel.ERROR });
  const inProcess = o.dispatcher
    ? undefined
    : inProcessDispatcher({
        db: o.db, source: o.source, extensions: o.extensions, loadOptions: o.loadOptions, log, progressEveryMs: o.progressEveryMs,
        client: slackClient(o.config.botToken, { slackApiUrl: o.config.slackApiUrl }),
      });
  const dispatcher = o.dispatcher ?? inProcess!;
  createBotApp(receiver, { config: o.config, db: o.db, dispatcher, extensions: o.extensions, log, now: o.now, answerWithinMs: o.answerWithinMs });
  const auditRefused = signatureFailureAuditor(o.db, { log, now: o.now });

  const server: Server = createServer((req, res) => {
    res.on('finish', () => {
      if (res.statusCode !== 401) return;
      const ts = req.headers['x-slack-request-timestamp'];
      void auditRefused({ timestamp: Array.isArray(ts) ? ts[0] : ts, remote: req.socket.remoteAddress, path: req.url });
    });
    try {
      receiver.requestListener(req, res);
    } catch {
      // Bolt throws for any other path or method.
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: the bot answers POST ${EVENTS_PATH}\n`);
    }
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
