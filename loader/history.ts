/**
 * load_history, the record of every operation, written by one module for all of them.
 *
 * Loads (the engine: files into tables, delete game): a request row and one row per
 * table, written `started` before the work, `succeeded` inside the work's transaction
 * (so it commits with the data), and `failed` after a rollback, on its own — a failed
 * request always leaves its record.
 *
 * Runs (tracker ingestion and the ETL): one request row per run and, for the ETL, one
 * table row per fact table it rewrote, written in the run's transaction when it succeeds
 * and on their own when it fails.
 *
 * Commands (Slack's, and the CLI's refusals): one row of kind `command` per command,
 * allowed or refused; a confirmation prompt is such a row, claimed by its button.
 *
 * The S3 loader: a dropped object it refused, and the attempts of a loader that died.
 *
 * Every statement that writes load_history is in this file.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from './db/database';

// ── Loads ────────────────────────────────────────────────────────────────────

export interface RequestRow {
  requestId: string;
  scope: string;
  operation: string;
  gameId: number | null;
  source: string;
  dryRun: boolean;
  initiatedBy: string;
  context?: Record<string, unknown>;
}

export async function startRequest(db: Queryable, r: RequestRow): Promise<number> {
  const res = await db.query<{ id: string }>(
    `INSERT INTO load_history (request_id, kind, scope, operation, game_id, source, dry_run, initiated_by, warnings, alive_lock)
     VALUES ($1, 'request', $2, $3, $4, $5, $6, $7, $8, bs_request_lock($1)) RETURNING id`,
    [r.requestId, r.scope, r.operation, r.gameId, r.source, r.dryRun, r.initiatedBy, r.context ? JSON.stringify({ context: r.context }) : null],
  );
  return Number(res.rows[0]!.id);
}

export async function startTable(db: Queryable, r: RequestRow, parentId: number, t: { table: string; operation: string; file: string }): Promise<number> {
  const res = await db.query<{ id: string }>(
    `INSERT INTO load_history (request_id, parent_id, kind, table_name, scope, operation, game_id, source, dry_run, initiated_by)
     VALUES ($1, $2, 'table', $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [r.requestId, parentId, t.table, r.scope, t.operation, r.gameId, t.file, r.dryRun, r.initiatedBy],
  );
  return Number(res.rows[0]!.id);
}

/** A request's row and its tables' rows, in one statement: the request's id, table → id. */
export async function startRequestAndTables(
  db: Queryable,
  r: RequestRow,
  tables: { table: string; operation: string; file: string }[],
): Promise<{ requestId: number; tables: Map<string, number> }> {
  if (!tables.length) return { requestId: await startRequest(db, r), tables: new Map() };
  const res = await db.query<{ id: string; table_name: string; parent_id: string }>(
    `WITH req AS (
       INSERT INTO load_history (request_id, kind, scope, operation, game_id, source, dry_run, initiated_by, warnings, alive_lock)
       VALUES ($1, 'request', $2, $3, $4, $5, $6, $7, $8, bs_request_lock($1)) RETURNING id
     )
     INSERT INTO load_history (request_id, parent_id, kind, table_name, scope, operation, game_id, source, dry_run, initiated_by)
     SELECT $1, req.id, 'table', t.table_name, $2, t.operation, $4, t.source, $6, $7
     FROM req, unnest($9::text[], $10::text[], $11::text[]) WITH ORDINALITY AS t (table_name, operation, source, n)
     ORDER BY t.n
     RETURNING id, table_name, parent_id`,
    [
      r.requestId,
      r.scope,
      r.operation,
      r.gameId,
      r.source,
      r.dryRun,
      r.initiatedBy,
      r.context ? JSON.stringify({ context: r.context }) : null,
      tables.map((t) => t.table),
      tables.map((t) => t.operation),
      tables.map((t) => t.file),
    ],
  );
  return { requestId: Number(res.rows[0]!.parent_id), tables: new Map(res.rows.map((x) => [x.table_name, Number(x.id)])) };
}

