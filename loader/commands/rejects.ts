/**
 * `rejects <history id>`: the rows a load rejected, read back from load_rejects (written
 * by sql/functions/rejects.sql): each with its CSV line, reason, sentence and the row as
 * it was read, its columns named by the export's headers in the table's order (pgloader's
 * reject files are the model: what was refused, where, why). The id is a request's
 * (`history` shows them, `OK: ... history #42`) or one of its tables' (`history <table>`).
 */
import type { Queryable } from '../db/database';
import { WAREHOUSE } from '../warehouse';

export interface RejectedRow {
  table: string;
  line: number | null;
  reason: string;
  detail: string;
  /** The row as read: export header → value, in the table's column order. */
  row: Record<string, unknown>;
}

export interface RejectsReport {
  historyId: number;
  /** What the history says about the load. */
  load: { scope: string | null; status: string; startedAt: string; initiatedBy: string; dryRun: boolean };
  /** Rejected rows per table and reason, counted from load_rejects. */
  counts: { table: string; reason: string; rows: number }[];
  total: number;
  /** Rejected rows the history counted: more than `total` when the retention purged some. */
  recorded: number;
  retentionDays: number | null;
  rows: RejectedRow[];
}

export class RejectsError extends Error {}

interface Target {
  requestId: string;
  /** A table row's id: only its rejects. */
  tableRowId: number | null;
}

async function target(db: Queryable, historyId: number): Promise<{ target: Target; load: RejectsReport['load']; recorded: number }> {
  const r = await db.query<{
    request_id: string;
    kind: string;
    scope: string | null;
    status: string;
    started_at: string;
    initiated_by: string;
    dry_run: boolean;
    recorded: string | null;
  }>(
    `SELECT h.request_id, h.kind, coalesce(h.table_name, h.scope) AS scope, h.status, to_char(h.started_at, 'YYYY-MM-DD HH24:MI:SS') AS started_at,
            h.initiated_by, h.dry_run,
            CASE WHEN h.kind = 'table' THEN h.rows_rejected
                 ELSE (SELECT sum(t.rows_rejected) FROM load_history t WHERE t.parent_id = h.id) END AS recorded
     FROM load_history h WHERE h.id = $1`,
    [historyId],
  );
  const h = r.rows[0];
  if (!h) throw new RejectsError(`no history entry #${historyId}: \`history\` lists them`);
  if (h.kind === 'command') throw new RejectsError(`#${historyId} is a command, not a load: \`history\` shows the load it ran`);
  return {
    target: { requestId: h.request_id, tableRowId: h.kind === 'table' ? historyId : null },
    load: { scope: h.scope, status: h.status, startedAt: h.started_at, initiatedBy: h.initiated_by, dryRun: h.dry_run },
    recorded: Number(h.recorded ?? 0),
  };
}

const HEADERS = new Map(WAREHOUSE.map((t) => [t.name, t.columns]));

/** The row's columns in the table's order, named by the export's headers; columns the declaration lacks (added ones) last. */
export function orderedRow(table: string, data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const c of HEADERS.get(table) ?? []) {
    if (c.name in data) {
      out[c.header] = data[c.name];
      seen.add(c.name);
    }
  }
  for (const [k, v] of Object.entries(data)) if (!seen.has(k)) out[k] = v;
  return out;
}

const WHERE = `request_id = $1 AND ($2::bigint IS NULL OR history_id = $2) AND ($3::text IS NULL OR table_name = $3)`;

interface RawReject {
  id: string;
  table_name: string;
  line: string | null;
  reason: string;
  detail: string;
  row_data: Record<string, unknown>;
}

const toRow = (r: RawReject): RejectedRow => ({
  table: r.table_name,
  line: r.line === null ? null : Number(r.line),
  reason: r.reason,
  detail: r.detail,
  row: orderedRow(r.table_name, r.row_data),
});

/** The first `limit` rejected rows of a load (by table, then line), with the counts of all of them. */
export async function rejectsOf(db: Queryable, historyId: number, opts: { table?: string; limit?: number } = {}): Promise<RejectsReport> {
  const { target: t, load, recorded } = await target(db, historyId);
  const params = [t.requestId, t.tableRowId, opts.table ?? null];
  const counts = await db.query<{ table_name: string; reason: string; n: string }>(
    `SELECT table_name, reason, count(*) AS n FROM load_rejects WHERE ${WHERE} GROUP BY table_name, reason ORDER BY table_name, reason`,
    params,
  );
  const rows = await db.query<RawReject>(
    `SELECT id, table_name, line, reason, detail, row_data FROM load_rejects WHERE ${WHERE} ORDER BY table_name, line NULLS LAST, id LIMIT $4`,
    [...params, opts.limit ?? 20],
  );
  const retention = await db
    .query<{ value: string }>("SELECT value FROM bs_settings WHERE key = 'rejects_retention_days'")
    .then((r) => (r.rows[0] ? Number(r.rows[0].value) : null))
    .catch(() => null);
  const c = counts.rows.map((x) => ({ table: x.table_name, reason: x.reason, rows: Number(x.n) }));
  return {
    historyId,
    load,
    counts: c,
    total: c.reduce((a, x) => a + x.rows, 0),
    recorded: opts.table ? c.reduce((a, x) => a + x.rows, 0) : recorded,
    retentionDays: retention,
    rows: rows.rows.map(toRow),
  };
}

/** Every rejected row of a load, a batch at a time (for --csv and --json of big loads: memory stays flat). */
export async function* allRejects(db: Queryable, historyId: number, opts: { table?: string; batch?: number } = {}): AsyncGenerator<RejectedRow[]> {
  const { target: t } = await target(db, historyId);
  let after = 0;
  for (;;) {
    const r = await db.query<RawReject>(
      `SELECT id, table_name, line, reason, detail, row_data FROM load_rejects WHERE ${WHERE} AND id > $4 ORDER BY id LIMIT $5`,
      [t.requestId, t.tableRowId, opts.table ?? null, after, opts.batch ?? 5000],
    );
    if (!r.rows.length) return;
    after = Number(r.rows[r.rows.length - 1]!.id);
    yield r.rows.map(toRow);
  }
}
