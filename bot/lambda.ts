/**
 * The bot on AWS Lambda (behind a Function URL or API Gateway): Bolt's
 * AwsLambdaReceiver over the same app as the local server.
 * AwsLambdaReceiver returns only when the whole listener has finished, so the listener
 * must never wait for slow work: it records the command, hands it to the dispatcher and
 * acks. The deployed handler, which reads its settings and secrets from the environment,
 * is loader/entry/bot-lambda.ts.
 */
import { AwsLambdaReceiver, LogLevel } from './bolt';
import type { Database } from '../loader/db/database';
import type { Extensions } from '../loader/commands/execute';
import type { Source } from '../loader/engine';
import { createBotApp } from './app';
import type { BotConfig } from './config';
import { inProcessDispatcher, type JobDispatcher } from './dispatcher';
import { slackClient } from './report';
import { requestGuard } from './request-guard';
import { botLog } from './log';

type AwsHandler = ReturnType<AwsLambdaReceiver['toHandler']>;
export type LambdaEvent = Parameters<AwsHandler>[0];
export type LambdaResponse = Awaited<ReturnType<AwsHandler>>;
export type LambdaHandler = (event: LambdaEvent, context?: unknown) => Promise<LambdaResponse>;

export interface LambdaBotOptions {
  config: BotConfig;
  db: Database;
  /**
   * Where slow commands go. On Lambda this must be the job queue (enqueue, then invoke the
   * worker asynchronously): work left running after the response may be frozen. Without
   * one, jobs run in this process after the ack — fine in tests, unreliable on Lambda.
   */
  dispatcher?: JobDispatcher;
  source?: () => Promise<Source>;
  extensions?: Extensions;
  log?: (line: string) => void;
  now?: () => number;
  answerWithinMs?: number;
  progressEveryMs?: number;
}

function header(event: LambdaEvent, name: string): string | undefined {
  const key = Object.keys(event.headers ?? {}).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : event.headers[key];
}

/**
 * AwsLambdaReceiver compares the content type exactly; a proxy that adds
 * "; charset=utf-8" would make it misread the form. The signature covers the body
 * only, so naming the type plainly is safe.
 */
function plainContentType(event: LambdaEvent): LambdaEvent {
  const key = Object.keys(event.headers ?? {}).find((k) => k.toLowerCase() === 'content-type');
  const value = key === undefined ? undefined : event.headers[key];
  if (key === undefined || !value) return event;
  const plain = value.split(';')[0]!.trim().toLowerCase();
  return plain === value ? event : ({ ...event, headers: { ...event.headers, [key]: plain } } as LambdaEvent);
}

export function createLambdaHandler(o: LambdaBotOptions): LambdaHandler {
  // Each invocation's request id goes with its lines (one invocation at a time per container).
  let requestId: string | undefined;
  const log = o.log ?? ((l: string) => botLog(l, { requestId }));
  const receiver = new AwsLambdaReceiver({ signingSecret: o.config.signingSecret, logLevel: LogLevel.ERROR });
  const dispatcher =
    o.dispatcher ??
    inProcessDispatcher({
      db: o.db,
      source: o.source,
      extensions: o.extensions,
      log,
      progressEveryMs: o.progressEveryMs,
      client: slackClient(o.config.botToken, { slackApiUrl: o.config.slackApiUrl }),
    });
  createBotApp(receiver, { config: o.config, db: o.db, dispatcher, extensions: o.extensions, log, now: o.now, answerWithinMs: o.answerWithinMs });
  const inner = receiver.toHandler();
  // Signature, clock and replays are checked before Bolt sees a request (request-guard.ts).
  const guard = requestGuard(o.db, { signingSecret: o.config.signingSecret, log });
  return async (event, context) => {
    requestId = (context as { awsRequestId?: string } | undefined)?.awsRequestId;
    const plain = plainContentType(event);
    const ctx = event.requestContext as { http?: { sourceIp?: string }; identity?: { sourceIp?: string } } | undefined;
    const verdict = await guard({
      rawBody: event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8').toString('utf8') : '',
      contentType: header(plain, 'content-type'),
      timestamp: header(event, 'x-slack-request-timestamp'),
      signature: header(event, 'x-slack-signature'),
      remote: ctx?.http?.sourceIp ?? ctx?.identity?.sourceIp,
      path: 'rawPath' in event ? event.rawPath : event.path,
    });
    if (!verdict.ok) return { statusCode: verdict.status, headers: { 'content-type': 'text/plain' }, body: verdict.text };
    return inner(plain, context);
  };
}
