/**
 * The confirm and cancel buttons of a destructive command. A click runs the command
 * only when the button's signed value checks out, the clicker is the user who asked,
 * the confirmation has not expired, the clicker still holds the role, and the prompt's
 * record can be claimed — once (README.md). Every refused click is recorded.
 */
import { describeCommand, evolves, parseCommand, type Command } from '../loader/commands/grammar';
import type { BotDeps } from './deps';
import { claimConfirmation, expireConfirmation, type ClaimResult } from '../loader/history';
import { askToConfirm, submitJob, whereRefusal } from './commands';
import { verifyConfirmation } from './confirmation';
import { noteMessage, type SlackMessage } from './messages';
import { postToResponseUrl } from './report';
import { mayRun } from './roles';

export interface Click {
  kind: 'confirm' | 'cancel';
  teamId: string | undefined;
  userId: string;
  channelId: string | undefined;
  responseUrl: string | undefined;
  value: string;
}

type Use = 'confirmed' | 'cancelled';

/** Nonces this process has seen used: answers a double click without a round trip. The database decides across processes. */
export class SeenNonces {
  private readonly seen = new Map<string, { expiresAt: number; use: Use }>();
  /** Null when the nonce is new (and now taken), else how it was used. */
  take(nonce: string, use: Use, expiresAt: number, now: number): Use | null {
    for (const [n, s] of this.seen) if (s.expiresAt < now - 60_000) this.seen.delete(n);
    const before = this.seen.get(nonce);
    if (before) return before.use;
    this.seen.set(nonce, { expiresAt, use });
    return null;
  }
  delete(nonce: string): void {
    this.seen.delete(nonce);
  }
}

export async function handleClick(click: Click, deps: BotDeps, seen: SeenNonces): Promise<void> {
  const say = async (message: SlackMessage, replaceOriginal = false) => {
    if (!click.responseUrl) return;
    await postToResponseUrl(click.responseUrl, { ...message, response_type: 'ephemeral', replace_original: replaceOriginal }, deps.fetch).catch(
      (err: unknown) => deps.log(`slack: could not answer a ${click.kind} click of ${click.userId}: ${(err as Error).message}`),
    );
  };
  const refuse = async (reason: string, text = `(${click.kind} button)`, command?: Command, nonce?: string) => {
    await deps.commandLog
      .record({
        userId: click.userId,
        text,
        command,
        status: 'refused',
        errorMessage: reason,
        details: { slack: { team: click.teamId, channel: click.channelId }, click: click.kind, ...(nonce ? { clickedNonce: nonce } : {}) },
      })
      .catch((err: unknown) => deps.log(`slack: could not record a refused click of ${click.userId}: ${(err as Error).message}`));
    await say(noteMessage(reason, 'refused'));
  };

  const where = whereRefusal(deps, click.teamId, click.channelId);
  if (where) return refuse(where);
  const c = verifyConfirmation(click.value, deps.config.signingSecret);
  if (!c) return refuse('this button was not made by this BenchSight bot, or was altered: nothing was run');
  const parsed = parseCommand(c.text);
  if (!parsed.ok) return refuse(`the confirmed command no longer parses (${parsed.error}): nothing was run`, c.text);
  const command = parsed.command;
  const title = describeCommand(command);
  if (c.teamId !== click.teamId) return refuse('this confirmation belongs to another workspace: nothing was run', c.text, command, c.nonce);
  if (click.userId !== c.userId) return refuse(`only <@${c.userId}>, who asked for ${title}, can ${click.kind} it: nothing was run`, c.text, command, c.nonce);

  const now = deps.now();
  if (now > c.expiresAt) {
    await expireConfirmation(deps.db, c.nonce).catch(() => undefined);
    const reason = `this confirmation of ${title} expired at ${new Date(c.expiresAt).toISOString().slice(11, 19)} UTC: nothing was run. Type the command again for a new one.`;
    await refuse(reason, c.text, command, c.nonce);
    await say(noteMessage(`${title} was not confirmed in time; nothing changed`, 'refused'), true);
    return;
  }
  if (click.kind === 'confirm') {
    // Roles may have changed since the prompt was shown.
    const permission = mayRun(deps.config.roles, click.userId, command);
    if (!permission.ok) return refuse(`${title}: ${permission.reason}`, c.text, command, c.nonce);
  }

  const use = click.kind === 'confirm' ? 'confirmed' : 'cancelled';
  const before = seen.take(c.nonce, use, c.expiresAt, now);
  if (before)
    return refuse(
      `this confirmation of ${title} was already ${before === 'cancelled' ? 'cancelled' : 'used'}: nothing was run again`,
      c.text,
      command,
      c.nonce,
    );
  let claim: ClaimResult;
  try {
    claim = await claimConfirmation(deps.db, { nonce: c.nonce, userId: click.userId, use });
  } catch (err) {
    seen.delete(c.nonce); // nothing was claimed: the user may try again
    await say(noteMessage(`could not check the confirmation of ${title}, so nothing was run: ${(err as Error).message}`, 'warning'));
    return;
  }
  if (!claim.claimed) {
    const reason =
      claim.state === 'unknown'
        ? `there is no record of this confirmation of ${title} (older than an hour?): nothing was run`
        : `this confirmation of ${title} was already ${claim.state === 'expired' ? 'expired' : claim.state === 'cancelled' ? 'cancelled' : 'used'}: nothing was run again`;
    return refuse(reason, c.text, command, c.nonce);
  }

  if (click.kind === 'cancel') {
    await say(noteMessage(`cancelled ${title}; nothing changed`, 'ok'), true);
    return;
  }
  const job = await submitJob(deps, { command, text: c.text, userId: click.userId, teamId: c.teamId, responseUrl: click.responseUrl, auditId: claim.id });
  await say(noteMessage(`confirmed by <@${click.userId}>: ${job.message}`, job.ok ? 'working' : 'warning'), true);
}

