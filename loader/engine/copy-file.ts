/**
 * What the staged way (staging.ts) and the direct way (direct.ts) share to load one
 * file: its header matched to the table's columns, the COPY of its rows as the reader
 * releases them (cancellable), and the errors a person can act on.
 */
import { Cancelled, type Queryable } from '../db/database';
import type { CsvRecords, ReleaseOptions } from './csv-records';
import type { TableCatalog } from './catalog';
import { Retype } from './drift';
import { BadValue, LoadError, toLoadError } from './errors';
import { planHeader, type HeaderPlan } from './header';
import { orCancelled, whileOpen, type OpenFile } from './open-file';
import type { PlannedTable } from './plan';
import { report } from './progress';
import type { LoadRequest, SourceFile } from './request';
import { valueKind } from './values';
import { relationsOf, type DriftPolicy } from '../warehouse';

/** One file of a request, on its way into the database. */
export interface FileLoad {
  tx: Queryable;
  req: LoadRequest;
  planned: PlannedTable;
  file: SourceFile;
  opened: OpenFile;
  /** The table as it is now: columns, key, natural key, aliases. */
  catalog: TableCatalog;
  /** The table's drift policy for this request. */
  policy: DriftPolicy;
  /** Read as text: a value did not fit its column on the first read (Retype). */
  retype: boolean;
  /** A plan (dry run): what the drift policy refuses is said, not thrown. */
  plan: boolean;
  requestId: string;
  historyId: number;
  /** Told the file's headers (column → header as written) once its table is ready, for messages. */
  onHeaders: (headers: Map<string, string>) => void;
}

/** The file's columns, matched to its table. */
export interface FileColumns {
  plan: HeaderPlan;
  /** Column names in file order. */
  names: string[];
  /** column name → the type COPY fills it with (the table's; text for a column being added or ignored, and for every column of a file read again as text) */
  types: Map<string, string>;
  /** column name → header as written */
  headers: Map<string, string>;
  /** The fields of the table's relation columns. */
  relations: number[];
}

/** A file read into its staging table, or straight into its table, ready to apply. */
export interface CopiedFile {
  planned: PlannedTable;
  file: SourceFile;
  rows: number;
  historyId: number;
  warnings: string[];
  headers: Map<string, string>;
  startedAt: number;
  /** What the reader saw of the key column on the way (only when it watched: text keys). */
  keys: { increasing: boolean; missing: number };
  /** Its table was emptied at the start (bs_direct_begin): how many rows it had. */
  emptied?: number;
  /** Read into this staging table. */
  stage?: string;
  /** Loaded straight into the emptied table (direct.ts). */
  direct?: { parked: number; lines: DirectLines; values: Record<string, string[] | null> };
  /** How its header met the table, under which policy (for bs_apply and the drift account). */
  header: HeaderPlan;
  policy: DriftPolicy;
  catalog: TableCatalog;
  retype: boolean;
  /** Types of the columns this load added to the table. */
  addedTypes: Record<string, string>;
}

/** How bs_apply_loaded tells a row's line (sql/functions/direct.sql): records in file order, or each key's line. */
export type DirectLines = NonNullable<CsvRecords['recordLines']> | { by_key: Record<string, number> };

/** Reads the file's header and matches it to the table's columns (a bad header is refused here). */
export async function readColumns(a: FileLoad): Promise<FileColumns> {
  const { records, input, reading } = a.opened;
  const table = a.planned.decl.name;
  let fields: string[];
  try {
    fields = await orCancelled(records.header, a.req.signal);
  } catch (err) {
    if (err instanceof Cancelled) {
      input.destroy();
      throw err;
    }
    await reading.catch(() => undefined);
    throw toLoadError(err, { table, file: a.file.name });
  }
  return whileOpen(a.opened, () => {
    const plan = planHeader(a.file.name, a.catalog, fields, { policy: a.policy, operation: a.planned.operation, plan: a.plan, line: records.headerLine });
    // The file's columns get the table's types: COPY reads the values (normalized on the
    // way, values.ts), so nothing is cast per cell later. Columns being added or ignored
    // stay text (an added one until its type is inferred from it); so does every column of
    // a file read again because a value no longer fit (bs_apply decides then).
    const text = new Set([...plan.added, ...plan.ignored].map((c) => c.name));
    const typeOf = new Map(a.catalog.columns.map((k) => [k.column_name, k.column_type]));
    const names = plan.columns.map((c) => c.name);
    return {
      plan,
      names,
      types: new Map(plan.columns.map((c) => [c.name, a.retype || text.has(c.name) ? 'text' : typeOf.get(c.name)!])),
      headers: new Map(plan.columns.map((c) => [c.name, c.header])),
      relations: relationsOf(table)
        .map((r) => names.indexOf(r.column))
        .filter((i) => i >= 0),
    };
  });
}

