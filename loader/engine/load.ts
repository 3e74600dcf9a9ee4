/**
 * The load engine: one request, one transaction. For every table of the request, in
 * load order: stream its file through COPY into a staging table (ON COMMIT DROP), then
 * apply the operation in SQL (bs_apply). Replace deletes run first, in reverse order.
 * Whole tables go straight into the emptied table instead (DIRECT_PARK_BYTES below).
 * The data-quality rules run last, inside the transaction. History rows are written
 * before and after; a dry run rolls everything back.
 */
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { Cancelled, pgErrorFields, type Database, type Queryable } from '../db/database';
import { CsvRecords } from './csv-records';
import { LoadError, toLoadError, type ErrorContext } from './errors';
import { planHeader, type TableColumn } from './header';
import * as history from '../history';
import { planRequest, type PlannedTable } from './plan';
import type { LoadRequest, LoadResult, Progress, SourceFile, TableResult } from './request';
import { valueKind } from './values';
import { relationsOf } from '../warehouse';
import { errorsFirst, summarizeFindings, type Finding } from '../quality/findings';
import { qualityAfterChange } from '../quality/after-change';
import { concernsOf } from './outcome';

interface Staged {
  planned: PlannedTable;
  file: SourceFile;
  stage: string;
  rows: number;
  historyId: number;
  warnings: string[];
  headers: Map<string, string>;
  startedAt: number;
  /** What the reader saw of the key column on the way (only when it watched: text keys). */
  keys: { increasing: boolean; missing: number };
  /** Emptied at the start (bs_direct_begin): how many rows it had. */
  emptied?: number;
  /** Loaded straight into the emptied table, not through a staging table. */
  direct?: { parked: number; lines: DirectLines; values: Record<string, string[] | null> };
}

class DryRunDone extends Error {
  constructor(readonly tables: TableResult[]) {
    super('dry run');
  }
}

/**
 * A file loaded straight into its table that must be read again the staged way: the
 * table refused a row in COPY, or the reader lost track of the rows' lines. The request's
 * transaction is rolled back and run again, with that table staged.
 */
class Restage extends Error {
  constructor(readonly table: string) {
    super(`${table}: read again the staged way`);
  }
}

const PROGRESS_EVERY_MS = 500;

/**
 * A whole-table replace goes straight into the table: the table is emptied, the file
 * COPYed into it, and bs_apply_loaded takes out what may not stay (000008). Each row is
 * written once instead of twice (staging table, then table), and no staging table is
 * made. So does any whole-table load into an empty table (append, upsert, merge: all
 * insert). A file from DIRECT_PARK_BYTES (or of unknown size) has its table TRUNCATEd
 * and its indexes dropped for the COPY and built after (000007); TRUNCATE locks readers
 * out until the request commits, and the COPY writes the rows frozen (FREEZE). A smaller
 * file's table is emptied with DELETE (readers see the old rows meanwhile), and the
 * reader keeps each key's line. A table that refuses a row on the way in has the request
 * run again with its file staged (Restage). Measured: bench/README.md.
 */
export const DIRECT_PARK_BYTES = 512 * 1024;