/**
 * The button under a drop the drift policy refused (loader/s3/process-event.ts): its value
 * is a `load ... --evolve` command of the one grammar. A click is as if the clicker typed
 * that command, with its confirmation always asked: only an admin may (a load that
 * changes the schema needs one), the command is parsed again, and nothing runs before
 * the clicker confirms the prompt that follows (handleClick above). The value is not
 * signed: it only names a command its clicker could type.
 */
export async function handleEvolveClick(click: Omit<Click, 'kind'>, deps: BotDeps): Promise<void> {
  const reply = async (message: SlackMessage) => {
    if (!click.responseUrl) return;
    await postToResponseUrl(click.responseUrl, { ...message, response_type: 'ephemeral', replace_original: false }, deps.fetch).catch((err: unknown) =>
      deps.log(`slack: could not answer an evolve click of ${click.userId}: ${(err as Error).message}`),
    );
  };
  const refuse = async (reason: string, command?: Command) => {
    await deps.commandLog
      .record({
        userId: click.userId,
        text: click.value.slice(0, 300),
        command,
        status: 'refused',
        errorMessage: reason,
        details: { slack: { team: click.teamId, channel: click.channelId }, click: 'evolve' },
      })
      .catch((err: unknown) => deps.log(`slack: could not record a refused click of ${click.userId}: ${(err as Error).message}`));
    await reply(noteMessage(reason, 'refused'));
  };
  const where = whereRefusal(deps, click.teamId, click.channelId);
  if (where) return refuse(where);
  const parsed = parseCommand(click.value);
  if (!parsed.ok || parsed.command.kind !== 'load' || !evolves(parsed.command) || parsed.command.dryRun) {
    return refuse('this button does not carry a load that applies a drift evolution: nothing was run');
  }
  const command = parsed.command;
  const permission = mayRun(deps.config.roles, click.userId, command);
  if (!permission.ok) return refuse(`${describeCommand(command)}: ${permission.reason}`, command);
  await askToConfirm({ userId: click.userId, teamId: click.teamId!, channelId: click.channelId }, click.value, command, reply, deps);
}
