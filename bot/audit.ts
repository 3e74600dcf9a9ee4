/**
 * The bot's record of who asked for what: one load_history row (kind 'command') per
 * command, allowed or refused, with initiated_by = the Slack user id, operation = the
 * command word, scope = the command text. A confirmation prompt is such a row too,
 * 'started' with warnings.confirmation = {nonce, state: 'asked'}; confirming or
 * cancelling moves that state on in one UPDATE, which is what makes a button one-shot
 * across processes (README.md). The statements are loader/history.ts's; this module
 * turns a parsed command into its row, batches the rows written after an answer, and
 * claims request signatures (slack_seen_signatures).
 */
import type { Command } from '../loader/commands/grammar';
import type { Queryable } from '../loader/db/database';
import { recordCommand as recordRow, recordCommands, recordConfirmationAsked, type CommandRow, type CommandStatus } from '../loader/history';

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
}

/** The command word of the grammar: load, delete, etl, history ... (none for text that did not parse: its first word is taken). */
function commandWord(command: Command | undefined): string | undefined {
  if (!command) return undefined;
  if (command.kind === 'delete-game') return 'delete';
  if (command.kind.startsWith('etl-')) return 'etl';
  return command.kind;
}

function rowOf(r: CommandRecord): CommandRow {
  const { command, ...rest } = r;
  return {
    ...rest,
    operation: r.operation ?? commandWord(command),
    gameId: command && 'gameId' in command && command.gameId !== undefined ? command.gameId : null,
    dryRun: Boolean(command && 'dryRun' in command && command.dryRun),
  };
}

/** Records one command now and returns its id (when the row must exist before the answer). */
export async function recordCommand(db: Queryable, r: CommandRecord): Promise<number> {
  return recordRow(db, rowOf(r));
}

/**
 * Records written after the answer has gone out (fast commands, refusals), gathered per
 * turn of the event loop into one INSERT: a burst of commands costs the database one
 * statement, not one per command, and leaves the connections to the answers.
 */
export class CommandLog {
  private batch: { row: CommandRow; done: (err?: unknown) => void }[] = [];
  private scheduled = false;
  constructor(
    private readonly db: Queryable,
    private readonly maxBatch = 200,
  ) {}

  record(r: CommandRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.batch.push({ row: rowOf(r), done: (err) => (err ? reject(err) : resolve()) });
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
        await recordCommands(
          this.db,
          rows.map((r) => r.row),
        );
        for (const r of rows) r.done();
      } catch (err) {
        for (const r of rows) r.done(err);
      }
    }
  }
}

/** A confirmation prompt: the row that its button will claim. */
export async function recordAsk(db: Queryable, r: Omit<CommandRecord, 'status'> & { nonce: string; expiresAt: number }): Promise<number> {
  const { nonce, expiresAt, ...record } = r;
  return recordConfirmationAsked(db, { ...rowOf({ ...record, status: 'started' }), nonce, expiresAt });
}

/**
 * A request whose Slack signature failed. Its body is not trusted (any user id in it
 * may be made up), so the row names no user: initiated_by 'unverified'. The caller
 * rate-limits these, so that forged requests cannot fill the table.
 */
export async function recordUnverified(db: Queryable, a: { reason: string; details?: Record<string, unknown> }): Promise<void> {
  await recordCommand(db, {
    userId: 'unverified',
    text: '(unverified request)',
    operation: 'unverified',
    status: 'refused',
    errorMessage: a.reason,
    details: a.details,
  });
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