export async function load(db: Database, req: LoadRequest): Promise<LoadResult> {
  const started = Date.now();
  const requestId = randomUUID();
  const dryRun = Boolean(req.dryRun);
  let plan;
  try {
    plan = planRequest(req);
  } catch (err) {
    return refused(db, req, requestId, started, toLoadError(err));
  }
  const row: history.RequestRow = {
    requestId, scope: plan.scope, operation: plan.operation, gameId: plan.gameId,
    source: req.source.describe(), dryRun, initiatedBy: req.initiatedBy, context: req.context,
  };

  // Every file must be there before anything starts.
  const files = new Map<string, SourceFile>();
  const missing: string[] = [];
  for (const t of plan.tables) {
    const f = await req.source.fileFor(t.decl.name);
    if (f) files.set(t.decl.name, f);
    else missing.push(t.decl.name);
  }
  if (missing.length) {
    return refused(db, req, requestId, started, new LoadError({
      message: `no file for ${missing.join(', ')} in ${req.source.describe()}`,
      hint: `the source needs one file per table, named <table>.csv`,
    }), row);
  }

  const { requestId: requestHistoryId, tables: tableHistory } = await history.startRequestAndTables(db, row,
    plan.tables.map((t) => ({ table: t.decl.name, operation: t.operation, file: files.get(t.decl.name)!.name })));

  let ctx: ErrorContext = {};
  const warnings = [...plan.warnings];
  // Tables that go the staged way after their COPY straight in was refused (Restage).
  const restaged = new Set<string>();
  let findings: Finding[] | undefined;
  let partial: string[] = [];
  try {
    const attempt = () => db.transaction(async (tx) => {
      // Memory for the hash joins of big files; no JIT: its compile time costs more than
      // it saves on these statements (measured: bench/README.md).
      // The request's own lock first: while it is held, the request is alive (history
      // shows a request whose lock is free and that never finished as abandoned).
      await tx.query("SELECT set_config('work_mem', '256MB', true), set_config('jit', 'off', true), pg_advisory_xact_lock(bs_request_lock($3::uuid)), bs_lock($1::text[], $2::integer)",
        [plan.tables.map((t) => t.decl.name), plan.gameId, requestId]);

      // 1. Stage every file (all bad input is found before an operation is applied; a
      // failure anywhere rolls everything back). The first file is opened at once, and
      // each next one while the one before COPYs.
      const open = (i: number) => {
        if (i >= plan.tables.length) return undefined;
        const o = openFile(req, plan.tables[i]!.decl.name, files.get(plan.tables[i]!.decl.name)!);
        o.catch(() => undefined); // (its error is thrown where it is awaited)
        return o;
      };
      let next = open(0);
      const staged: Staged[] = [];
      try {
        const columns = await tableColumns(tx, plan.tables.map((t) => t.decl.name));
        // Whole tables being replaced (or loaded while empty) are emptied first, and the
        // files go straight into them (see DIRECT_PARK_BYTES).
        const whole = plan.gameId === null ? plan.tables.map((t) => t.decl.name).filter((t) => !restaged.has(t)) : [];
        const emptied = whole.length
          ? (await tx.query<{ r: Record<string, Emptied> }>('SELECT bs_direct_begin($1::text[], $2::text[], $3::text[]) AS r', [
            whole, whole.filter((t) => (files.get(t)!.size ?? Infinity) >= DIRECT_PARK_BYTES),
            plan.tables.filter((t) => t.operation !== 'replace').map((t) => t.decl.name),
          ])).rows[0]!.r
          : {};
        for (const [i, planned] of plan.tables.entries()) {
          const file = files.get(planned.decl.name)!;
          ctx = { table: planned.decl.name, file: file.name };
          const opened = await next!;
          next = open(i + 1);
          staged.push(await stageFile(tx, req, planned, file, `bs_stage_${i + 1}`, tableHistory.get(planned.decl.name)!,
            columns.get(planned.decl.name) ?? [], (h) => (ctx.headers = h), emptied[planned.decl.name], opened));
        }
      } finally {
        await closeFile(next, req.signal);
      }

      // 2. Replace deletes the scope, children before parents.
      const deleted = new Map<string, number>();
      for (const s of [...staged].reverse()) {
        if (s.emptied !== undefined) deleted.set(s.planned.decl.name, s.emptied);
        if (s.planned.operation !== 'replace' || s.emptied !== undefined) continue;
        ctx = { table: s.planned.decl.name, file: s.file.name, headers: s.headers };
        const r = await tx.query<{ n: string }>('SELECT bs_delete_scope($1, $2) AS n', [s.planned.decl.name, plan.gameId]);
        deleted.set(s.planned.decl.name, Number(r.rows[0]!.n));
      }

      // 3. Apply, parents before children (relations are checked against loaded parents).
      const results: TableResult[] = [];
      for (const s of staged) {
        ctx = { table: s.planned.decl.name, file: s.file.name, headers: s.headers };
        report(req, { table: s.planned.decl.name, phase: 'applying', rows: s.rows, bytes: s.file.size ?? 0, elapsedMs: Date.now() - started });
        const options = {
          duplicates: req.policy?.duplicates ?? 'reject', orphans: req.policy?.orphans ?? 'reject',
          request_id: requestId, history_id: s.historyId, source: s.file.name,
          // What the reader already knows spares bs_apply a pass over the stage.
          file_rows: s.rows, ...(s.keys.increasing ? { keys_unique: true, keys_missing: s.keys.missing } : {}),
        };
        const r = s.direct
          ? await tx.query<{ r: ApplyJson }>('SELECT bs_apply_loaded($1, $2::jsonb) AS r', [
            s.planned.decl.name, JSON.stringify({ ...options, operation: s.planned.operation, parked: s.direct.parked, lines: s.direct.lines, values: s.direct.values }),
          ])
          : await tx.query<{ r: ApplyJson }>('SELECT bs_apply($1, $2, $3, $4::regclass, $5::jsonb) AS r', [
            s.planned.decl.name, s.planned.operation, plan.gameId, s.stage,
            JSON.stringify({ ...options, scope_deleted: s.planned.operation === 'replace', normalized: true }),
          ]);
        const a = r.rows[0]!.r;
        const result: TableResult = {
          table: s.planned.decl.name, operation: s.planned.operation, gameId: plan.gameId, file: s.file.name,
          rowsInFile: Number(a.rows_in_file), outOfScope: Number(a.out_of_scope),
          inserted: Number(a.inserted), updated: Number(a.updated),
          deleted: Number(a.deleted) + (deleted.get(s.planned.decl.name) ?? 0),
          unchanged: Number(a.unchanged), rejected: Number(a.rejected), rejectedByReason: numbers(a.rejected_by_reason),
          warnings: [...s.warnings, ...(a.out_of_scope > 0 ? [`${a.out_of_scope} rows of ${s.file.name} belong to other games and were left alone`] : [])],
          historyId: s.historyId, durationMs: Date.now() - s.startedAt,
        };
        results.push(result);
        report(req, { table: result.table, phase: 'done', rows: result.rowsInFile, bytes: s.file.size ?? 0, elapsedMs: Date.now() - started });
      }
      if (dryRun) throw new DryRunDone(results);
      const quality = await qualityAfterChange(tx, { tables: plan.tables.map((t) => t.decl.name), gameId: plan.gameId, inTransaction: true });
      findings = quality.findings;
      // What makes the committed load `partial`: rejects a person must not miss, rules
      // that could not run.
      const concerns = await concernsOf(tx, requestId, results, req.policy?.maxRejects);
      partial = [...concerns.map((c) => c.message), ...(quality.failed ? [quality.failed] : [])];
      const partialTables = new Set(concerns.map((c) => c.table));
      await history.finishTables(tx, results, (t) => (partialTables.has(t.table) ? 'partial' : 'succeeded'));
      await history.finishRequest(tx, requestHistoryId, results, Date.now() - started, [...partial, ...warnings],
        findings ? { findings: summarizeFindings(findings) } : {}, partial.length ? 'partial' : 'succeeded');
      return results;
    }, { signal: req.signal }).catch(async (err: unknown) => {
      if (!(err instanceof DryRunDone)) throw err;
      // A dry run changed nothing; its record says what it would have done.
      await history.finishTables(db, err.tables);
      await history.finishRequest(db, requestHistoryId, err.tables, Date.now() - started, warnings);
      return err.tables;
    });
    // Rare: a table refused a row while being loaded straight in. Each table is restaged
    // at most once, so this ends.
    let tables: TableResult[];
    for (;;) {
      try {
        tables = await attempt();
        break;
      } catch (err) {
        if (!(err instanceof Restage) || restaged.has(err.table)) throw err;
        restaged.add(err.table);
      }
    }
    for (const t of tables) warnings.push(...t.warnings);
    if (!dryRun) await purgeOldRejects(db);
    return {
      requestId, historyId: requestHistoryId, status: partial.length ? 'partial' : 'succeeded', dryRun, scope: plan.scope, operation: plan.operation,
      gameId: plan.gameId, durationMs: Date.now() - started, tables, warnings: [...partial, ...warnings], findings: findings && errorsFirst(findings),
    };
  } catch (err) {
    const cancelled = err instanceof Cancelled || Boolean(req.signal?.aborted);
    const e = cancelled
      ? new LoadError({ message: `cancelled${ctx.table ? ` while loading ${ctx.table}` : ''}: nothing was changed`, table: ctx.table, file: ctx.file })
      : toLoadError(err, ctx);
    await recordFailure(db, requestId, e, Date.now() - started, cancelled ? 'cancelled' : 'failed');
    return {
      requestId, historyId: requestHistoryId, status: cancelled ? 'cancelled' : 'failed', dryRun, scope: plan.scope, operation: plan.operation,
      gameId: plan.gameId, durationMs: Date.now() - started, tables: [], warnings, error: e.info,
    };
  }
}