/** How the rows go: what the reader does on the way besides normalizing, and how COPY takes them. */
export interface CopyWay {
  /** `table` or `stage`, the COPY's target. */
  into: string;
  /** Each row goes with its line first, into the stage's `_line`. */
  linePrefix: boolean;
  /** The field whose values' lines the reader keeps (-1: none). */
  keyLines: number;
  /** The fields whose distinct values the reader gathers. */
  watch: number[];
  /** COPY ... FREEZE (into a table TRUNCATEd in this transaction). */
  freeze: boolean;
}

/** How the reading and the COPY ended: both are awaited, so the better error can be told. */
export interface CopyOutcome {
  read: PromiseSettledResult<void>;
  copy: PromiseSettledResult<number>;
}

/** COPYs the file's rows, released from the reader now that their table is ready. */
export async function copyRows(a: FileLoad, cols: FileColumns, way: CopyWay): Promise<CopyOutcome> {
  const { records, input, body, reading } = a.opened;
  const { names, types, plan } = cols;
  // (a key the file lacks is derived in SQL: the reader watches none)
  const key = a.planned.decl.key.filter((k) => names.includes(k));
  const signal = a.req.signal;
  // FORCE_NULL: an empty field is NULL whether or not it is quoted, in every column.
  const options = `FORMAT csv, ENCODING 'UTF8', ${way.freeze ? 'FREEZE, ' : ''}FORCE_NULL (${names.join(', ')})`;
  const copying = a.tx.copyFrom(`COPY ${way.into} (${way.linePrefix ? '_line, ' : ''}${names.join(', ')}) FROM STDIN (${options})`, body);
  // (The COPY goes out first: the rows the reader holds are worked through when
  // released, and the database has the COPY to begin meanwhile.)
  const release: ReleaseOptions = {
    keyField: key.length === 1 ? names.indexOf(key[0]!) : -1,
    linePrefix: way.linePrefix,
    keyLines: way.keyLines,
    watch: way.watch,
    // pandas' nan/None/null in a text key or relation is no value (a row without its key,
    // a relation that points nowhere), not a key named "nan"
    missingAsNull: [...key.map((k) => names.indexOf(k)), ...cols.relations],
  };
  records.release(
    plan.columns.map((c) => {
      const kind = valueKind(types.get(c.name)!);
      return kind ? { kind, header: c.header } : undefined;
    }),
    plan.columns.map((c) => c.header),
    release,
  );
  // Cancelled: COPY's input ends in an error, so the client tells the server the COPY
  // failed (a server waiting for COPY data does not act on a cancel request).
  const onAbort = () => {
    body.destroy(new Cancelled());
    input.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const [read, copy] = await Promise.allSettled([orCancelled(reading, signal), orCancelled(copying, signal)]).finally(() =>
    signal?.removeEventListener('abort', onAbort),
  );
  if (signal?.aborted) throw new Cancelled();
  return { read, copy };
}

/** A read or COPY that failed, as a person can act on it (a bad file explains more than the COPY it cut short); a file with no rows. */
export function throwIfFailed(a: FileLoad, cols: FileColumns, { read, copy }: CopyOutcome): void {
  const table = a.planned.decl.name;
  const records = a.opened.records;
  const ctx = { table, file: a.file.name, headers: cols.headers, types: cols.types, lineOf: (n: number) => records.fileLineOf(n) };
  const failed = read.status === 'rejected' ? toLoadError(read.reason, ctx) : copy.status === 'rejected' ? toLoadError(copy.reason, ctx) : null;
  if (failed instanceof BadValue && !a.retype) {
    // A value that no longer fits its column: the policy widens the column or rejects the
    // row (a plan says what it would do): read again as text, bs_apply decides.
    if (a.policy.misfits !== 'refuse' || a.plan) throw new Retype(table);
    throw new LoadError({
      ...failed.info,
      hint: `fix the value in the file; or, if the export now writes such values, load with --evolve to widen the column (a recorded schema change), or --misfits reject to put such rows in the rejects (${table}'s drift policy refuses them); nothing was loaded`,
    });
  }
  if (failed) throw failed;
  if (records.rows === 0) {
    throw new LoadError({
      table,
      file: a.file.name,
      message: 'the file has a header but no rows',
      hint: 'an empty export would empty the table; nothing was loaded',
    });
  }
}

/** The file, read: its last progress report, and what applying it needs. */
export function copiedFile(
  a: FileLoad,
  cols: FileColumns,
  warnings: string[],
  way: Pick<CopiedFile, 'emptied' | 'stage' | 'direct'>,
  addedTypes: Record<string, string> = {},
): CopiedFile {
  const { records, startedAt } = a.opened;
  const table = a.planned.decl.name;
  report(a.req, { table, phase: 'reading', rows: records.rows, bytes: records.bytes, totalBytes: a.file.size, elapsedMs: Date.now() - startedAt });
  return {
    planned: a.planned,
    file: a.file,
    rows: records.rows,
    historyId: a.historyId,
    warnings,
    headers: cols.headers,
    startedAt,
    keys: { increasing: records.keysIncreasing, missing: records.keysMissing },
    header: cols.plan,
    policy: a.policy,
    catalog: a.catalog,
    retype: a.retype,
    addedTypes,
    ...way,
  };
}
