/**
 * Deletes one game's rows from every fact table (children before parents) through the
 * database's delete_game(), in one transaction, recorded in load_history.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database';
import { toLoadError } from './errors';
import * as history from '../history';
import { errorsFirst } from '../quality/findings';
import { qualityAfterChange } from '../quality/after-change';
import type { LoadResult, TableResult } from './request';

class DryRunDone extends Error {
  constructor(readonly tables: TableResult[]) {
    super('dry run');
  }
}

export async function deleteGame(db: Database, opts: { gameId: number; initiatedBy: string; dryRun?: boolean }): Promise<LoadResult> {
  const started = Date.now();
  const requestId = randomUUID();
  const dryRun = Boolean(opts.dryRun);
  const valid = Number.isSafeInteger(opts.gameId) && opts.gameId > 0 && opts.gameId <= 2147483647;
  const row: history.RequestRow = {
    requestId,
    scope: valid ? `game ${opts.gameId}` : 'game ?',
    operation: 'delete',
    gameId: valid ? opts.gameId : null,
    source: 'delete_game()',
    dryRun,
    initiatedBy: opts.initiatedBy,
  };
  const historyId = await history.startRequest(db, row);
  const base = { requestId, historyId, dryRun, scope: row.scope, operation: 'delete', gameId: row.gameId };
  try {
    if (!valid) throw toLoadError(new Error(`game id ${JSON.stringify(String(opts.gameId))} is not a positive whole number`));
    const tables = await db
      .transaction(async (tx) => {
        const r = await tx.query<{ r: { rows_deleted: Record<string, number> } }>(
          'SELECT pg_advisory_xact_lock(bs_request_lock($2::uuid)), delete_game($1)::jsonb AS r',
          [opts.gameId, requestId],
        );
        const tables: TableResult[] = [];
        for (const [table, n] of Object.entries(r.rows[0]!.r.rows_deleted)) {
          const id = await history.startTable(tx, row, historyId, { table, operation: 'delete', file: 'delete_game()' });
          const t: TableResult = {
            table,
            operation: 'replace',
            gameId: opts.gameId,
            file: 'delete_game()',
            rowsInFile: 0,
            outOfScope: 0,
            inserted: 0,
            updated: 0,
            deleted: Number(n),
            unchanged: 0,
            rejected: 0,
            rejectedByReason: {},
            warnings: [],
            historyId: id,
            durationMs: Date.now() - started,
          };
          await history.finishTable(tx, t);
          tables.push(t);
        }
        if (dryRun) throw new DryRunDone(tables);
        await history.finishRequest(tx, historyId, tables, Date.now() - started, []);
        return tables;
      })
      .catch(async (err: unknown) => {
        if (!(err instanceof DryRunDone)) throw err;
        await history.finishRequest(db, historyId, err.tables, Date.now() - started, []);
        return err.tables;
      });
    // After the commit: the findings, or why the rules could not run, go to the request's row.
    const quality = dryRun ? {} : await qualityAfterChange(db, { tables: tables.map((t) => t.table), gameId: opts.gameId, historyId });
    return {
      ...base,
      status: quality.failed ? 'partial' : 'succeeded',
      durationMs: Date.now() - started,
      tables,
      warnings: quality.failed ? [quality.failed] : [],
      findings: quality.findings && errorsFirst(quality.findings),
    };
  } catch (err) {
    const e = toLoadError(err);
    await history.failRequest(db, requestId, { message: e.message, detail: e.info }, Date.now() - started).catch(() => undefined);
    return { ...base, status: 'failed', durationMs: Date.now() - started, tables: [], warnings: [], error: e.info };
  }
}