export type Finished = 'succeeded' | 'partial';

/** What a table's row records when its load ends (the engine's results carry these fields). */
export interface TableCounts {
  table: string;
  historyId: number;
  durationMs: number;
  rowsInFile: number;
  inserted: number;
  updated: number;
  deleted: number;
  unchanged: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  warnings: string[];
}

/** finishTable for every table of a request, in one statement. */
export async function finishTables<T extends TableCounts>(db: Queryable, tables: T[], statusOf: (t: T) => Finished = () => 'succeeded'): Promise<void> {
  if (tables.length === 1) return finishTable(db, tables[0]!, statusOf(tables[0]!));
  await db.query(
    `UPDATE load_history h SET status = t.status, completed_at = clock_timestamp(), duration_ms = t.duration_ms,
       rows_in_file = t.rows_in_file, rows_inserted = t.inserted, rows_updated = t.updated, rows_deleted = t.deleted,
       rows_unchanged = t.unchanged, rows_rejected = t.rejected, rows_affected = t.inserted + t.updated + t.deleted,
       rejected_by_reason = t.rejected_by_reason, warnings = t.warnings
     FROM jsonb_to_recordset($1::jsonb) AS t (id bigint, status text, duration_ms integer, rows_in_file bigint, inserted bigint, updated bigint,
       deleted bigint, unchanged bigint, rejected bigint, rejected_by_reason jsonb, warnings jsonb)
     WHERE h.id = t.id`,
    [
      JSON.stringify(
        tables.map((t) => ({
          id: t.historyId,
          status: statusOf(t),
          duration_ms: Math.round(t.durationMs),
          rows_in_file: t.rowsInFile,
          inserted: t.inserted,
          updated: t.updated,
          deleted: t.deleted,
          unchanged: t.unchanged,
          rejected: t.rejected,
          rejected_by_reason: t.rejectedByReason,
          warnings: t.warnings,
        })),
      ),
    ],
  );
}

export async function finishTable(db: Queryable, t: TableCounts, status: Finished = 'succeeded'): Promise<void> {
  await db.query(
    `UPDATE load_history SET status = $11, completed_at = clock_timestamp(), duration_ms = $2,
       rows_in_file = $3::bigint, rows_inserted = $4::bigint, rows_updated = $5::bigint, rows_deleted = $6::bigint, rows_unchanged = $7::bigint,
       rows_rejected = $8, rows_affected = $4::bigint + $5::bigint + $6::bigint, rejected_by_reason = $9, warnings = $10
     WHERE id = $1`,
    [
      t.historyId,
      t.durationMs,
      t.rowsInFile,
      t.inserted,
      t.updated,
      t.deleted,
      t.unchanged,
      t.rejected,
      JSON.stringify(t.rejectedByReason),
      JSON.stringify(t.warnings),
      status,
    ],
  );
}

/** `extra`: more keys for the row's `warnings` (the data-quality findings, for one). */
export async function finishRequest(
  db: Queryable,
  id: number,
  tables: TableCounts[],
  durationMs: number,
  warnings: string[],
  extra: Record<string, unknown> = {},
  status: Finished = 'succeeded',
): Promise<void> {
  const sum = (f: (t: TableCounts) => number) => tables.reduce((n, t) => n + f(t), 0);
  await db.query(
    `UPDATE load_history SET status = $11, completed_at = clock_timestamp(), duration_ms = $2,
       rows_in_file = $3::bigint, rows_inserted = $4::bigint, rows_updated = $5::bigint, rows_deleted = $6::bigint, rows_unchanged = $7::bigint,
       rows_rejected = $8, rows_affected = $4::bigint + $5::bigint + $6::bigint,
       warnings = coalesce(warnings, '{}'::jsonb) || jsonb_build_object('messages', $9::jsonb) || $10::jsonb
     WHERE id = $1`,
    [
      id,
      durationMs,
      sum((t) => t.rowsInFile),
      sum((t) => t.inserted),
      sum((t) => t.updated),
      sum((t) => t.deleted),
      sum((t) => t.unchanged),
      sum((t) => t.rejected),
      JSON.stringify(warnings),
      JSON.stringify(extra),
      status,
    ],
  );
}

