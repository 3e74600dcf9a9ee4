/**
 * Every request that does something is one command of the command language: the route
 * writes its words (`load game 18969 replace`), and this module parses them with the one
 * grammar, checks the person's role with requiredRole(), asks for a confirmation when
 * isDestructive() says so (a one-shot token, claimed in load_history exactly like
 * Slack's buttons), then either answers at once (fast commands) or records the command
 * and hands it to the job runner (loads, deletes, full refresh, etl run: 202 + job id).
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { atLeast } from '../../bot/roles';
import { describeCommand, isDestructive, parseCommand, requiredRole, type Command } from '../../loader/commands/grammar';
import { executeCommand, type Outcome } from '../../loader/commands/execute';
import { confirmationRecord } from '../../loader/commands/reads';
import { claimConfirmation, finishCommand, recordCommand, recordConfirmationAsked, type CommandRow } from '../../loader/history';
import type { PortalEnv, PortalUser } from './auth';
import type { PortalDeps } from './deps';
import { failureText } from './jobs';
import { PROBLEM, problemResponse } from './problems';

/** Work that may outrun an HTTP answer: it runs as a job. */
export function isSlow(c: Command): boolean {
  return c.kind === 'load' || c.kind === 'full-refresh' || c.kind === 'delete-game' || c.kind === 'etl-run';
}

function commandWord(c: Command): string {
  if (c.kind === 'delete-game') return 'delete';
  if (c.kind.startsWith('etl-')) return 'etl';
  return c.kind;
}

function row(user: PortalUser, text: string, command: Command | undefined, r: Pick<CommandRow, 'status' | 'errorMessage' | 'durationMs'>): CommandRow {
  return {
    userId: user.historyName,
    text,
    operation: command ? commandWord(command) : undefined,
    gameId: command && 'gameId' in command && command.gameId !== undefined ? command.gameId : null,
    dryRun: Boolean(command && 'dryRun' in command && command.dryRun),
    source: 'portal',
    details: { portal: { user: user.id, email: user.email, role: user.role } },
    ...r,
  };
}

/** What a route asks: the command's words, and the confirmation token when the person confirms. */
export interface CommandRequest {
  text: string;
  confirmation?: string;
  /** Record a fast command that changes or runs something (etl queue, validate); reads are not recorded. */
  record?: boolean;
}

export async function runCommand(c: Context<PortalEnv>, deps: PortalDeps, req: CommandRequest): Promise<Response> {
  const user = c.get('user');
  const started = Date.now();
  const parsed = parseCommand(req.text);
  if (!parsed.ok) return problemResponse(c, 400, PROBLEM.badRequest, { detail: parsed.error, command: req.text });
  const command = parsed.command;
  const needed = requiredRole(command);
  if (!atLeast(user.role, needed)) {
    const why = user.role
      ? `${describeCommand(command)} needs the ${needed} role; you (${user.email ?? user.id}) are a ${user.role}`
      : `you (${user.email ?? user.id}) have no BenchSight role: ask an admin to add your e-mail address to BenchSight's roles (BENCHSIGHT_ROLES)`;
    // A refusal of something that would change data is recorded, as in Slack.
    if (needed !== 'viewer')
      await recordCommand(deps.db, row(user, req.text, command, { status: 'refused', errorMessage: why, durationMs: 0 })).catch(() => undefined);
    return problemResponse(c, 403, PROBLEM.forbidden, { detail: why, command: req.text, requiredRole: needed, role: user.role });
  }

  if (isDestructive(command)) {
    if (!req.confirmation) return askToConfirm(c, deps, user, req.text, command);
    const claimed = await claim(c, deps, user, req.text, req.confirmation);
    if (claimed instanceof Response) return claimed;
    return accept(c, deps, user, req.text, command, claimed);
  }
  if (isSlow(command)) {
    const id = await recordCommand(deps.db, row(user, req.text, command, { status: 'started' }));
    return accept(c, deps, user, req.text, command, id);
  }

  let outcome: Outcome;
  try {
    outcome = await executeCommand({ db: deps.db, initiatedBy: user.historyName, extensions: deps.extensions, source: deps.source }, command);
  } catch (err) {
    outcome = { kind: 'text', ok: false, text: `${describeCommand(command)} could not run: ${(err as Error).message}` };
  }
  if (req.record) {
    // Validation that ran succeeded, whatever it found (its findings are its result).
    const ran = outcome.ok || (command.kind === 'validate' && Array.isArray((outcome as { data?: unknown }).data));
    await recordCommand(
      deps.db,
      row(user, req.text, command, {
        status: ran ? 'succeeded' : 'failed',
        errorMessage: ran ? undefined : failureText(outcome),
        durationMs: Date.now() - started,
      }),
    ).catch((err: unknown) => deps.log(`portal: could not record "${req.text}": ${(err as Error).message}`));
  }
  return c.json({ command: req.text, outcome }, 200);
}

