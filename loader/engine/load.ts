/**
 * The load engine: one request, one transaction, one straight line.
 *   plan the tables (plan.ts) → read every file into a staging table (staging.ts) or
 *   straight into its emptied table (direct.ts) → delete a replace's scope, children
 *   first → apply each file's operation in SQL, parents first (apply.ts) → the
 *   data-quality rules (../quality/after-change.ts) → history (../history.ts) → commit.
 * All bad input is found before an operation is applied; a failure anywhere rolls
 * everything back, and a dry run rolls back what it did. History rows are written
 * before and after.
 */
import { randomUUID } from 'node:crypto';
import { Cancelled, type Database, type Queryable } from '../db/database';
import * as history from '../history';
import { qualityAfterChange } from '../quality/after-change';
import { errorsFirst, summarizeFindings, type Finding } from '../quality/findings';
import { applyFile, deleteScope } from './apply';
import { readColumns, type CopiedFile, type FileLoad } from './copy-file';
import { emptyWholeTables, loadDirect, Restage, type Emptied } from './direct';
import { LoadError, toLoadError, type ErrorContext } from './errors';
import { readCatalog } from './catalog';
import { isDriftRefusal, policyFor, repeatsNaturalKey, Retype } from './drift';
import { closeFile, openFile } from './open-file';
import { refusalOf } from './guards';
import { concernsOf } from './outcome';
import { planRequest, type Plan } from './plan';
import { report } from './progress';
import type { LoadRequest, LoadResult, SourceFile, TableResult } from './request';
import { stageFile } from './staging';

/** One request on its way: what every step reads, and what the steps before found. */
interface Run {
  db: Database;
  req: LoadRequest;
  plan: Plan;
  files: Map<string, SourceFile>;
  requestId: string;
  historyId: number;
  /** table → its history row */
  tableHistory: Map<string, number>;
  started: number;
  dryRun: boolean;
  /** What an error of the moment is about: the file being read, the table being applied. */
  ctx: ErrorContext;
  /** Tables that go the staged way after their COPY straight in was refused (Restage). */
  restaged: Set<string>;
  /** Tables whose files are read again as text: a value no longer fit its column (Retype). */
  retyped: Set<string>;
  findings?: Finding[];
  /** Why the committed load is `partial`. */
  partial: string[];
}

class DryRunDone extends Error {
  constructor(readonly tables: TableResult[]) {
    super('dry run');
  }
}

