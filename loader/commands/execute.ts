/**
 * Runs a parsed Command against the core and returns what happened as data. The CLI,
 * the Slack bot and the worker all call this; they differ only in how they render
 * the outcome (render.ts) and in where a load's files come from.
 */
import type { Database } from '../db/database';
import { migrationStatus } from '../db/migrate';
import { DEFAULT_MAX_SHRINK, deleteGame, load, type LoadRequest, type LoadResult, type Scope, type Source } from '../engine';
import { TABLE_NAMES } from '../warehouse';
import * as history_ from '../history';
import { describeCommand, helpText, type Command } from './grammar';
import { RejectsError, rejectsOf, type RejectsReport } from './rejects';
import { renderDriftPlan, renderSchemaChanges, renderSchemaDiff } from './render-drift';
import { formatError } from '../engine';
import { schemaChanges, schemaDiffOf } from './schema';

export interface HistoryRow {
  id: number;
  started_at: string;
  status: string;
  scope: string | null;
  operation: string;
  game_id: number | null;
  rows_inserted: number | null;
  rows_updated: number | null;
  rows_deleted: number | null;
  rows_rejected: number | null;
  duration_ms: number | null;
  initiated_by: string;
  error_message: string | null;
  table_name: string | null;
}

export interface Health {
  database: { reachable: boolean; label: string; error?: string };
  schemaVersion: number;
  latestMigration: string | null;
  queue: { pending: number; running: number; failed: number } | null;
  lastLoad: HistoryRow | null;
}

export type Outcome =
  | { kind: 'load'; ok: boolean; result: LoadResult }
  | { kind: 'history'; ok: true; rows: HistoryRow[] }
  | { kind: 'counts'; ok: true; rows: { table: string; rows: number }[] }
  | { kind: 'health'; ok: boolean; health: Health }
  | { kind: 'help'; ok: true; text: string }
  | { kind: 'rejects'; ok: true; report: RejectsReport }
  | { kind: 'text'; ok: boolean; text: string; data?: unknown };

/** Work that lives in other modules (queue, ETL, data quality), plugged in by the caller. */
export interface Extensions {
  etlQueue?(gameId: number, priority: number | undefined, by: string, force?: boolean): Promise<Outcome>;
  etlRun?(queueId: number | undefined, by: string, force?: boolean): Promise<Outcome>;
  etlStatus?(): Promise<Outcome>;
  etlLog?(jobId: number, tail: number | undefined): Promise<Outcome>;
  validate?(gameId: number | undefined, by: string): Promise<Outcome>;
}

export interface CommandContext {
  db: Database;
  initiatedBy: string;
  /** Where a load's files come from (a folder, the drop bucket). */
  source?: (want?: { gameId?: number }) => Promise<Source>;
  /** Passed through to every load (policy, new columns, progress, cancellation). */
  loadOptions?: Pick<LoadRequest, 'policy' | 'unknownColumns' | 'onProgress' | 'context' | 'signal'>;
  extensions?: Extensions;
}

export async function executeCommand(ctx: CommandContext, command: Command): Promise<Outcome> {
  switch (command.kind) {
    case 'load':
    case 'full-refresh': {
      if (!ctx.source) {
        return { kind: 'text', ok: false, text: `nowhere to load from: give a folder (--from <dir>) or configure the drop bucket` };
      }
      const scope: Scope =
        command.kind === 'full-refresh'
          ? { kind: 'full-refresh' }
          : command.target.type === 'table'
            ? { kind: 'tables', tables: [command.target.table] }
            : command.target.type === 'category'
              ? { kind: 'category', category: command.target.category }
              : command.target.type === 'game'
                ? { kind: 'category', category: 'all_facts' }
                : { kind: 'all' };
      // A command's replace or merge may not empty most of a table unless it says "allow-shrink".
      const policy = { ...ctx.loadOptions?.policy, maxShrink: command.allowShrink ? undefined : (ctx.loadOptions?.policy?.maxShrink ?? DEFAULT_MAX_SHRINK) };
      const result = await load(ctx.db, {
        ...ctx.loadOptions,
        policy,
        scope,
        operation: command.kind === 'load' ? command.operation : undefined,
        gameId: command.kind === 'load' ? command.gameId : undefined,
        dryRun: command.dryRun,
        ...(command.kind === 'load' && command.drift ? { drift: command.drift } : {}),
        source: await ctx.source({ gameId: command.kind === 'load' ? command.gameId : undefined }),
        initiatedBy: ctx.initiatedBy,
      });
      return { kind: 'load', ok: result.status === 'succeeded', result };
    }
    case 'drift':
      return driftPlan(ctx, command);
    case 'schema-changes': {
      const rows = await schemaChanges(ctx.db, command.table, command.limit ?? 20);
      return { kind: 'text', ok: true, text: renderSchemaChanges(rows), data: rows };
    }
    case 'schema-diff': {
      const diff = await schemaDiffOf(ctx.db);
      return { kind: 'text', ok: true, text: renderSchemaDiff(diff), data: diff };
    }
    case 'delete-game': {
      const result = await deleteGame(ctx.db, { gameId: command.gameId, dryRun: command.dryRun, initiatedBy: ctx.initiatedBy });
      return { kind: 'load', ok: result.status === 'succeeded', result };
    }
    case 'history':
      return { kind: 'history', ok: true, rows: await history(ctx.db, command.table, command.limit ?? 10) };
    case 'counts':
      return { kind: 'counts', ok: true, rows: await counts(ctx.db) };
    case 'rejects':
      try {
        return { kind: 'rejects', ok: true, report: await rejectsOf(ctx.db, command.historyId, { table: command.table, limit: command.limit }) };
      } catch (err) {
        if (err instanceof RejectsError) return { kind: 'text', ok: false, text: err.message };
        throw err;
      }
    case 'health': {
      const h = await health(ctx.db);
      return { kind: 'health', ok: h.database.reachable, health: h };
    }
    case 'help':
      return { kind: 'help', ok: true, text: helpText(command.topic) };
    case 'etl-queue':
      return plugged(ctx.extensions?.etlQueue?.(command.gameId, command.priority, ctx.initiatedBy, command.force), command);
    case 'etl-run':
      return plugged(ctx.extensions?.etlRun?.(command.queueId, ctx.initiatedBy, command.force), command);
    case 'etl-status':
      return plugged(ctx.extensions?.etlStatus?.(), command);
    case 'etl-log':
      return plugged(ctx.extensions?.etlLog?.(command.jobId, command.tail), command);
    case 'validate':
      return plugged(ctx.extensions?.validate?.(command.gameId, ctx.initiatedBy), command);
  }
}