async function askToConfirm(c: Context<PortalEnv>, deps: PortalDeps, user: PortalUser, text: string, command: Command): Promise<Response> {
  const nonce = randomBytes(24).toString('base64url');
  const expiresAt = Date.now() + deps.config.confirmTtlMs;
  // The token's row must exist before the token does: a confirmation never exists without its record.
  await recordConfirmationAsked(deps.db, { ...row(user, text, command, { status: 'started' }), nonce, expiresAt });
  return problemResponse(c, 428, PROBLEM.confirmationRequired, {
    detail: `${describeCommand(command)} deletes rows the files do not put back. Send the same request again with this confirmation to run it, or cancel it.`,
    command: text,
    confirmation: { token: nonce, description: describeCommand(command), expiresAt: new Date(expiresAt).toISOString(), cancel: `/api/confirmations/${nonce}` },
  });
}

/** Claims a confirmation for this very command and person (one-shot across processes); its row id, or the refusal. */
async function claim(c: Context<PortalEnv>, deps: PortalDeps, user: PortalUser, text: string, token: string): Promise<number | Response> {
  const refuse = (detail: string) => problemResponse(c, 409, PROBLEM.confirmationInvalid, { detail, command: text });
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(token)) return refuse('that is not a confirmation token');
  const asked = await confirmationRecord(deps.db, token);
  if (!asked || asked.initiatedBy !== user.historyName) return refuse('no confirmation of yours has that token: ask again');
  if (asked.text !== text) return refuse(`that confirmation is for "${asked.text}", not "${text}": ask again`);
  if (asked.confirmation && Date.parse(asked.confirmation.expiresAt) < Date.now()) {
    return refuse('the confirmation has expired: ask again');
  }
  const r = await claimConfirmation(deps.db, { nonce: token, userId: user.historyName, use: 'confirmed' });
  if (!r.claimed) return refuse(`the confirmation was already ${r.state === 'unknown' ? 'used' : r.state}: ask again`);
  return r.id;
}

/** Cancels a pending confirmation (the person said no): recorded as refused, runs nothing. */
export async function cancelConfirmation(c: Context<PortalEnv>, deps: PortalDeps, token: string): Promise<Response> {
  const user = c.get('user');
  const r = await claimConfirmation(deps.db, { nonce: token, userId: user.historyName, use: 'cancelled' });
  if (!r.claimed)
    return problemResponse(c, 409, PROBLEM.confirmationInvalid, {
      detail: `nothing to cancel: the confirmation is ${r.state === 'unknown' ? 'not yours or unknown' : r.state}`,
    });
  return c.json({ cancelled: true, id: r.id }, 200);
}

async function accept(c: Context<PortalEnv>, deps: PortalDeps, user: PortalUser, text: string, command: Command, id: number): Promise<Response> {
  try {
    await deps.jobs.submit({ command, text, userId: user.historyName, auditId: id });
  } catch (err) {
    const why = `could not start ${describeCommand(command)}; nothing was run: ${(err as Error).message}`;
    await finishCommand(deps.db, id, { status: 'failed', errorMessage: why, durationMs: 0 }).catch(() => undefined);
    return problemResponse(c, 503, PROBLEM.unavailable, { detail: why });
  }
  c.header('location', `/api/jobs/${id}`);
  return c.json(
    {
      job: { id, url: `/api/jobs/${id}`, events: deps.liveEvents ? `/api/jobs/${id}/events` : undefined, command: text, description: describeCommand(command) },
    },
    202,
  );
}