export async function load(db: Database, req: LoadRequest): Promise<LoadResult> {
  const started = Date.now();
  const requestId = randomUUID();
  const dryRun = Boolean(req.dryRun);
  let plan: Plan;
  try {
    plan = planRequest(req);
  } catch (err) {
    return refused(db, req, requestId, started, toLoadError(err));
  }
  const row: history.RequestRow = {
    requestId,
    scope: plan.scope,
    operation: plan.operation,
    gameId: plan.gameId,
    source: req.source.describe(),
    dryRun,
    initiatedBy: req.initiatedBy,
    context: req.context,
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
    return refused(
      db,
      req,
      requestId,
      started,
      new LoadError({
        message: `no file for ${missing.join(', ')} in ${req.source.describe()}`,
        hint: `the source needs one file per table, named <table>.csv`,
      }),
      row,
    );
  }

  // (The plan that comes with a refused load is not a request of its own: no history rows.)
  const { requestId: historyId, tables: tableHistory } = quietPlan(req)
    ? { requestId: 0, tables: new Map(plan.tables.map((t) => [t.decl.name, 0])) }
    : await history.startRequestAndTables(
        db,
        row,
        plan.tables.map((t) => ({ table: t.decl.name, operation: t.operation, file: files.get(t.decl.name)!.name })),
      );
  const run: Run = { db, req, plan, files, requestId, historyId, tableHistory, started, dryRun, ctx: {}, restaged: new Set(), retyped: new Set(), partial: [] };
  const warnings = [...plan.warnings];
  const result = { requestId, historyId, dryRun, scope: plan.scope, operation: plan.operation, gameId: plan.gameId };
  try {
    const tables = await runRestaging(run);
    for (const t of tables) warnings.push(...t.warnings);
    const refusals = tables.filter((t) => t.drift?.refused);
    if (dryRun && refusals.length) {
      // A plan that the drift policy refuses: what it would do for every file, and why it would not load.
      const e = new LoadError({
        message: `the load would be refused: ${refusals.map((t) => `${t.table}: ${t.drift!.refused}`).join('; ')}`,
        hint: 'load with --evolve to apply these changes (each recorded as a schema change), or change the files',
      });
      if (!quietPlan(req)) await recordFailure(db, requestId, e, Date.now() - started);
      return {
        ...result,
        status: 'failed',
        durationMs: Date.now() - started,
        tables,
        warnings,
        error: e.info,
        drift: tables.map((t) => t.drift!).filter(Boolean),
      };
    }
    if (!dryRun) await purgeOldRejects(db);
    return {
      ...result,
      status: run.partial.length ? 'partial' : 'succeeded',
      durationMs: Date.now() - started,
      tables,
      warnings: [...run.partial, ...warnings],
      findings: run.findings && errorsFirst(run.findings),
    };
  } catch (err) {
    const { ctx } = run;
    const cancelled = err instanceof Cancelled || Boolean(req.signal?.aborted);
    const e = cancelled
      ? new LoadError({ message: `cancelled${ctx.table ? ` while loading ${ctx.table}` : ''}: nothing was changed`, table: ctx.table, file: ctx.file })
      : toLoadError(err, ctx);
    if (!quietPlan(req)) await recordFailure(db, requestId, e, Date.now() - started, cancelled ? 'cancelled' : 'failed');
    const failed: LoadResult = { ...result, status: cancelled ? 'cancelled' : 'failed', durationMs: Date.now() - started, tables: [], warnings, error: e.info };
    if (!cancelled && !dryRun && isDriftRefusal(e)) {
      // Refused by a drift policy: the plan of every file comes with the refusal (what
      // differs, what --evolve would do), read by a dry run of the same request.
      const planned = await load(db, { ...req, dryRun: true, context: { ...req.context, [PLAN_OF]: requestId } }).catch(() => undefined);
      const drift = planned?.drift ?? planned?.tables.map((t) => t.drift!).filter(Boolean);
      if (drift?.length) failed.drift = drift;
    }
    return failed;
  }
}

/**
 * The request's transaction, run again when a table refused a row while being loaded
 * straight in (rare): each table is restaged at most once, so this ends.
 */
async function runRestaging(run: Run): Promise<TableResult[]> {
  for (;;) {
    try {
      return await runOnce(run);
    } catch (err) {
      if (err instanceof Retype && !run.retyped.has(err.table)) {
        run.retyped.add(err.table);
        run.restaged.add(err.table);
        continue;
      }
      if (!(err instanceof Restage) || run.restaged.has(err.table)) throw err;
      run.restaged.add(err.table);
    }
  }
}

async function runOnce(run: Run): Promise<TableResult[]> {
  return run.db
    .transaction(
      async (tx) => {
        await lockRequest(tx, run);
        const copied = await readFiles(tx, run);
        const deleted = await deleteScopes(tx, run, copied);
        const results = await applyFiles(tx, run, copied, deleted);
        const refusal = refusalOf(results, run.plan.gameId, run.req.policy?.maxShrink);
        if (refusal) throw refusal;
        if (run.dryRun) throw new DryRunDone(results);
        await finish(tx, run, results);
        return results;
      },
      { signal: run.req.signal },
    )
    .catch(async (err: unknown) => {
      if (!(err instanceof DryRunDone)) throw err;
      // A dry run changed nothing; its record says what it would have done (or, refused
      // by a drift policy, why it would not: load() records that).
      if (err.tables.some((t) => t.drift?.refused) || quietPlan(run.req)) return err.tables;
      await history.finishTables(run.db, err.tables);
      await history.finishRequest(run.db, run.historyId, err.tables, Date.now() - run.started, run.plan.warnings);
      return err.tables;
    });
}

