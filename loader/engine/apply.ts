/**
 * Applies a file's operation in SQL, and what the database answers: bs_delete_scope for a
 * replace's scope, then bs_apply (from a staging table) or bs_apply_loaded (a file loaded
 * straight into its table), whose JSON becomes the file's TableResult; and which games'
 * rows of the table the full ETL produced now (bs_record_provenance, provenance.sql).
 */
import type { Queryable } from '../db/database';
import type { CopiedFile } from './copy-file';
import { tableDrift, type SqlDrift } from './drift';
import type { LoadRequest, TableResult } from './request';

/** Deletes a replace's scope (the table, or the game's rows of it): how many rows went. */
export async function deleteScope(tx: Queryable, table: string, gameId: number | null): Promise<number> {
  const r = await tx.query<{ n: string }>('SELECT bs_delete_scope($1, $2) AS n', [table, gameId]);
  return Number(r.rows[0]!.n);
}

export interface ApplyFile {
  tx: Queryable;
  f: CopiedFile;
  requestId: string;
  gameId: number | null;
  policy: LoadRequest['policy'];
  /** Rows its scope lost before (emptied, or deleted by the replace). */
  deletedBefore: number;
  /** A plan (dry run): what the drift policy refuses is said, not raised. */
  plan: boolean;
  initiatedBy: string;
}

interface ApplyJson {
  rows_in_file: number;
  out_of_scope: number;
  inserted: number;
  updated: number;
  deleted: number;
  unchanged: number;
  rejected: number;
  rejected_by_reason: Record<string, number>;
  drift?: SqlDrift;
  refused?: string;
}

export async function applyFile({ tx, f, requestId, gameId, policy, deletedBefore, plan, initiatedBy }: ApplyFile): Promise<TableResult> {
  const table = f.planned.decl.name;
  const operation = f.planned.operation;
  const options = {
    duplicates: policy?.duplicates ?? 'reject',
    orphans: policy?.orphans ?? 'reject',
    request_id: requestId,
    // (0: a plan recorded nowhere)
    history_id: f.historyId || null,
    source: f.file.name,
    // What the reader already knows spares bs_apply a pass over the stage.
    file_rows: f.rows,
    ...(f.keys.increasing ? { keys_unique: true, keys_missing: f.keys.missing } : {}),
  };
  // How the file meets its table (drift.sql): columns it brings that are not loaded, new
  // columns that may tell apart rows of a finer grain, and the table's policy.
  const drift = {
    ignore_columns: f.header.ignored.map((c) => c.name),
    new_columns: [...f.header.added, ...f.header.ignored.filter((c) => c.why !== 'pandas index')].map((c) => c.name),
    misfits: f.policy.misfits,
    grain: f.policy.grain,
    plan,
    retype: f.retype,
    initiated_by: initiatedBy,
  };
  const r = f.direct
    ? await tx.query<{ r: ApplyJson }>('SELECT bs_apply_loaded($1, $2::jsonb) AS r', [
        table,
        JSON.stringify({ ...options, operation, parked: f.direct.parked, lines: f.direct.lines, values: f.direct.values }),
      ])
    : await tx.query<{ r: ApplyJson }>('SELECT bs_apply($1, $2, $3, $4::regclass, $5::jsonb) AS r', [
        table,
        operation,
        gameId,
        f.stage,
        JSON.stringify({ ...options, ...drift, scope_deleted: operation === 'replace', normalized: !f.retype }),
      ]);
  const a = r.rows[0]!.r;
  // The games whose rows the file brought are the full ETL's now (provenance.sql): the live
  // ETL will not replace them unless forced.
  await tx.query('SELECT bs_record_provenance($1, $2, $3, $4::uuid, $5::regclass)', [table, gameId, 'full', requestId, f.direct ? null : (f.stage ?? null)]);
  return {
    table,
    operation,
    gameId,
    file: f.file.name,
    rowsInFile: Number(a.rows_in_file),
    outOfScope: Number(a.out_of_scope),
    inserted: Number(a.inserted),
    updated: Number(a.updated),
    deleted: Number(a.deleted) + deletedBefore,
    unchanged: Number(a.unchanged),
    rejected: Number(a.rejected),
    rejectedByReason: numbers(a.rejected_by_reason),
    warnings: [...f.warnings, ...(a.out_of_scope > 0 ? [`${a.out_of_scope} rows of ${f.file.name} belong to other games and were left alone`] : [])],
    historyId: f.historyId,
    durationMs: Date.now() - f.startedAt,
    drift: tableDrift({
      table,
      file: f.file.name,
      operation,
      policy: f.policy,
      header: f.header,
      addedTypes: f.addedTypes,
      key: f.catalog.key,
      keyRule: f.catalog.keyRule,
      naturalKey: f.catalog.naturalKey,
      sql: a.drift,
      refused: a.refused,
    }),
  };
}

function numbers(o: Record<string, number> | null | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(o ?? {}).map(([k, v]) => [k, Number(v)]));
}