/**
 * Marks the request and its unfinished table rows failed, or cancelled (runs outside the
 * rolled-back work).
 */
export async function failRequest(
  db: Queryable,
  requestId: string,
  error: { message: string; detail?: unknown; table?: string },
  durationMs: number,
  status: 'failed' | 'cancelled' = 'failed',
): Promise<void> {
  await db.query(
    `UPDATE load_history SET status = $6, completed_at = clock_timestamp(), duration_ms = $3,
       error_message = CASE WHEN kind = 'request' OR table_name = $4 OR $4 IS NULL THEN $2
                            ELSE 'not applied: the request ' || $6 || ' on ' || $4 END,
       error_detail = CASE WHEN kind = 'request' OR table_name = $4 THEN $5::jsonb END
     WHERE request_id = $1 AND status IN ('started', 'abandoned')`,
    [requestId, noNul(error.message), durationMs, error.table ?? null, error.detail === undefined ? null : noNul(JSON.stringify(error.detail)), status],
  );
}

/** PostgreSQL text cannot hold NUL characters; a message about a binary file may. */
function noNul(s: string): string {
  return s.replace(/\u0000/g, '\\0');
}

// ── Runs: tracker ingestion and the ETL ─────────────────────────────────────────

export interface RunRecord {
  requestId: string;
  operation: 'ingest' | 'etl';
  scope: string;
  gameId: number | null;
  source: string;
  initiatedBy: string;
}

export interface RunCounts {
  rowsInFile?: number;
  inserted?: number;
  deleted?: number;
}

export async function startRun(db: Queryable, r: RunRecord): Promise<number> {
  const res = await db.query<{ id: string }>(
    `INSERT INTO load_history (request_id, kind, scope, operation, game_id, source, initiated_by, status)
     VALUES ($1, 'request', $2, $3, $4, $5, $6, 'started') RETURNING id`,
    [r.requestId, r.scope, r.operation, r.gameId, r.source, r.initiatedBy],
  );
  return Number(res.rows[0]!.id);
}

export async function recordRunTable(
  db: Queryable,
  r: RunRecord,
  parentId: number,
  t: { table: string; operation: string; deleted: number; inserted: number; durationMs: number },
): Promise<number> {
  const res = await db.query<{ id: string }>(
    `INSERT INTO load_history (request_id, parent_id, kind, table_name, scope, operation, game_id, source, initiated_by,
       rows_inserted, rows_deleted, rows_affected, status, completed_at, duration_ms)
     VALUES ($1, $2, 'table', $3, $4, $5, $6, $7, $8, $9::bigint, $10::bigint, $9::bigint + $10::bigint, 'succeeded', clock_timestamp(), $11)
     RETURNING id`,
    [r.requestId, parentId, t.table, r.scope, t.operation, r.gameId, r.source, r.initiatedBy, t.inserted, t.deleted, t.durationMs],
  );
  return Number(res.rows[0]!.id);
}

export async function succeedRun(db: Queryable, id: number, counts: RunCounts, durationMs: number, warnings: Record<string, unknown>): Promise<void> {
  await db.query(
    `UPDATE load_history SET status = 'succeeded', completed_at = clock_timestamp(), duration_ms = $2,
       rows_in_file = $3::bigint, rows_inserted = $4::bigint, rows_deleted = $5::bigint,
       rows_affected = coalesce($4::bigint, 0) + coalesce($5::bigint, 0),
       warnings = coalesce(warnings, '{}'::jsonb) || $6::jsonb
     WHERE id = $1`,
    [id, durationMs, counts.rowsInFile ?? null, counts.inserted ?? null, counts.deleted ?? null, JSON.stringify(warnings)],
  );
}