/** Rejected rows older than the database's retention setting go (best effort: a load never fails on it). */
async function purgeOldRejects(db: Database): Promise<void> {
  try {
    await db.query('SELECT bs_purge_rejects()');
  } catch {
    /* the next load tries again */
  }
}

interface ApplyJson {
  rows_in_file: number; out_of_scope: number; inserted: number; updated: number; deleted: number;
  unchanged: number; rejected: number; rejected_by_reason: Record<string, number>; warnings: string[];
}

/** A file being read: its header comes first; the rows wait until released. */
interface Opened {
  records: CsvRecords;
  input: Readable;
  body: PassThrough;
  reading: Promise<void>;
  startedAt: number;
}

/** Opens a file and reads up to its header (the next file is opened while one COPYs). */
async function openFile(req: LoadRequest, table: string, file: SourceFile): Promise<Opened> {
  const startedAt = Date.now();
  const records = new CsvRecords(file.name);
  const input = await file.open();
  let lastReport = 0;
  const progress = new Transform({
    transform(chunk: Buffer, _e, done) {
      const now = Date.now();
      if (now - lastReport >= PROGRESS_EVERY_MS) {
        lastReport = now;
        report(req, { table, phase: 'reading', rows: records.rows, bytes: records.bytes, totalBytes: file.size, elapsedMs: now - startedAt });
      }
      done(null, chunk);
    },
  });
  // One pipeline from the file to COPY's input. The header comes out first; the rows
  // wait (backpressure) until the stage table that fits the header exists.
  const body = new PassThrough({ highWaterMark: 1 << 16 });
  const reading = pipeline(input, records, progress, body);
  reading.catch(() => undefined);
  return { records, input, body, reading, startedAt };
}

