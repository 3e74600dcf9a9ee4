/**
 * Reads of what the commands did, for the entry points that show more than a line of
 * text (the Portal): one load with its tables, error and data-quality findings; the
 * rows it rejected, with their line and reason; a command's record (a Portal or Slack
 * job: who asked, what, how it ended); a pending confirmation; the games of
 * dim_schedule for a picker. Reads only: every write of load_history is history.ts's.
 */
import type { Queryable } from '../db/database';
import type { LoadErrorInfo } from '../engine';
import type { FindingsSummary } from '../quality/findings';

export interface TableDetail {
  id: number;
  table: string;
  operation: string;
  status: string;
  source: string | null;
  rowsInFile: number | null;
  inserted: number | null;
  updated: number | null;
  deleted: number | null;
  unchanged: number | null;
  rejected: number | null;
  rejectedByReason: Record<string, number>;
  durationMs: number | null;
  errorMessage: string | null;
  warnings: string[];
}

export interface LoadDetail {
  id: number;
  requestId: string;
  status: string;
  dryRun: boolean;
  scope: string | null;
  operation: string;
  gameId: number | null;
  source: string | null;
  initiatedBy: string;
  startedAt: string;
  completedAt: string | null;
  durationMs: number | null;
  rowsInFile: number | null;
  inserted: number | null;
  updated: number | null;
  deleted: number | null;
  rejected: number | null;
  errorMessage: string | null;
  /** Where a bad input is (file, line, column, value), when the load failed on one. */
  error: LoadErrorInfo | null;
  warnings: string[];
  findings: FindingsSummary | null;
  tables: TableDetail[];
}

interface HistoryDbRow {
  id: string;
  request_id: string;
  kind: string;
  table_name: string | null;
  status: string;
  dry_run: boolean;
  scope: string | null;
  operation: string;
  game_id: number | null;
  source: string | null;
  initiated_by: string;
  started_at: Date | string;
  completed_at: Date | string | null;
  duration_ms: number | null;
  rows_in_file: string | null;
  rows_inserted: string | null;
  rows_updated: string | null;
  rows_deleted: string | null;
  rows_unchanged: string | null;
  rows_rejected: string | null;
  rejected_by_reason: Record<string, number> | null;
  warnings: unknown;
  error_message: string | null;
  error_detail: unknown;
}

