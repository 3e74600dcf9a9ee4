/**
 * Slack's side of the conversation, for tests that drive the real Bolt endpoint over
 * HTTP: signed slash commands and button clicks, a capture server standing in for
 * response_url, and a mock Web API that records chat.postMessage calls.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { TABLE_NAMES } from '../../../loader/warehouse';
import type { Queryable } from '../../../loader/db/database';
import type { BotConfig } from '../../../bot/config';
import { csvFor, folderWith, miniLeagueFiles } from '../../support/fixtures';

export const SECRET = '8f14e45fceea167a5a36dedd4bea2543';
export const TEAM = 'T0TEAM';
export const CHANNEL = 'C0CHAN';
export const NOTIFY = 'C0NOTIFY';
export const ADMIN = 'U0ADMIN';
export const OPERATOR = 'U0OPER';
export const VIEWER = 'U0VIEW';
export const STRANGER = 'U0NOBODY';

export function testConfig(over: Partial<BotConfig> = {}): BotConfig {
  return {
    signingSecret: SECRET,
    botToken: 'xoxb-test-token',
    teamId: TEAM,
    roles: { admins: [ADMIN], operators: [OPERATOR], viewers: [VIEWER] },
    channels: null,
    notifyChannel: NOTIFY,
    confirmTtlMs: 5 * 60_000,
    botId: 'B0BOT',
    botUserId: 'U0BOT',
    ...over,
  };
}

/** Every warehouse table's file: the mini league, and header-only files for the rest. */
export function leagueFolder(extra: Record<string, string> = {}): string {
  const files: Record<string, string> = { ...miniLeagueFiles() };
  for (const t of TABLE_NAMES) files[`${t}.csv`] ??= csvFor(t, []);
  return folderWith({ ...files, ...extra });
}

export function signature(body: string, ts: number, secret = SECRET): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
}

export function signedHeaders(body: string, opts: { ts?: number; secret?: string } = {}): Record<string, string> {
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(ts),
    'x-slack-signature': signature(body, ts, opts.secret),
  };
}

/** A Lambda Function URL event, as AWS delivers a form POST: base64 body, lower-case headers. */
export function functionUrlEvent(body: string, headers: Record<string, string>): LambdaFunctionURLEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: { ...headers, host: 'abc123.lambda-url.eu-west-1.on.aws', 'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)' },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abc123',
      domainName: 'abc123.lambda-url.eu-west-1.on.aws',
      domainPrefix: 'abc123',
      http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'Slackbot 1.0' },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: Date.now(),
    },
    body: Buffer.from(body).toString('base64'),
    isBase64Encoded: true,
  };
}

export interface SlashArgs {
  text: string;
  userId?: string;
  teamId?: string;
  channelId?: string;
  responseUrl?: string;
}

/** Slack gives every request its own trigger_id, so no two requests have the same body and signature. */
const triggerId = () => `${Date.now()}.${randomBytes(6).readUIntBE(0, 6)}.${randomBytes(8).toString('hex')}`;

export function slashBody(a: SlashArgs): string {
  return new URLSearchParams({
    token: 'legacy',
    team_id: a.teamId ?? TEAM,
    team_domain: 'league',
    channel_id: a.channelId ?? CHANNEL,
    channel_name: 'data',
    user_id: a.userId ?? ADMIN,
    user_name: 'someone',
    command: '/benchsight',
    text: a.text,
    api_app_id: 'A0APP',
    is_enterprise_install: 'false',
    response_url: a.responseUrl ?? 'http://127.0.0.1:9/unused',
    trigger_id: triggerId(),
  }).toString();
}

export interface ClickArgs {
  actionId: 'benchsight_confirm' | 'benchsight_cancel' | 'benchsight_evolve';
  value: string;
  userId?: string;
  teamId?: string;
  channelId?: string;
  responseUrl: string;
}