async function lockRequest(tx: Queryable, run: Run): Promise<void> {
  // Memory for the hash joins of big files; no JIT: its compile time costs more than
  // it saves on these statements (measured: bench/README.md).
  // The request's own lock first: while it is held, the request is alive (history
  // shows a request whose lock is free and that never finished as abandoned).
  await tx.query(
    "SELECT set_config('work_mem', '256MB', true), set_config('jit', 'off', true), pg_advisory_xact_lock(bs_request_lock($3::uuid)), bs_lock($1::text[], $2::integer)",
    [run.plan.tables.map((t) => t.decl.name), run.plan.gameId, run.requestId],
  );
}

/**
 * 1. Every file read into the database, in load order. The first file is opened at once,
 * and each next one while the one before COPYs. Whole tables are emptied first and
 * their files go straight into them (direct.ts).
 */
async function readFiles(tx: Queryable, run: Run): Promise<CopiedFile[]> {
  const { req, plan, files } = run;
  const open = (i: number) => {
    if (i >= plan.tables.length) return undefined;
    const o = openFile(req, plan.tables[i]!.decl.name, files.get(plan.tables[i]!.decl.name)!);
    o.catch(() => undefined); // (its error is thrown where it is awaited)
    return o;
  };
  let next = open(0);
  const copied: CopiedFile[] = [];
  try {
    const catalog = await readCatalog(
      tx,
      plan.tables.map((t) => t.decl.name),
    );
    const emptied = await emptyWholeTables(tx, plan, files, run.restaged);
    for (const [i, planned] of plan.tables.entries()) {
      const table = planned.decl.name;
      const file = files.get(table)!;
      run.ctx = { table, file: file.name };
      const opened = await next!;
      next = open(i + 1);
      copied.push(
        await loadFile(
          {
            tx,
            req,
            planned,
            file,
            opened,
            catalog: catalog.get(table)!,
            policy: policyFor(req, table),
            retype: run.retyped.has(table),
            plan: run.dryRun,
            requestId: run.requestId,
            historyId: run.tableHistory.get(table)!,
            onHeaders: (h) => (run.ctx.headers = h),
          },
          `bs_stage_${i + 1}`,
          emptied[table],
        ),
      );
    }
  } finally {
    await closeFile(next, req.signal);
  }
  return copied;
}

/**
 * A file straight into its table when the table was emptied for it and the file has its
 * columns as they are (none to add or leave out, its key there, its values typed), else staged.
 */
async function loadFile(a: FileLoad, stage: string, emptied: Emptied | undefined): Promise<CopiedFile> {
  const cols = await readColumns(a);
  if (emptied && !cols.plan.added.length && !cols.plan.ignored.length && !cols.plan.keyDerived && !a.retype) return loadDirect({ ...a, cols, emptied });
  return stageFile({ ...a, cols, stage, emptied: emptied && Number(emptied.deleted), restoreIndexes: emptied !== undefined && Number(emptied.parked) > 0 });
}

/** 2. A replace deletes its scope, children before parents: table → rows deleted (or emptied at the start). */
async function deleteScopes(tx: Queryable, run: Run, copied: CopiedFile[]): Promise<Map<string, number>> {
  const deleted = new Map<string, number>();
  for (const f of [...copied].reverse()) {
    const table = f.planned.decl.name;
    if (f.emptied !== undefined) deleted.set(table, f.emptied);
    if (f.planned.operation !== 'replace' || f.emptied !== undefined) continue;
    run.ctx = { table, file: f.file.name, headers: f.headers };
    deleted.set(table, await deleteScope(tx, table, run.plan.gameId));
  }
  return deleted;
}

