/**
 * The bot's record of who asked for what: one load_history row (kind 'command') per
 * command, allowed or refused, with initiated_by = the Slack user id, operation = the
 * command word, scope = the command text (the CLI records its grammar refusals the same
 * way, with source 'cli' and initiated_by 'cli:<OS user>'). A confirmation prompt is such a row too,
 * 'started' with warnings.confirmation = {nonce, state: 'asked'}; confirming or
 * cancelling moves that state on in one UPDATE, which is what makes a button one-shot
 * across processes (README.md). All of the bot's SQL is here.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../loader/db/database';
import type { Command } from '../loader/commands/grammar';

export type CommandStatus = 'started' | 'succeeded' | 'failed' | 'refused';

export interface CommandRecord {
  userId: string;
  /** What was typed (or the confirmed command's text). */
  text: string;
  command?: Command;
  /** Defaults to the command word. */
  operation?: string;
  status: CommandStatus;
  errorMessage?: string;
  durationMs?: number;
  /** Where it came from: team, channel, and what else helps a reader of the history. */
  details?: Record<string, unknown>;
  /** The entry point: 'slack' (default), or 'cli' for the command line's refusals. */
  source?: 'slack' | 'cli';
}

const MAX_TEXT = 500;

/** The command word of the grammar: load, delete, etl, history ... (the first word for text that did not parse). */
export function commandWord(command: Command | undefined, text: string): string {
  if (command) {
    if (command.kind === 'delete-game') return 'delete';
    if (command.kind.startsWith('etl-')) return 'etl';
    return command.kind;
  }
  const first = text.trim().split(/\s+/)[0] ?? '';
  return first.toLowerCase().slice(0, 40) || 'help';
}

function gameOf(command: Command | undefined): number | null {
  return command && 'gameId' in command && command.gameId !== undefined ? command.gameId : null;
}

function dryRunOf(command: Command | undefined): boolean {
  return Boolean(command && 'dryRun' in command && command.dryRun);
}

const INSERT = `
  INSERT INTO load_history (request_id, kind, scope, operation, game_id, source, dry_run, status, error_message,
                            warnings, initiated_by, completed_at, duration_ms)
  VALUES ($1, 'command', $2, $3, $4, $11, $5, $6, $7, $8::jsonb, $9,
          CASE WHEN $6 = 'started' THEN NULL ELSE clock_timestamp() END, $10)
  RETURNING id`;

function columnsOf(r: CommandRecord) {
  return {
    request_id: randomUUID(), scope: r.text.slice(0, MAX_TEXT), operation: r.operation ?? commandWord(r.command, r.text),
    game_id: gameOf(r.command), dry_run: dryRunOf(r.command), status: r.status, error_message: r.errorMessage?.slice(0, 2000) ?? null,
    warnings: r.details ?? {}, initiated_by: r.userId.slice(0, 60), duration_ms: r.durationMs ?? null, source: r.source ?? 'slack',
  };
}

/** Records one command now and returns its id (when the row must exist before the answer). */
export async function recordCommand(db: Queryable, r: CommandRecord): Promise<number> {
  const c = columnsOf(r);
  const res = await db.query<{ id: string }>(INSERT, [
    c.request_id, c.scope, c.operation, c.game_id, c.dry_run, c.status, c.error_message, JSON.stringify(c.warnings), c.initiated_by, c.duration_ms,
    c.source,
  ]);
  return Number(res.rows[0]!.id);
}

const INSERT_MANY = `
  INSERT INTO load_history (request_id, kind, scope, operation, game_id, source, dry_run, status, error_message,
                            warnings, initiated_by, completed_at, duration_ms)
  SELECT (r ->> 'request_id')::uuid, 'command', r ->> 'scope', r ->> 'operation', (r ->> 'game_id')::integer, r ->> 'source',
         (r ->> 'dry_run')::boolean, r ->> 'status', r ->> 'error_message', coalesce(r -> 'warnings', '{}'::jsonb), r ->> 'initiated_by',
         CASE WHEN r ->> 'status' = 'started' THEN NULL ELSE clock_timestamp() END, (r ->> 'duration_ms')::integer
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(r, n)
  ORDER BY e.n`;

/**
 * Records written after the answer has gone out (fast commands, refusals), gathered per
 * turn of the event loop into one INSERT: a burst of commands costs the database one
 * statement, not one per command, and leaves the connections to the answers.
 */
export class CommandLog {
  private batch: { columns: ReturnType<typeof columnsOf>; done: (err?: unknown) => void }[] = [];
  private scheduled = false;
  constructor(private readonly db: Queryable, private readonly maxBatch = 200) {}

  record(r: CommandRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.batch.push({ columns: columnsOf(r), done: (err) => (err ? reject(err) : resolve()) });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    while (this.batch.length) {
      const rows = this.batch.splice(0, this.maxBatch);
      try {
        await this.db.query(INSERT_MANY, [JSON.stringify(rows.map((r) => r.columns))]);
        for (const r of rows) r.done();
      } catch (err) {
        for (const r of rows) r.done(err);
      }
    }
  }
}

/** Ends a 'started' command row: the job ran (succeeded / failed) with what it produced. */
export async function finishCommand(
  db: Queryable,
  id: number,
  f: { status: 'succeeded' | 'failed'; errorMessage?: string; durationMs: number; result?: Record<string, unknown> },
): Promise<void> {
  await db.query(
    `UPDATE load_history SET status = $2, error_message = $3, duration_ms = $4, completed_at = clock_timestamp(),
       warnings = coalesce(warnings, '{}'::jsonb) || jsonb_build_object('result', $5::jsonb)
     WHERE id = $1 AND kind = 'command'`,
    [id, f.status, f.errorMessage?.slice(0, 2000) ?? null, f.durationMs, JSON.stringify(f.result ?? {})],
  );
}