export function clickBody(a: ClickArgs): string {
  const team = a.teamId ?? TEAM;
  const payload = {
    type: 'block_actions',
    team: { id: team, domain: 'league' },
    user: { id: a.userId ?? ADMIN, username: 'someone', team_id: team },
    api_app_id: 'A0APP',
    token: 'legacy',
    container: { type: 'message', message_ts: '1700000000.000100', channel_id: a.channelId ?? CHANNEL, is_ephemeral: true },
    trigger_id: triggerId(),
    channel: { id: a.channelId ?? CHANNEL, name: 'data' },
    response_url: a.responseUrl,
    actions: [
      {
        action_id: a.actionId,
        block_id: 'benchsight_confirmation',
        value: a.value,
        type: 'button',
        action_ts: '1700000001.000200',
        text: { type: 'plain_text', text: 'x' },
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface HttpAnswer {
  status: number;
  text: string;
  json: any;
  ms: number;
}

export async function post(url: string, body: string, headers: Record<string, string>): Promise<HttpAnswer> {
  const t0 = performance.now();
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, ms: performance.now() - t0 };
}

export const slash = (botUrl: string, a: SlashArgs, sig: { ts?: number; secret?: string } = {}) => {
  const body = slashBody(a);
  return post(botUrl, body, signedHeaders(body, sig));
};

export const click = (botUrl: string, a: ClickArgs) => {
  const body = clickBody(a);
  return post(botUrl, body, signedHeaders(body));
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function close(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export interface Captured {
  hook: string;
  body: { response_type?: string; text: string; blocks?: any[]; replace_original?: boolean };
  at: number;
}

/** Stands in for response_url: every POST to /hook/<name> is kept. */
export class ResponseCapture {
  readonly posts: Captured[] = [];
  private server = createServer(async (req, res) => {
    const hook = (req.url ?? '').replace(/^\/hook\//, '');
    this.posts.push({ hook, body: JSON.parse(await readBody(req)), at: Date.now() });
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  private port = 0;
  private n = 0;

  async start(): Promise<this> {
    this.port = await listen(this.server);
    return this;
  }
  stop(): Promise<void> {
    return close(this.server);
  }
  /** A fresh response_url. */
  url(name = `r${++this.n}`): string {
    return `http://127.0.0.1:${this.port}/hook/${name}`;
  }
  at(url: string): Captured[] {
    const hook = url.split('/hook/')[1];
    return this.posts.filter((p) => p.hook === hook);
  }
  /** Waits until a post at `url` matches, and returns it. */
  async waitFor(url: string, match: (c: Captured) => boolean, timeoutMs = 20_000): Promise<Captured> {
    return eventually(
      () => this.at(url).find(match),
      timeoutMs,
      () => `no matching post at ${url}; got ${JSON.stringify(this.at(url).map((p) => p.body.text))}`,
    );
  }
}

export interface ApiCall {
  method: string;
  authorization?: string;
  params: Record<string, any>;
}

/** Slack's Web API, locally: records every call and answers ok. */
export class MockSlackApi {
  readonly calls: ApiCall[] = [];
  private server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0]!;
    const type = req.headers['content-type'] ?? '';
    const params: Record<string, any> = type.includes('json') ? JSON.parse(raw || '{}') : Object.fromEntries(new URLSearchParams(raw));
    if (typeof params.blocks === 'string') params.blocks = JSON.parse(params.blocks);
    this.calls.push({ method, authorization: req.headers.authorization, params });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, channel: params.channel, ts: '1700000000.000300' }));
  });
  private port = 0;

  async start(): Promise<this> {
    this.port = await listen(this.server);
    return this;
  }
  stop(): Promise<void> {
    return close(this.server);
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }
  posted(): ApiCall[] {
    return this.calls.filter((c) => c.method === 'chat.postMessage');
  }
}

export async function eventually<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  what?: () => string,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out: ${what?.() ?? 'condition never held'}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface CommandRow {
  id: number;
  status: string;
  operation: string;
  scope: string;
  initiated_by: string;
  error_message: string | null;
  warnings: any;
}

/** The bot's audit rows, oldest first. */
export async function commandRows(db: Queryable, where = 'true', params: unknown[] = []): Promise<CommandRow[]> {
  const r = await db.query<CommandRow>(
    `SELECT id::int AS id, status, operation, scope, initiated_by, error_message, warnings FROM load_history WHERE kind = 'command' AND (${where}) ORDER BY id`,
    params,
  );
  return r.rows;
}

/** Rows in every warehouse table, to prove that a refusal changed nothing. */
export async function warehouseCounts(db: Queryable): Promise<Record<string, number>> {
  const r = await db.query<{ t: string; n: string }>(TABLE_NAMES.map((t) => `SELECT '${t}' AS t, count(*) AS n FROM ${t}`).join(' UNION ALL '));
  return Object.fromEntries(r.rows.map((x) => [x.t, Number(x.n)]));
}

/** The text of every section of a message, joined (what a person would read). */
export function readable(m: { text: string; blocks?: any[] }): string {
  return (m.blocks ?? []).map((b) => (b.text?.text as string | undefined) ?? '').join('\n') || m.text;
}

/** The buttons of a confirmation prompt. */
export function buttons(m: { blocks?: any[] }): { action_id: string; style?: string; value: string }[] {
  return (m.blocks ?? []).filter((b) => b.type === 'actions').flatMap((b) => b.elements);
}

/** The last word of a job at its response_url: anything but the "started" and "still working" notes. */
export function isFinal(c: Captured): boolean {
  return !/^(started |still working )/.test(c.body.text);
}