/** Stops reading a file that will not be loaded (the request failed first). */
async function closeFile(opened: Promise<Opened> | undefined, signal?: AbortSignal): Promise<void> {
  const o = await orCancelled(opened ?? Promise.resolve(undefined), signal).catch(() => undefined);
  if (!o) return;
  o.body.destroy();
  o.input.destroy();
  await orCancelled(o.reading, signal).catch(() => undefined);
}

/**
 * `p`, or a Cancelled as soon as `signal` aborts: a cancelled request does not wait for
 * a source that stalls (a slow network, a pipe nobody writes to).
 */
function orCancelled<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const on = () => reject(new Cancelled());
    if (signal.aborted) return on();
    signal.addEventListener('abort', on, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', on);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', on);
        reject(e);
      },
    );
  });
}

async function stageFile(
  tx: Queryable,
  req: LoadRequest,
  planned: PlannedTable,
  file: SourceFile,
  stage: string,
  historyId: number,
  columns: TableColumn[],
  onHeaders: (h: Map<string, string>) => void,
  emptied?: Emptied,
  opened?: Opened,
): Promise<Staged> {
  const table = planned.decl.name;
  const { records, input, body, reading, startedAt } = opened ?? await openFile(req, table, file);
  let headerFields: string[];
  try {
    headerFields = await orCancelled(records.header, req.signal);
  } catch (err) {
    if (err instanceof Cancelled) {
      input.destroy();
      throw err;
    }
    await reading.catch(() => undefined);
    throw toLoadError(err, { table, file: file.name });
  }
  let header: ReturnType<typeof planHeader>;
  let types: Map<string, string>;
  let direct: { parked: number; ordered: boolean } | undefined;
  try {
    header = planHeader(file.name, table, headerFields, columns, req.unknownColumns ?? 'refuse', records.headerLine);
    // The stage has the table's types: COPY reads the values (normalized on the way,
    // values.ts), so nothing is cast per cell later. Columns being added stay text
    // until their type is inferred from them.
    const added = new Set(header.added.map((c) => c.name));
    const typeOf = new Map(columns.map((k) => [k.column_name, k.column_type]));
    types = new Map(header.columns.map((c) => [c.name, added.has(c.name) ? 'text' : typeOf.get(c.name)!]));
    // Into the emptied table itself when it was emptied for that, else into a staging
    // table. (Columns being added need the staging table: their type comes from their
    // values.)
    if (emptied && !header.added.length) {
      direct = { parked: Number(emptied.parked), ordered: emptied.ordered };
    } else if (emptied && Number(emptied.parked) > 0) {
      await tx.query('SELECT bs_indexes_restore($1)', [table]);
    }
    if (!direct) await tx.query(`CREATE TEMP TABLE ${stage} (_line bigint, ${header.columns.map((c) => `${c.name} ${types.get(c.name)}`).join(', ')}) ON COMMIT DROP`);
  } catch (err) {
    body.destroy();
    input.destroy();
    await reading.catch(() => undefined);
    throw err;
  }
  const headers = new Map(header.columns.map((c) => [c.name, c.header]));
  onHeaders(headers);
  const names = header.columns.map((c) => c.name);
  const watched = relationsOf(table).map((r) => names.indexOf(r.column)).filter((i) => i >= 0);
  // FORCE_NULL: an empty field is NULL whether or not it is quoted, in every column.
  // FREEZE, into a table TRUNCATEd in this transaction: the rows are written frozen and
  // their pages marked all-visible, so nothing reading them later (the checks, the index
  // builds, the data-quality rules, the next load's count) looks up this transaction for
  // each row or sets hint bits on every page; VACUUM has nothing to freeze. (Not MVCC-safe
  // for older snapshots, as TRUNCATE itself is not; readers wait for the commit anyway.)
  const options = `FORMAT csv, ENCODING 'UTF8', ${direct?.ordered ? 'FREEZE, ' : ''}FORCE_NULL (${names.join(', ')})`;
  const copying = tx.copyFrom(`COPY ${direct ? table : stage} (${direct ? '' : '_line, '}${names.join(', ')}) FROM STDIN (${options})`, body);
  // (The COPY goes out first: the rows the reader holds are worked through when
  // released, and the database has the COPY to begin meanwhile.)
  records.release(header.columns.map((c) => {
    const kind = valueKind(types.get(c.name)!);
    return kind ? { kind, header: c.header } : undefined;
  }), header.columns.map((c) => c.header), {
    keyField: planned.decl.key.length === 1 ? names.indexOf(planned.decl.key[0]!) : -1,
    linePrefix: !direct,
    // (into a table emptied by DELETE, rows may land anywhere: each key's line is kept)
    keyLines: direct && !direct.ordered ? names.indexOf(planned.decl.key[0]!) : -1,
    // Straight into the table, the values of the relation columns are gathered on the
    // way: bs_apply_loaded checks each distinct value once, and reads the table again
    // only for a value that points nowhere.
    watch: direct ? watched : [],
    // pandas' nan/None/null in a text key or relation is no value (a row without its key,
    // a relation that points nowhere), not a key named "nan"
    missingAsNull: [...planned.decl.key.map((k) => names.indexOf(k)), ...watched],
  });
  // Cancelled: COPY's input ends in an error, so the client tells the server the COPY
  // failed (a server waiting for COPY data does not act on a cancel request).
  const onAbort = () => {
    body.destroy(new Cancelled());
    input.destroy();
  };
  req.signal?.addEventListener('abort', onAbort, { once: true });
  const [readResult, copyResult] = await Promise.allSettled([orCancelled(reading, req.signal), orCancelled(copying, req.signal)])
    .finally(() => req.signal?.removeEventListener('abort', onAbort));
  if (req.signal?.aborted) throw new Cancelled();
  const refused = copyResult.status === 'rejected' && !(readResult.status === 'rejected' && readResult.reason instanceof LoadError) && refusedRow(copyResult.reason);
  const byKey = direct && !direct.ordered ? records.linesByKey : null;
  const lines: DirectLines | null = direct?.ordered ? records.recordLines : byKey && { by_key: byKey };
  if (direct && (refused || (readResult.status === 'fulfilled' && copyResult.status === 'fulfilled' && lines === null))) {
    // The table refused a row (a repeated key while its index is there, an empty key, a
    // value too long), or the reader could not keep track of the rows' lines (too many
    // multi-line records, or keys): the request starts again with this file read the
    // staged way, which puts such rows in the rejects or names them. (Rare: cheaper than
    // a savepoint before every COPY, and a savepoint would rule out FREEZE.)
    throw new Restage(table);
  }
  // A bad file is the better explanation than the COPY it cut short.
  const errCtx = { table, file: file.name, headers, types, lineOf: (n: number) => records.fileLineOf(n) };
  if (readResult.status === 'rejected') throw toLoadError(readResult.reason, errCtx);
  if (copyResult.status === 'rejected') throw toLoadError(copyResult.reason, errCtx);
  if (records.rows === 0) {
    throw new LoadError({ table, file: file.name, message: 'the file has a header but no rows', hint: 'an empty export would empty the table; nothing was loaded' });
  }
  const warnings = [...records.warnings, ...header.warnings];
  if (header.added.length) {
    const r = await tx.query<{ r: { column: string; type: string }[] }>('SELECT bs_add_columns($1, $2::regclass, $3::text[]) AS r', [
      table, stage, header.added.map((c) => c.name),
    ]);
    warnings.push(`added column${header.added.length > 1 ? 's' : ''} to ${table}: ${r.rows[0]!.r.map((c) => `${c.column} ${c.type}`).join(', ')}`);
  }
  report(req, { table, phase: 'reading', rows: records.rows, bytes: records.bytes, totalBytes: file.size, elapsedMs: Date.now() - startedAt });
  return {
    planned, file, stage, rows: records.rows, historyId, warnings, headers, startedAt,
    keys: { increasing: records.keysIncreasing, missing: records.keysMissing },
    emptied: emptied && Number(emptied.deleted),
    direct: direct && {
      ...direct, lines: lines!,
      values: Object.fromEntries(watched.map((i) => [names[i]!, records.distinctValues(i)])),
    },
  };
}