/** A confirmation prompt: the row that its button will claim. */
export async function recordAsk(
  db: Queryable,
  r: Omit<CommandRecord, 'status'> & { nonce: string; expiresAt: number },
): Promise<number> {
  await sweepUnconfirmed(db);
  const confirmation = { nonce: r.nonce, state: 'asked', expiresAt: new Date(r.expiresAt).toISOString() };
  return recordCommand(db, { ...r, status: 'started', details: { ...r.details, confirmation } });
}

export type ClaimResult = { claimed: true; id: number } | { claimed: false; state: 'confirmed' | 'cancelled' | 'expired' | 'unknown' };

/**
 * Moves the prompt with this nonce from 'asked' to 'confirmed' (it stays 'started'
 * until the job ends) or 'cancelled' (refused). One UPDATE: of two clicks racing on two
 * processes, the second waits for the first's row lock, re-reads the row and matches
 * nothing. The search is bounded by time (a prompt lives at most an hour).
 */
export async function claimConfirmation(
  db: Queryable,
  a: { nonce: string; userId: string; use: 'confirmed' | 'cancelled' },
): Promise<ClaimResult> {
  const res = await db.query<{ id: string }>(
    `UPDATE load_history
        SET warnings = jsonb_set(warnings, '{confirmation,state}', to_jsonb($3::text)),
            status = CASE WHEN $3 = 'cancelled' THEN 'refused' ELSE status END,
            error_message = CASE WHEN $3 = 'cancelled' THEN 'cancelled by ' || $2 || ' before it ran' ELSE error_message END,
            completed_at = CASE WHEN $3 = 'cancelled' THEN clock_timestamp() ELSE completed_at END
      WHERE kind = 'command' AND status = 'started' AND initiated_by = $2
        AND started_at > now() - interval '65 minutes'
        AND warnings -> 'confirmation' ->> 'nonce' = $1
        AND warnings -> 'confirmation' ->> 'state' = 'asked'
      RETURNING id`,
    [a.nonce, a.userId, a.use],
  );
  const row = res.rows[0];
  if (row) return { claimed: true, id: Number(row.id) };
  const seen = await db.query<{ state: string }>(
    `SELECT warnings -> 'confirmation' ->> 'state' AS state FROM load_history
      WHERE kind = 'command' AND started_at > now() - interval '65 minutes' AND warnings -> 'confirmation' ->> 'nonce' = $1
      ORDER BY id LIMIT 1`,
    [a.nonce],
  );
  const state = seen.rows[0]?.state;
  return { claimed: false, state: state === 'confirmed' || state === 'cancelled' || state === 'expired' ? state : 'unknown' };
}

/** Prompts nobody answered in time: refused, so that no row stays 'started' for ever. */
export async function sweepUnconfirmed(db: Queryable): Promise<void> {
  await db.query(
    `UPDATE load_history
        SET status = 'refused', completed_at = clock_timestamp(), error_message = 'not confirmed in time',
            warnings = jsonb_set(warnings, '{confirmation,state}', '"expired"')
      WHERE kind = 'command' AND status = 'started' AND warnings -> 'confirmation' ->> 'state' = 'asked'
        AND (warnings -> 'confirmation' ->> 'expiresAt')::timestamptz < now() - interval '30 seconds'`,
  );
}

/** Marks one prompt expired (its button was clicked too late). */
export async function expireConfirmation(db: Queryable, nonce: string): Promise<void> {
  await db.query(
    `UPDATE load_history
        SET status = 'refused', completed_at = clock_timestamp(), error_message = 'not confirmed in time',
            warnings = jsonb_set(warnings, '{confirmation,state}', '"expired"')
      WHERE kind = 'command' AND status = 'started' AND started_at > now() - interval '65 minutes'
        AND warnings -> 'confirmation' ->> 'nonce' = $1 AND warnings -> 'confirmation' ->> 'state' = 'asked'`,
    [nonce],
  );
}

/**
 * A request whose Slack signature failed. Its body is not trusted (any user id in it
 * may be made up), so the row names no user: initiated_by 'unverified'. The caller
 * rate-limits these, so that forged requests cannot fill the table.
 */
export async function recordUnverified(db: Queryable, a: { reason: string; details?: Record<string, unknown> }): Promise<void> {
  await recordCommand(db, { userId: 'unverified', text: '(unverified request)', operation: 'unverified', status: 'refused', errorMessage: a.reason, details: a.details });
}

/**
 * A signed request that was already received (a replay): its body is Slack's, so it says
 * who first sent it (details.slack), but not who sent it again: initiated_by 'replay'.
 */
export async function recordReplay(db: Queryable, a: { reason: string; text: string; details?: Record<string, unknown> }): Promise<void> {
  await recordCommand(db, { userId: 'replay', text: a.text, operation: 'replay', status: 'refused', errorMessage: a.reason, details: a.details });
}

/**
 * Claims a request's signature: true the first time it is seen, false for a replay (in
 * any process: the table is shared). Signatures past their expiry are deleted on the way.
 */
export async function claimSignature(db: Queryable, signature: string, expiresAt: Date): Promise<boolean> {
  const r = await db.query<{ claimed: boolean }>(
    `WITH expired AS (DELETE FROM slack_seen_signatures WHERE expires_at < now()),
          claimed AS (INSERT INTO slack_seen_signatures (signature, expires_at) VALUES ($1, $2)
                      ON CONFLICT (signature) DO NOTHING RETURNING 1)
     SELECT EXISTS (SELECT 1 FROM claimed) AS claimed`,
    [signature, expiresAt],
  );
  return r.rows[0]!.claimed;
}