/** `drift`: a dry run of the load, told as the plan of every file (render-drift.ts). A plan the policy would refuse is not ok. */
async function driftPlan(ctx: CommandContext, command: Extract<Command, { kind: 'drift' }>): Promise<Outcome> {
  if (!ctx.source) return { kind: 'text', ok: false, text: 'nowhere to read the exports from: give a folder (--from <dir>) or configure the drop bucket' };
  const t = command.target;
  const source = await ctx.source({ gameId: command.gameId });
  const result = await load(ctx.db, {
    ...ctx.loadOptions,
    scope:
      t.type === 'table'
        ? { kind: 'tables', tables: [t.table] }
        : t.type === 'category'
          ? { kind: 'category', category: t.category }
          : t.type === 'game'
            ? { kind: 'category', category: 'all_facts' }
            : { kind: 'all' },
    operation: command.operation,
    gameId: command.gameId,
    dryRun: true,
    ...(command.drift ? { drift: command.drift } : {}),
    source,
    initiatedBy: ctx.initiatedBy,
  });
  const tables = result.drift ?? result.tables.map((x) => x.drift!).filter(Boolean);
  const failedOtherwise = result.status === 'failed' && !result.drift;
  const text = failedOtherwise
    ? `DRIFT PLAN for ${source.describe()}: the files cannot be read as a load would\n${result.error ? formatError(result.error) : 'unknown error'}`
    : renderDriftPlan(tables, source.describe());
  return {
    kind: 'text',
    ok: result.status !== 'failed',
    text,
    data: { status: result.status, historyId: result.historyId, drift: tables, error: result.error },
  };
}

async function plugged(p: Promise<Outcome> | undefined, command: Command): Promise<Outcome> {
  return p ?? { kind: 'text', ok: false, text: `${describeCommand(command)} is not available here` };
}

// A dry run shows as one: its numbers are what the load would have done.
const HISTORY_COLUMNS = `id::int AS id, to_char(started_at, 'YYYY-MM-DD HH24:MI:SS') AS started_at,
  CASE WHEN NOT dry_run THEN status WHEN status = 'succeeded' THEN 'dry run' ELSE 'dry run ' || status END AS status, scope, operation, game_id,
  rows_inserted::int AS rows_inserted, rows_updated::int AS rows_updated, rows_deleted::int AS rows_deleted,
  rows_rejected::int AS rows_rejected, duration_ms, initiated_by, error_message, table_name`;

export async function history(db: Database, table: string | undefined, limit: number): Promise<HistoryRow[]> {
  await history_.markAbandoned(db);
  const r = await db.query<HistoryRow>(
    `SELECT ${HISTORY_COLUMNS}
     FROM load_history
     WHERE CASE WHEN $1::text IS NULL THEN kind <> 'table' ELSE table_name = $1 END
     ORDER BY id DESC LIMIT $2`,
    [table ?? null, limit],
  );
  return r.rows;
}

export async function counts(db: Database): Promise<{ table: string; rows: number }[]> {
  const sql = TABLE_NAMES.map((t) => `SELECT '${t}' AS t, count(*) AS n FROM ${t}`).join(' UNION ALL ');
  const r = await db.query<{ t: string; n: string }>(sql);
  const byName = new Map(r.rows.map((x) => [x.t, Number(x.n)]));
  return TABLE_NAMES.map((t) => ({ table: t, rows: byName.get(t) ?? 0 }));
}

export async function health(db: Database): Promise<Health> {
  try {
    await db.query('SELECT 1');
  } catch (err) {
    return {
      database: { reachable: false, label: db.label, error: (err as Error).message },
      schemaVersion: 0,
      latestMigration: null,
      queue: null,
      lastLoad: null,
    };
  }
  const m = await migrationStatus(db);
  let queue: Health['queue'] = null;
  let lastLoad: HistoryRow | null = null;
  if (m.version > 0) {
    const q = await db.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM etl_queue GROUP BY status');
    const n = (s: string) => Number(q.rows.find((x) => x.status === s)?.n ?? 0);
    queue = { pending: n('pending'), running: n('running'), failed: n('failed') };
    await history_.markAbandoned(db);
    lastLoad =
      (await db.query<HistoryRow>(`SELECT ${HISTORY_COLUMNS} FROM load_history WHERE kind = 'request' AND NOT dry_run ORDER BY id DESC LIMIT 1`)).rows[0] ??
      null;
  }
  return { database: { reachable: true, label: db.label }, schemaVersion: m.version, latestMigration: m.name, queue, lastLoad };
}