/** A table bs_direct_begin emptied. */
interface Emptied {
  deleted: number | string;
  parked: number;
  /** Emptied by TRUNCATE: rows go in file order (else by DELETE: lines by key). */
  ordered: boolean;
}

/** How bs_apply_loaded tells a row's line (000008). */
type DirectLines = NonNullable<CsvRecords['recordLines']> | { by_key: Record<string, number> };

/** A database error about a row's values (data or integrity classes), not about the connection. */
function refusedRow(err: unknown): boolean {
  const code = pgErrorFields(err)?.code;
  return code !== undefined && (code.startsWith('22') || code.startsWith('23') || code === '0A000');
}

/** The columns of the request's tables as they are now (one query for all). */
async function tableColumns(tx: Queryable, tables: string[]): Promise<Map<string, TableColumn[]>> {
  const r = await tx.query<TableColumn & { table_name: string }>(
    'SELECT t.table_name, c.column_name, c.column_type, c.not_null FROM unnest($1::text[]) AS t (table_name), bs_table_columns(t.table_name) c ORDER BY t.table_name, c.col_position',
    [tables],
  );
  const out = new Map<string, TableColumn[]>();
  for (const { table_name, ...c } of r.rows) out.set(table_name, [...(out.get(table_name) ?? []), c]);
  return out;
}

