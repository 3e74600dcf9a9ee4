/**
 * Runs one command as a job and reports to Slack: the "started" note, throttled
 * progress, then the result (per table rows inserted/updated/deleted/rejected, duration
 * and history id, or the error with file/line/column/value) at the response_url and,
 * when a channel is given, in that channel via chat.postMessage. The bot's in-process
 * dispatcher calls runAndReport after the ack; the queue worker calls it (or only
 * reportToSlack) for jobs that came from Slack. Nothing here throws on a Slack failure:
 * it is logged, and the job's outcome stands.
 */
import { webApi } from './bolt';
import type { Database } from '../loader/db/database';
import { describeCommand, type Command } from '../loader/commands/grammar';
import { executeCommand, type CommandContext, type Extensions, type Outcome } from '../loader/commands/execute';
import { formatError, type Progress, type Source } from '../loader/engine';
import { finishCommand } from '../loader/history';
import { recordCommand } from './audit';
import { noteMessage, outcomeMessage, type Block, type SlackMessage } from './messages';
import { botLog } from './log';

/** A command to run for a Slack user: plain JSON, so a queue can carry it as a job's payload. */
export interface SlackJob {
  command: Command;
  /** The text as typed (for the record); defaults to describeCommand(command). */
  text?: string;
  userId: string;
  teamId?: string;
  /** Where the requester hears back (valid 30 minutes, 5 posts). */
  responseUrl?: string;
  /** A channel the result is also posted to (chat.postMessage). */
  channelId?: string;
  /** The load_history command row recorded when the command was accepted; finished by runAndReport. */
  auditId?: number;
}

/** The part of Slack's WebClient the reports use (a WebClient fits). */
export interface ChatClient {
  chat: { postMessage(args: { channel: string; text: string; blocks?: Block[] }): Promise<unknown> };
}

export interface SlackTarget {
  responseUrl?: string;
  channel?: string;
  client?: ChatClient;
  /** The headline, e.g. "load of game 18969 (replace)". */
  title: string;
  userId?: string;
  fetch?: typeof fetch;
  log?: (line: string) => void;
}

/** A WebClient for the bot token (the worker makes its own with this). */
export function slackClient(token: string, opts: { slackApiUrl?: string } = {}): webApi.WebClient {
  return new webApi.WebClient(token, {
    slackApiUrl: opts.slackApiUrl,
    // The default retries for ~30 minutes; a Lambda has far less. A failed post is logged.
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2000 },
    logLevel: webApi.LogLevel.ERROR,
  });
}

/** POSTs a message to a response_url; throws with Slack's answer when it is refused. */
export async function postToResponseUrl(url: string, message: SlackMessage, fetchImpl: typeof fetch = fetch): Promise<void> {
  const res = await fetchImpl(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) {
    const body = (await res.text().catch(() => '')).slice(0, 200);
    throw new Error(`response_url answered ${res.status}${body ? `: ${body}` : ''}`);
  }
}

export interface Delivery {
  responseUrl: 'sent' | 'failed' | 'skipped';
  channel: 'sent' | 'failed' | 'skipped';
}

/** Sends an outcome to the requester (response_url, ephemeral) and to the channel, if any. */
export async function reportToSlack(outcome: Outcome, target: SlackTarget): Promise<Delivery> {
  const message = outcomeMessage(outcome, { title: target.title, userId: target.userId });
  return deliver(message, target);
}

async function deliver(message: SlackMessage, target: SlackTarget, opts: { channel?: boolean } = {}): Promise<Delivery> {
  const log = target.log ?? ((l: string) => botLog(l));
  const delivery: Delivery = { responseUrl: 'skipped', channel: 'skipped' };
  if (target.responseUrl) {
    try {
      await postToResponseUrl(target.responseUrl, { ...message, response_type: 'ephemeral', replace_original: false }, target.fetch);
      delivery.responseUrl = 'sent';
    } catch (err) {
      delivery.responseUrl = 'failed';
      log(`slack: could not answer at the response_url (${target.title}): ${(err as Error).message}`);
    }
  }
  if (target.channel && target.client && opts.channel !== false) {
    try {
      await target.client.chat.postMessage({ channel: target.channel, text: message.text, blocks: message.blocks });
      delivery.channel = 'sent';
    } catch (err) {
      delivery.channel = 'failed';
      log(`slack: could not post to channel ${target.channel} (${target.title}): ${(err as Error).message}`);
    }
  }
  return delivery;
}