/** 3. Each file's operation, parents before children (relations are checked against loaded parents). */
async function applyFiles(tx: Queryable, run: Run, copied: CopiedFile[], deleted: Map<string, number>): Promise<TableResult[]> {
  const results: TableResult[] = [];
  for (const f of copied) {
    const table = f.planned.decl.name;
    run.ctx = { table, file: f.file.name, headers: f.headers };
    report(run.req, { table, phase: 'applying', rows: f.rows, bytes: f.file.size ?? 0, elapsedMs: Date.now() - run.started });
    const result = await applyFile({
      tx,
      f,
      requestId: run.requestId,
      gameId: run.plan.gameId,
      policy: run.req.policy,
      deletedBefore: deleted.get(table) ?? 0,
      plan: run.dryRun,
      initiatedBy: run.req.initiatedBy,
    }).catch((err: unknown) => {
      // Loaded straight in, its natural-key index could not be built again: the file
      // repeats a natural key. Read it again the staged way, which finds those rows.
      if (f.direct && repeatsNaturalKey(err)) throw new Restage(table);
      throw err;
    });
    results.push(result);
    report(run.req, { table, phase: 'done', rows: result.rowsInFile, bytes: f.file.size ?? 0, elapsedMs: Date.now() - run.started });
  }
  return results;
}

/**
 * 4. The data-quality rules over what the transaction wrote, what makes the load
 * `partial` (rejects a person must not miss, rules that could not run), and the history
 * rows: all committed with the data.
 */
async function finish(tx: Queryable, run: Run, results: TableResult[]): Promise<void> {
  const quality = await qualityAfterChange(tx, { tables: run.plan.tables.map((t) => t.decl.name), gameId: run.plan.gameId, inTransaction: true });
  run.findings = quality.findings;
  const concerns = await concernsOf(tx, run.requestId, results, run.req.policy?.maxRejects);
  run.partial = [...concerns.map((c) => c.message), ...(quality.failed ? [quality.failed] : [])];
  const partialTables = new Set(concerns.map((c) => c.table));
  await history.finishTables(tx, results, (t) => (partialTables.has(t.table) ? 'partial' : 'succeeded'));
  await history.finishRequest(
    tx,
    run.historyId,
    results,
    Date.now() - run.started,
    [...run.partial, ...run.plan.warnings],
    run.findings ? { findings: summarizeFindings(run.findings) } : {},
    run.partial.length ? 'partial' : 'succeeded',
  );
  // The new tables of whole-table replaces take the old ones' place: the last statement
  // before the commit, so readers wait only for this and the commit (sql/functions/shadow.sql).
  await tx.query('SELECT bs_shadow_swap()');
}

/** Rejected rows older than the database's retention setting go (best effort: a load never fails on it). */
async function purgeOldRejects(db: Database): Promise<void> {
  try {
    await db.query('SELECT bs_purge_rejects()');
  } catch {
    /* the next load tries again */
  }
}

/** The context key that marks the dry run planning a refused load (which has the history row). */
const PLAN_OF = 'plan_of_refused_request';
const quietPlan = (req: LoadRequest) => Boolean(req.dryRun && req.context?.[PLAN_OF]);

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
    requestId,
    scope: describeScope(req),
    operation: String(req.operation ?? 'default').slice(0, 50),
    gameId: Number.isSafeInteger(req.gameId) && req.gameId! > 0 && req.gameId! <= 2147483647 ? req.gameId! : null,
    source: safeDescribe(req),
    dryRun: Boolean(req.dryRun),
    initiatedBy: req.initiatedBy,
    context: req.context,
  };
  let historyId = 0;
  try {
    historyId = await history.startRequest(db, r);
    await history.failRequest(db, requestId, { message: e.message, detail: e.info }, Date.now() - started);
  } catch {
    /* recorded where possible */
  }
  return {
    requestId,
    historyId,
    status: 'failed',
    dryRun: Boolean(req.dryRun),
    scope: r.scope,
    operation: r.operation,
    gameId: r.gameId,
    durationMs: Date.now() - started,
    tables: [],
    warnings: [],
    error: e.info,
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