function report(req: LoadRequest, p: Progress): void {
  try {
    req.onProgress?.(p);
  } catch {
    /* a progress display never breaks a load */
  }
}

function numbers(o: Record<string, number> | null | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(o ?? {}).map(([k, v]) => [k, Number(v)]));
}

async function recordFailure(db: Queryable, requestId: string, e: LoadError, durationMs: number, status: 'failed' | 'cancelled' = 'failed'): Promise<void> {
  try {
    await history.failRequest(db, requestId, { message: e.message, detail: e.info, table: e.info.table }, durationMs, status);
  } catch {
    /* the database is gone: the error itself still reaches the caller */
  }
}

/** A request refused before it started still leaves a history row. */
async function refused(db: Database, req: LoadRequest, requestId: string, started: number, e: LoadError, row?: history.RequestRow): Promise<LoadResult> {
  const r: history.RequestRow = row ?? {
    requestId, scope: describeScope(req), operation: String(req.operation ?? 'default').slice(0, 50),
    gameId: Number.isSafeInteger(req.gameId) && req.gameId! > 0 && req.gameId! <= 2147483647 ? req.gameId! : null,
    source: safeDescribe(req), dryRun: Boolean(req.dryRun), initiatedBy: req.initiatedBy, context: req.context,
  };
  let historyId = 0;
  try {
    historyId = await history.startRequest(db, r);
    await history.failRequest(db, requestId, { message: e.message, detail: e.info }, Date.now() - started);
  } catch {
    /* recorded where possible */
  }
  return {
    requestId, historyId, status: 'failed', dryRun: Boolean(req.dryRun), scope: r.scope, operation: r.operation,
    gameId: r.gameId, durationMs: Date.now() - started, tables: [], warnings: [], error: e.info,
  };
}

function describeScope(req: LoadRequest): string {
  const s = req.scope;
  return s.kind === 'tables' ? `table ${s.tables.join(', ')}`.slice(0, 200) : s.kind === 'category' ? `category ${String(s.category).slice(0, 50)}` : s.kind;
}

function safeDescribe(req: LoadRequest): string {
  try {
    return req.source.describe();
  } catch {
    return '(unknown source)';
  }
}