export async function failRun(db: Queryable, id: number, status: 'failed' | 'refused', message: string, durationMs: number): Promise<void> {
  await db.query(`UPDATE load_history SET status = $2, completed_at = clock_timestamp(), duration_ms = $3, error_message = $4 WHERE id = $1`, [
    id,
    status,
    durationMs,
    message,
  ]);
}

/** A request that committed and then met a problem the person must see (rules that could not run). */
export async function markPartial(db: Queryable, id: number): Promise<void> {
  await db.query("UPDATE load_history SET status = 'partial' WHERE id = $1 AND status = 'succeeded'", [id]);
}

/**
 * Requests whose process died before they ended (a killed loader): the server rolled
 * them back, and their request lock (bs_request_lock) is free. Marked `abandoned`.
 */
export async function markAbandoned(db: Queryable): Promise<number> {
  const r = await db.query<{ n: number }>('SELECT bs_mark_abandoned() AS n');
  return Number(r.rows[0]?.n ?? 0);
}

/** Adds to the request row's warnings (e.g. the data-quality findings found after the run). */
export async function addWarnings(db: Queryable, id: number, warnings: Record<string, unknown>): Promise<void> {
  await db.query(`UPDATE load_history SET warnings = coalesce(warnings, '{}'::jsonb) || $2::jsonb WHERE id = $1`, [id, JSON.stringify(warnings)]);
}

// ── Commands: who asked for what (Slack, and the CLI's refusals) ───────────────────

export type CommandStatus = 'started' | 'succeeded' | 'failed' | 'refused';

export interface CommandRow {
  /** The Slack user id, `cli:<OS user>`, or `unverified` / `replay` for requests that name nobody. */
  userId: string;
  /** What was typed (or the confirmed command's text). */
  text: string;
  /** The command word; defaults to the first word of the text. */
  operation?: string;
  gameId?: number | null;
  dryRun?: boolean;
  status: CommandStatus;
  errorMessage?: string;
  durationMs?: number;
  /** Where it came from: team, channel, and what else helps a reader of the history. */
  details?: Record<string, unknown>;
  /** The entry point: 'slack' (default), 'cli' for the command line's refusals, 'portal' for the Admin Portal's requests. */
  source?: 'slack' | 'cli' | 'portal';
}

const MAX_COMMAND_TEXT = 500;

function commandColumns(r: CommandRow) {
  const firstWord = (r.text.trim().split(/\s+/)[0] ?? '').toLowerCase().slice(0, 40) || 'help';
  return {
    request_id: randomUUID(),
    scope: r.text.slice(0, MAX_COMMAND_TEXT),
    operation: r.operation ?? firstWord,
    game_id: r.gameId ?? null,
    dry_run: r.dryRun ?? false,
    status: r.status,
    error_message: r.errorMessage?.slice(0, 2000) ?? null,
    warnings: r.details ?? {},
    initiated_by: r.userId.slice(0, 60),
    duration_ms: r.durationMs ?? null,
    source: r.source ?? 'slack',
  };
}

/** Records one command now and returns its id (when the row must exist before the answer). */
export async function recordCommand(db: Queryable, r: CommandRow): Promise<number> {
  const c = commandColumns(r);
  const res = await db.query<{ id: string }>(
    `INSERT INTO load_history (request_id, kind, scope, operation, game_id, source, dry_run, status, error_message,
                               warnings, initiated_by, completed_at, duration_ms)
     VALUES ($1, 'command', $2, $3, $4, $11, $5, $6, $7, $8::jsonb, $9,
             CASE WHEN $6 = 'started' THEN NULL ELSE clock_timestamp() END, $10)
     RETURNING id`,
    [c.request_id, c.scope, c.operation, c.game_id, c.dry_run, c.status, c.error_message, JSON.stringify(c.warnings), c.initiated_by, c.duration_ms, c.source],
  );
  return Number(res.rows[0]!.id);
}

