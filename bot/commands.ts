/**
 * `/benchsight <words>`: checks where it came from and who asked, parses the words with
 * the one grammar, then answers within Slack's 3 seconds: a refusal, a confirmation
 * prompt (destructive commands), "queued …, job N" (slow commands, handed to the
 * dispatcher), or the result itself (fast commands). Every command is recorded.
 */
import type { SlashCommand } from './bolt';
import { describeCommand, isDestructive, parseCommand, type Command } from '../loader/commands/grammar';
import { executeCommand, type Outcome } from '../loader/commands/execute';
import type { BotDeps } from './deps';
import { finishCommand } from '../loader/history';
import { recordAsk, recordCommand, type CommandRecord } from './audit';
import { newConfirmation, signConfirmation } from './confirmation';
import { confirmPrompt, noteMessage, outcomeMessage, type SlackMessage } from './messages';
import { failureOf, reportToSlack } from './report';
import { mayRun, roleOf } from './roles';

export type Ack = (message: SlackMessage) => Promise<void>;

/** Work that may take longer than Slack waits: run by the dispatcher, reported at the response_url. */
function isSlow(c: Command): boolean {
  return c.kind === 'load' || c.kind === 'drift' || c.kind === 'full-refresh' || c.kind === 'delete-game' || c.kind === 'etl-run';
}

/** Where the request may come from: the one workspace, and the allowed channels. */
export function whereRefusal(deps: BotDeps, teamId: string | undefined, channelId: string | undefined): string | null {
  if (teamId !== deps.config.teamId) return `this BenchSight bot serves one workspace only; requests from workspace ${teamId ?? '(none)'} are refused`;
  const allowed = deps.config.channels;
  if (allowed && (!channelId || !allowed.includes(channelId))) {
    return `BenchSight answers in ${allowed.map((c) => `<#${c}>`).join(', ')} only: ask there`;
  }
  return null;
}

export async function handleSlashCommand(body: SlashCommand, ack: Ack, deps: BotDeps): Promise<void> {
  const started = Date.now();
  const text = (body.text ?? '').trim().replace(/\s+/g, ' ');
  const userId = body.user_id;
  const details = { slack: { team: body.team_id, channel: body.channel_id } };
  const record = (r: Omit<CommandRecord, 'userId' | 'text' | 'details'>) =>
    deps.commandLog
      .record({ userId, text, details, durationMs: Date.now() - started, ...r })
      .catch((err: unknown) => deps.log(`slack: could not record "${text}" by ${userId}: ${(err as Error).message}`));
  const refuse = async (reason: string, command?: Command) => {
    await ack({ ...noteMessage(reason, 'refused'), response_type: 'ephemeral' });
    await record({ command, status: 'refused', errorMessage: reason });
  };

  const where = whereRefusal(deps, body.team_id, body.channel_id);
  if (where) return refuse(where);
  if (!roleOf(deps.config.roles, userId)) return refuse(`you (${userId}) have no BenchSight role: ask an admin to add your Slack user id to the bot's roles`);
  const parsed = parseCommand(text);
  if (!parsed.ok) return refuse(`${parsed.error}. Type \`/benchsight help\` for the commands and examples.`);
  const command = parsed.command;
  const permission = mayRun(deps.config.roles, userId, command);
  if (!permission.ok) return refuse(`${describeCommand(command)}: ${permission.reason}`, command);

  if (isDestructive(command)) return askToConfirm({ userId, teamId: body.team_id, channelId: body.channel_id }, text, command, ack, deps);
  if (isSlow(command)) return queue(body, text, command, ack, deps);

  // Fast commands answer in the ack; one that overruns the budget answers at the response_url.
  const title = describeCommand(command);
  const run = executeCommand({ db: deps.db, initiatedBy: userId, extensions: deps.extensions }, command).catch(
    (err: unknown): Outcome => ({ kind: 'text', ok: false, text: `${title} could not run: ${(err as Error).message}` }),
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), deps.answerWithinMs)));
  const early = await Promise.race([run, late]);
  clearTimeout(timer);
  let outcome: Outcome;
  if (early) {
    outcome = early;
    await ack({ ...outcomeMessage(outcome, { title }), response_type: 'ephemeral' });
  } else {
    await ack({ ...noteMessage(`working on ${title}…`, 'working'), response_type: 'ephemeral' });
    outcome = await run;
    await reportToSlack(outcome, { responseUrl: body.response_url, title, fetch: deps.fetch, log: deps.log });
  }
  await record({ command, status: outcome.ok ? 'succeeded' : 'failed', errorMessage: failureOf(outcome) });
}

/** Answers with the confirm/cancel prompt of `command` for `who` (a typed command, or a drop's evolve button: actions.ts). */
export async function askToConfirm(
  who: { userId: string; teamId: string; channelId: string | undefined },
  text: string,
  command: Command,
  ack: Ack,
  deps: BotDeps,
): Promise<void> {
  const now = deps.now();
  const c = newConfirmation({ text, userId: who.userId, teamId: who.teamId, now, ttlMs: deps.config.confirmTtlMs });
  try {
    // The prompt's row is what the button claims, so it must exist before the button does.
    await recordAsk(deps.db, {
      userId: who.userId,
      text,
      command,
      nonce: c.nonce,
      expiresAt: c.expiresAt,
      details: { slack: { team: who.teamId, channel: who.channelId } },
    });
  } catch (err) {
    await ack({
      ...noteMessage(`could not record the request, so it cannot be confirmed; nothing was run: ${(err as Error).message}`, 'warning'),
      response_type: 'ephemeral',
    });
    return;
  }
  await ack(
    confirmPrompt({
      description: describeCommand(command),
      userId: who.userId,
      value: signConfirmation(c, deps.config.signingSecret),
      expiresAt: c.expiresAt,
      ttlMs: deps.config.confirmTtlMs,
    }),
  );
}

async function queue(body: SlashCommand, text: string, command: Command, ack: Ack, deps: BotDeps): Promise<void> {
  const title = describeCommand(command);
  let auditId: number;
  try {
    auditId = await recordCommand(deps.db, {
      userId: body.user_id,
      text,
      command,
      status: 'started',
      details: { slack: { team: body.team_id, channel: body.channel_id } },
    });
  } catch (err) {
    await ack({ ...noteMessage(`could not record ${title}, so it was not queued: ${(err as Error).message}`, 'warning'), response_type: 'ephemeral' });
    return;
  }
  const job = await submitJob(deps, { command, text, userId: body.user_id, teamId: body.team_id, responseUrl: body.response_url, auditId });
  await ack({ ...noteMessage(job.message, job.ok ? 'working' : 'warning'), response_type: 'ephemeral' });
}

/** Hands a job to the dispatcher; a refusal of the dispatcher fails the job's record. */
export async function submitJob(
  deps: BotDeps,
  job: { command: Command; text: string; userId: string; teamId: string; responseUrl?: string; auditId: number },
): Promise<{ ok: boolean; message: string }> {
  const title = describeCommand(job.command);
  try {
    const { jobId } = await deps.dispatcher.submit({ ...job, channelId: deps.config.notifyChannel });
    return { ok: true, message: `queued ${title}, job ${jobId}` };
  } catch (err) {
    const why = `could not queue ${title}; nothing was run: ${(err as Error).message}`;
    await finishCommand(deps.db, job.auditId, { status: 'failed', errorMessage: why, durationMs: 0 }).catch(() => undefined);
    return { ok: false, message: why };
  }
}
