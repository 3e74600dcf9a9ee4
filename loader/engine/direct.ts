/**
 * The direct way: a file COPYed straight into its emptied table, and bs_apply_loaded
 * takes out what may not stay (sql/functions/direct.sql). Each row is written once instead of twice
 * (staging table, then table), and no staging table is made.
 *
 * A whole-table replace goes this way, and so does any whole-table load into an empty
 * table (append, upsert, merge: all insert). A file from DIRECT_PARK_BYTES (or of unknown
 * size) has its table TRUNCATEd and its indexes dropped for the COPY and built after
 * (sql/functions/indexes.sql); TRUNCATE locks readers out until the request commits, and the COPY writes the
 * rows frozen (FREEZE). A smaller file's table is emptied with DELETE (readers see the old
 * rows meanwhile), and the reader keeps each key's line. A table that refuses a row on the
 * way in has the request run again with its file staged (Restage). Measured:
 * bench/README.md.
 */
import { pgErrorFields, type Queryable } from '../db/database';
import { copiedFile, copyRows, throwIfFailed, type CopiedFile, type DirectLines, type FileColumns, type FileLoad } from './copy-file';
import { LoadError } from './errors';
import type { Plan } from './plan';
import type { SourceFile } from './request';

export const DIRECT_PARK_BYTES = 512 * 1024;

/** A table bs_direct_begin emptied. */
export interface Emptied {
  deleted: number | string;
  parked: number;
  /** Emptied by TRUNCATE: rows go in file order (else by DELETE: lines by key). */
  ordered: boolean;
}

/**
 * A file loaded straight into its table that must be read again the staged way: the
 * table refused a row in COPY, or the reader lost track of the rows' lines. The request's
 * transaction is rolled back and run again, with that table staged.
 */
export class Restage extends Error {
  constructor(readonly table: string) {
    super(`${table}: read again the staged way`);
  }
}

/**
 * Empties the whole tables of a request with no game (those not restaged), before their
 * files are read: TRUNCATE and indexes parked for big files, DELETE for small ones.
 */
export async function emptyWholeTables(tx: Queryable, plan: Plan, files: Map<string, SourceFile>, restaged: Set<string>): Promise<Record<string, Emptied>> {
  const whole = plan.gameId === null ? plan.tables.map((t) => t.decl.name).filter((t) => !restaged.has(t)) : [];
  if (!whole.length) return {};
  const r = await tx.query<{ r: Record<string, Emptied> }>('SELECT bs_direct_begin($1::text[], $2::text[], $3::text[]) AS r', [
    whole,
    whole.filter((t) => (files.get(t)!.size ?? Infinity) >= DIRECT_PARK_BYTES),
    plan.tables.filter((t) => t.operation !== 'replace').map((t) => t.decl.name),
  ]);
  return r.rows[0]!.r;
}

export interface LoadDirect extends FileLoad {
  cols: FileColumns;
  emptied: Emptied;
}

export async function loadDirect(a: LoadDirect): Promise<CopiedFile> {
  const { cols, emptied } = a;
  const table = a.planned.decl.name;
  const records = a.opened.records;
  const ordered = emptied.ordered;
  a.onHeaders(cols.headers);
  const copied = await copyRows(a, cols, {
    into: table,
    linePrefix: false,
    // (into a table emptied by DELETE, rows may land anywhere: each key's line is kept)
    keyLines: ordered ? -1 : cols.names.indexOf(a.planned.decl.key[0]!),
    // The values of the relation columns are gathered on the way: bs_apply_loaded checks
    // each distinct value once, and reads the table again only for a value that points
    // nowhere.
    watch: cols.relations,
    // FREEZE, into a table TRUNCATEd in this transaction: the rows are written frozen and
    // their pages marked all-visible, so nothing reading them later (the checks, the index
    // builds, the data-quality rules, the next load's count) looks up this transaction for
    // each row or sets hint bits on every page; VACUUM has nothing to freeze. (Not MVCC-safe
    // for older snapshots, as TRUNCATE itself is not; readers wait for the commit anyway.)
    freeze: ordered,
  });
  const { read, copy } = copied;
  const refused = copy.status === 'rejected' && !(read.status === 'rejected' && read.reason instanceof LoadError) && refusedRow(copy.reason);
  const byKey = ordered ? null : records.linesByKey;
  const lines: DirectLines | null = ordered ? records.recordLines : byKey && { by_key: byKey };
  if (refused || (read.status === 'fulfilled' && copy.status === 'fulfilled' && lines === null)) {
    // The table refused a row (a repeated key while its index is there, an empty key, a
    // value too long), or the reader could not keep track of the rows' lines (too many
    // multi-line records, or keys): the request starts again with this file read the
    // staged way, which puts such rows in the rejects or names them. (Rare: cheaper than
    // a savepoint before every COPY, and a savepoint would rule out FREEZE.)
    throw new Restage(table);
  }
  throwIfFailed(a, cols, copied);
  return copiedFile(a, cols, [...records.warnings, ...cols.plan.warnings], {
    emptied: Number(emptied.deleted),
    direct: {
      parked: Number(emptied.parked),
      lines: lines!,
      values: Object.fromEntries(cols.relations.map((i) => [cols.names[i]!, records.distinctValues(i)])),
    },
  });
}

/** A database error about a row's values (data or integrity classes), not about the connection. */
function refusedRow(err: unknown): boolean {
  const code = pgErrorFields(err)?.code;
  return code !== undefined && (code.startsWith('22') || code.startsWith('23') || code === '0A000');
}