/** Records many commands in one statement, in their order. */
export async function recordCommands(db: Queryable, rows: CommandRow[]): Promise<void> {
  await db.query(
    `INSERT INTO load_history (request_id, kind, scope, operation, game_id, source, dry_run, status, error_message,
                               warnings, initiated_by, completed_at, duration_ms)
     SELECT (r ->> 'request_id')::uuid, 'command', r ->> 'scope', r ->> 'operation', (r ->> 'game_id')::integer, r ->> 'source',
            (r ->> 'dry_run')::boolean, r ->> 'status', r ->> 'error_message', coalesce(r -> 'warnings', '{}'::jsonb), r ->> 'initiated_by',
            CASE WHEN r ->> 'status' = 'started' THEN NULL ELSE clock_timestamp() END, (r ->> 'duration_ms')::integer
     FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(r, n)
     ORDER BY e.n`,
    [JSON.stringify(rows.map(commandColumns))],
  );
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

/**
 * A confirmation prompt: a 'started' command row with warnings.confirmation = {nonce,
 * state: 'asked', expiresAt}, the row its button claims. Prompts nobody answered in time
 * are closed first.
 */
export async function recordConfirmationAsked(db: Queryable, r: Omit<CommandRow, 'status'> & { nonce: string; expiresAt: number }): Promise<number> {
  await expireUnansweredConfirmations(db);
  const { nonce, expiresAt, ...row } = r;
  const confirmation = { nonce, state: 'asked', expiresAt: new Date(expiresAt).toISOString() };
  return recordCommand(db, { ...row, status: 'started', details: { ...row.details, confirmation } });
}

export type ClaimResult = { claimed: true; id: number } | { claimed: false; state: 'confirmed' | 'cancelled' | 'expired' | 'unknown' };

/**
 * Moves the prompt with this nonce from 'asked' to 'confirmed' (it stays 'started'
 * until the job ends) or 'cancelled' (refused). One UPDATE: of two clicks racing on two
 * processes, the second waits for the first's row lock, re-reads the row and matches
 * nothing. The search is bounded by time (a prompt lives at most an hour).
 */
export async function claimConfirmation(db: Queryable, a: { nonce: string; userId: string; use: 'confirmed' | 'cancelled' }): Promise<ClaimResult> {
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
async function expireUnansweredConfirmations(db: Queryable): Promise<void> {
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

// ── The S3 loader: refused objects, dead loaders' attempts ─────────────────────────

/** A dropped object the loader refused (a load records itself): a finished request row, with the object in its context. */
export async function recordObjectRefused(
  db: Queryable,
  r: { object: string; message: string; initiatedBy: string; context: Record<string, unknown> },
): Promise<void> {
  await db.query(
    `INSERT INTO load_history (request_id, kind, scope, operation, source, status, error_message, initiated_by, completed_at, duration_ms, warnings)
     VALUES (gen_random_uuid(), 'request', 'drop', 'load', $1, 'refused', $2, $3, now(), 0, $4)`,
    [r.object, r.message, r.initiatedBy, JSON.stringify({ context: r.context })],
  );
}

/**
 * The history of a dead loader's attempt (its S3 claim's `holder`): its rows still
 * `started` (rolled back by the server when its connection died) are marked abandoned.
 * Rows locked by a transaction still running (a loader that lapsed but is committing
 * now) are left to it: its commit is refused (000010), and it records its own outcome;
 * waiting for them here would deadlock with that commit, which waits for the claim.
 */
export async function abandonLoaderAttempt(db: Queryable, a: { holder: string; object: string }): Promise<void> {
  await db.query(
    `UPDATE load_history SET status = 'abandoned', completed_at = clock_timestamp(),
       error_message = 'its loader stopped before it ended (its claim on ' || $2 || ' was not renewed); nothing of it was kept, and the object is loaded again'
     WHERE id IN (
       SELECT id FROM load_history
       WHERE status = 'started' AND request_id IN (
         SELECT request_id FROM load_history WHERE kind = 'request' AND warnings->'context'->'s3_claim'->>'holder' = $1)
       FOR UPDATE SKIP LOCKED)`,
    [a.holder, a.object],
  );
}