const num = (v: string | null) => (v === null ? null : Number(v));
/** Timestamps come back as text (db/postgres.ts keeps them as PostgreSQL wrote them): ISO 8601 for the API. */
export function iso(d: Date | string | null): string | null {
  if (d === null) return null;
  if (d instanceof Date) return d.toISOString();
  const t = new Date(d.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
  return Number.isNaN(t.getTime()) ? d : t.toISOString();
}

function messagesOf(w: unknown): string[] {
  if (Array.isArray(w)) return w.filter((x): x is string => typeof x === 'string');
  if (w && typeof w === 'object' && Array.isArray((w as { messages?: unknown }).messages)) return messagesOf((w as { messages: unknown }).messages);
  return [];
}

/** A load (a request row of load_history) with its tables; null when `id` is no request. */
export async function loadDetail(db: Queryable, id: number): Promise<LoadDetail | null> {
  const r = await db.query<HistoryDbRow>(
    `SELECT * FROM load_history WHERE id = $1 AND kind = 'request'
     UNION ALL
     SELECT t.* FROM load_history t WHERE t.parent_id = $1 AND t.kind = 'table'
     ORDER BY id`,
    [id],
  );
  const req = r.rows.find((x) => x.kind === 'request');
  if (!req) return null;
  const w = (req.warnings ?? {}) as { findings?: FindingsSummary };
  const detail = req.error_detail as LoadErrorInfo | null;
  return {
    id: Number(req.id),
    requestId: req.request_id,
    status: req.status,
    dryRun: req.dry_run,
    scope: req.scope,
    operation: req.operation,
    gameId: req.game_id,
    source: req.source,
    initiatedBy: req.initiated_by,
    startedAt: iso(req.started_at)!,
    completedAt: iso(req.completed_at),
    durationMs: req.duration_ms,
    rowsInFile: num(req.rows_in_file),
    inserted: num(req.rows_inserted),
    updated: num(req.rows_updated),
    deleted: num(req.rows_deleted),
    rejected: num(req.rows_rejected),
    errorMessage: req.error_message,
    error: detail && typeof detail === 'object' && typeof detail.message === 'string' ? detail : null,
    warnings: messagesOf(req.warnings),
    findings: w.findings ?? null,
    tables: r.rows
      .filter((x) => x.kind === 'table')
      .map((t) => ({
        id: Number(t.id),
        table: t.table_name ?? '',
        operation: t.operation,
        status: t.status,
        source: t.source,
        rowsInFile: num(t.rows_in_file),
        inserted: num(t.rows_inserted),
        updated: num(t.rows_updated),
        deleted: num(t.rows_deleted),
        unchanged: num(t.rows_unchanged),
        rejected: num(t.rows_rejected),
        rejectedByReason: t.rejected_by_reason ?? {},
        durationMs: t.duration_ms,
        errorMessage: t.error_message,
        warnings: messagesOf(t.warnings),
      })),
  };
}

export interface RejectRow {
  table: string;
  line: number | null;
  reason: string;
  detail: string;
  rowKey: string | null;
  source: string | null;
}

/** The rows a load rejected (any of its tables), in file order, with how many there are in all. */
export async function rejectsOf(
  db: Queryable,
  loadId: number,
  opts: { limit: number; offset?: number; table?: string },
): Promise<{ total: number; rows: RejectRow[] }> {
  const r = await db.query<{
    table_name: string;
    line: string | null;
    reason: string;
    detail: string;
    row_key: string | null;
    source: string | null;
    total: string;
  }>(
    `SELECT table_name, line, reason, detail, row_key, source, count(*) OVER () AS total
     FROM load_rejects
     WHERE request_id = (SELECT request_id FROM load_history WHERE id = $1) AND ($4::text IS NULL OR table_name = $4)
     ORDER BY table_name, line NULLS LAST, id
     LIMIT $2 OFFSET $3`,
    [loadId, opts.limit, opts.offset ?? 0, opts.table ?? null],
  );
  return {
    total: Number(r.rows[0]?.total ?? 0),
    rows: r.rows.map((x) => ({ table: x.table_name, line: num(x.line), reason: x.reason, detail: x.detail, rowKey: x.row_key, source: x.source })),
  };
}

export interface CommandRecordRow {
  id: number;
  text: string;
  operation: string;
  status: string;
  initiatedBy: string;
  source: string | null;
  startedAt: string;
  completedAt: string | null;
  durationMs: number | null;
  errorMessage: string | null;
  /** What the command produced: the load's history id and status, when it ran a load. */
  result: { historyId?: number; status?: string } | null;
  confirmation: { nonce: string; state: string; expiresAt: string } | null;
  /** The rest of what the entry point recorded with it (where it came from, an upload's object ...). */
  details: Record<string, unknown>;
}

function commandOf(x: {
  id: string;
  scope: string | null;
  operation: string;
  status: string;
  initiated_by: string;
  source: string | null;
  started_at: Date | string;
  completed_at: Date | string | null;
  duration_ms: number | null;
  error_message: string | null;
  warnings: ({ result?: CommandRecordRow['result']; confirmation?: CommandRecordRow['confirmation'] } & Record<string, unknown>) | null;
}): CommandRecordRow {
  return {
    id: Number(x.id),
    text: x.scope ?? '',
    operation: x.operation,
    status: x.status,
    initiatedBy: x.initiated_by,
    source: x.source,
    startedAt: iso(x.started_at)!,
    completedAt: iso(x.completed_at),
    durationMs: x.duration_ms,
    errorMessage: x.error_message,
    result: x.warnings?.result ?? null,
    confirmation: x.warnings?.confirmation ?? null,
    details: x.warnings ?? {},
  };
}

const COMMAND_COLUMNS = 'id, scope, operation, status, initiated_by, source, started_at, completed_at, duration_ms, error_message, warnings';

/** One command's record (kind `command`), or null. */
export async function commandRecord(db: Queryable, id: number): Promise<CommandRecordRow | null> {
  const r = await db.query<Parameters<typeof commandOf>[0]>(`SELECT ${COMMAND_COLUMNS} FROM load_history WHERE id = $1 AND kind = 'command'`, [id]);
  return r.rows[0] ? commandOf(r.rows[0]) : null;
}

/** The command whose confirmation carries this nonce (asked within the hour), or null. */
export async function confirmationRecord(db: Queryable, nonce: string): Promise<CommandRecordRow | null> {
  const r = await db.query<Parameters<typeof commandOf>[0]>(
    `SELECT ${COMMAND_COLUMNS} FROM load_history
     WHERE kind = 'command' AND started_at > now() - interval '65 minutes' AND warnings -> 'confirmation' ->> 'nonce' = $1
     ORDER BY id LIMIT 1`,
    [nonce],
  );
  return r.rows[0] ? commandOf(r.rows[0]) : null;
}

export interface ScheduledGame {
  gameId: number;
  date: string | null;
  homeTeam: string | null;
  awayTeam: string | null;
}

/** The games of dim_schedule, newest first: what a person picks a game by (teams — the schedule's names, else dim_team's — and date). */
export async function scheduledGames(db: Queryable, limit = 500): Promise<ScheduledGame[]> {
  const r = await db.query<{ game_id: number; date: string | null; home_team_name: string | null; away_team_name: string | null }>(
    `SELECT s.game_id, to_char(s.date, 'YYYY-MM-DD') AS date,
            coalesce(nullif(s.home_team_name, ''), h.team_name) AS home_team_name, coalesce(nullif(s.away_team_name, ''), a.team_name) AS away_team_name
     FROM dim_schedule s
     LEFT JOIN dim_team h ON h.team_id = s.home_team_id
     LEFT JOIN dim_team a ON a.team_id = s.away_team_id
     ORDER BY s.date DESC NULLS LAST, s.game_id DESC LIMIT $1`,
    [limit],
  );
  return r.rows.map((g) => ({ gameId: g.game_id, date: g.date, homeTeam: g.home_team_name, awayTeam: g.away_team_name }));
}
