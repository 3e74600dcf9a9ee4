/**
 * load_history rows for the tracker ingestion and the ETL: one 'request' row per run and,
 * for the ETL, one 'table' row per fact table it rewrote. Rows are written in the work's
 * transaction when it succeeds (they commit with the data) and on their own when it fails,
 * so a failed run always leaves its record.
 */
import type { Queryable } from '../db/database';

export interface RequestRecord {
  requestId: string;
  operation: 'ingest' | 'etl';
  scope: string;
  gameId: number | null;
  source: string;
  initiatedBy: string;
}

export interface Counts {
  rowsInFile?: number;
  inserted?: number;
  deleted?: number;
}

export async function startRequest(db: Queryable, r: RequestRecord): Promise<number> {
  const res = await db.query<{ id: string }>(
    `INSERT INTO load_history (request_id, kind, scope, operation, game_id, source, initiated_by, status)
     VALUES ($1, 'request', $2, $3, $4, $5, $6, 'started') RETURNING id`,
    [r.requestId, r.scope, r.operation, r.gameId, r.source, r.initiatedBy],
  );
  return Number(res.rows[0]!.id);
}

export async function recordTable(
  db: Queryable,
  r: RequestRecord,
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

export async function succeedRequest(
  db: Queryable,
  id: number,
  counts: Counts,
  durationMs: number,
  warnings: Record<string, unknown>,
): Promise<void> {
  await db.query(
    `UPDATE load_history SET status = 'succeeded', completed_at = clock_timestamp(), duration_ms = $2,
       rows_in_file = $3::bigint, rows_inserted = $4::bigint, rows_deleted = $5::bigint,
       rows_affected = coalesce($4::bigint, 0) + coalesce($5::bigint, 0),
       warnings = coalesce(warnings, '{}'::jsonb) || $6::jsonb
     WHERE id = $1`,
    [id, durationMs, counts.rowsInFile ?? null, counts.inserted ?? null, counts.deleted ?? null, JSON.stringify(warnings)],
  );
}

export async function failRequest(db: Queryable, id: number, status: 'failed' | 'refused', message: string, durationMs: number): Promise<void> {
  await db.query(
    `UPDATE load_history SET status = $2, completed_at = clock_timestamp(), duration_ms = $3, error_message = $4 WHERE id = $1`,
    [id, status, durationMs, message],
  );
}

/** Adds to the request row's warnings (e.g. the data-quality findings found after the run). */
export async function addWarnings(db: Queryable, id: number, warnings: Record<string, unknown>): Promise<void> {
  await db.query(`UPDATE load_history SET warnings = coalesce(warnings, '{}'::jsonb) || $2::jsonb WHERE id = $1`, [id, JSON.stringify(warnings)]);
}