export interface RunDeps {
  db: Database;
  /** Where a load's files come from. */
  source?: () => Promise<Source>;
  extensions?: Extensions;
  loadOptions?: CommandContext['loadOptions'];
  client?: ChatClient;
  fetch?: typeof fetch;
  log?: (line: string) => void;
  /** Least time between two progress notes (default 10 s; at most two are sent). */
  progressEveryMs?: number;
}

/** The message an outcome's record keeps when it failed. */
export function failureOf(outcome: Outcome): string | undefined {
  if (outcome.ok) return undefined;
  if (outcome.kind === 'load') return outcome.result.error ? formatError(outcome.result.error) : 'failed';
  if (outcome.kind === 'text') return outcome.text;
  if (outcome.kind === 'health') return outcome.health.database.error ?? 'database unreachable';
  return 'failed';
}

/**
 * Runs the job's command with executeCommand, finishes its load_history command row
 * (recording one first when the job has none) and reports to Slack. Never throws:
 * an exception becomes a failed outcome that is recorded and reported.
 */
export async function runAndReport(job: SlackJob, deps: RunDeps): Promise<Outcome> {
  const log = deps.log ?? ((l: string) => botLog(l));
  const title = describeCommand(job.command);
  const started = Date.now();
  const target: SlackTarget = { responseUrl: job.responseUrl, channel: job.channelId, client: deps.client, title, userId: job.userId, fetch: deps.fetch, log };

  let auditId = job.auditId;
  if (auditId === undefined) {
    auditId = await recordCommand(deps.db, { userId: job.userId, text: job.text ?? title, command: job.command, status: 'started' }).catch((err: unknown) => {
      log(`slack: could not record ${title} for ${job.userId}: ${(err as Error).message}`);
      return undefined;
    });
  }
  await deliver(noteMessage(`started ${title}`, 'working'), target, { channel: false });

  const ctx: CommandContext = {
    db: deps.db,
    initiatedBy: job.userId,
    source: deps.source,
    extensions: deps.extensions,
    loadOptions: { ...deps.loadOptions, onProgress: progressNotes(target, deps, started) },
  };
  let outcome: Outcome;
  try {
    outcome = await executeCommand(ctx, job.command);
  } catch (err) {
    outcome = { kind: 'text', ok: false, text: `${title} could not run: ${(err as Error).message}` };
  }

  if (auditId !== undefined) {
    await finishCommand(deps.db, auditId, {
      status: outcome.ok ? 'succeeded' : 'failed',
      errorMessage: failureOf(outcome),
      durationMs: Date.now() - started,
      result: outcome.kind === 'load' ? { historyId: outcome.result.historyId, status: outcome.result.status } : {},
    }).catch((err: unknown) => log(`slack: could not finish the record #${auditId} of ${title}: ${(err as Error).message}`));
  }
  await reportToSlack(outcome, target);
  return outcome;
}

/** At most two "still working" notes, the first after `progressEveryMs`, chained to any onProgress given. */
function progressNotes(target: SlackTarget, deps: RunDeps, started: number): (p: Progress) => void {
  const every = deps.progressEveryMs ?? 10_000;
  const given = deps.loadOptions?.onProgress;
  let last = started;
  let sent = 0;
  return (p) => {
    given?.(p);
    const now = Date.now();
    if (sent >= 2 || now - last < every) return;
    last = now;
    sent++;
    const pct = p.totalBytes ? ` (${Math.round((100 * p.bytes) / p.totalBytes)}% of the file)` : '';
    const what = p.phase === 'reading' ? `reading ${p.table}: ${p.rows.toLocaleString('en-US')} rows${pct}` : `${p.phase} ${p.table}`;
    void deliver(noteMessage(`still working on ${target.title}: ${what}, ${Math.round((now - started) / 1000)} s so far`, 'working'), target, {
      channel: false,
    });
  };
}
