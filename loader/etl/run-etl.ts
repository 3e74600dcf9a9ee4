/**
 * The ETL of one game, from the tracker's staging rows to the 9 fact tables: one call of
 * etl_process_game() (sql/functions/etl_process_game.sql) in one transaction, recorded in
 * load_history (a request row and a row per fact table), then the data-quality rules for
 * the game. Re-running gives the same rows and touches no other game.
 */
import { randomUUID } from 'node:crypto';
import { pgErrorFields, type Database } from '../db/database';
import { qualityAfterChange } from '../quality/after-change';
import type { Finding } from '../quality/findings';
import type { TrackerFinding } from '../tracker/findings';
import { TABLE_NAMES } from '../warehouse';
import * as history from '../history';

export interface EtlTableCount {
  deleted: number;
  inserted: number;
}

export interface UnresolvedPlayer {
  venue: 'home' | 'away';
  number: number;
  name: string | null;
  rows: number;
}

export interface EtlResult {
  gameId: number;
  /**
   * skipped: the export has no events and no shifts yet; the fact tables were left alone.
   * partial: the ETL committed, but the data-quality rules could not run (`warnings` says why).
   */
  status: 'succeeded' | 'skipped' | 'partial';
  reason?: string;
  warnings: string[];
  /** Per fact table, in load order. */
  tables: Record<string, EtlTableCount>;
  /** Jersey numbers the rosters do not know: their rows have no player_id. */
  unresolvedPlayers: UnresolvedPlayer[];
  /**
   * Tables whose rows of the game the team's full ETL produced (etl_game_provenance): kept
   * as they were, not replaced (unless `force`). `warnings` says so too.
   */
  kept: string[];
  findings: Finding[];
  /** The tracker export's odd values, staged as written (loader/tracker/findings.ts): what the run computed from. */
  trackerFindings: TrackerFinding[];
  historyId: number;
  requestId: string;
  durationMs: number;
}

export class EtlError extends Error {
  override readonly name = 'EtlError';
  constructor(
    message: string,
    readonly gameId: number,
    readonly historyId: number | null,
    /** Retrying cannot help (e.g. the game was never received). */
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

interface ProcessResult {
  game_id: number;
  skipped: boolean;
  reason?: string;
  deleted: Record<string, number>;
  inserted: Record<string, number>;
  kept?: string[];
  unresolved_players: UnresolvedPlayer[];
}

/** The warning of a run that kept the full ETL's rows of some tables. */
export function keptWarning(gameId: number, kept: string[]): string {
  return `the full ETL produced game ${gameId}'s rows of ${kept.join(', ')}: kept as they were, not replaced by the live ETL (run it with --force to replace them)`;
}

export interface EtlOptions {
  initiatedBy: string;
  /** Replace the game's rows even in tables whose rows the full ETL produced. */
  force?: boolean;
}

export async function runEtl(db: Database, gameId: number, opts: EtlOptions): Promise<EtlResult> {
  const started = Date.now();
  if (!Number.isSafeInteger(gameId) || gameId <= 0 || gameId > 2147483647) {
    throw new EtlError(`game id ${JSON.stringify(String(gameId))} is not a positive whole number`, gameId, null, true);
  }
  const rec: history.RunRecord = {
    requestId: randomUUID(),
    operation: 'etl',
    scope: `game ${gameId}`,
    gameId,
    source: 'tracker staging (staging_games, staging_events, staging_shifts)',
    initiatedBy: opts.initiatedBy,
  };
  const historyId = await history.startRun(db, rec);

  let out: ProcessResult;
  try {
    out = await db.transaction(async (tx) => {
      const r = await tx.query<{ r: ProcessResult }>('SELECT etl_process_game($1, $2, $3::uuid) AS r', [gameId, opts.force ?? false, rec.requestId]);
      const res = r.rows[0]!.r;
      if (!res.skipped) {
        const tables = await tx.query<{ table_name: string }>("SELECT table_name FROM warehouse_tables WHERE category <> 'dims' ORDER BY load_order");
        for (const { table_name: table } of tables.rows) {
          await history.recordRunTable(tx, rec, historyId, {
            table,
            operation: 'replace',
            deleted: res.deleted[table] ?? 0,
            inserted: res.inserted[table] ?? 0,
            durationMs: Date.now() - started,
          });
        }
      }
      const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + Number(b), 0);
      await history.succeedRun(tx, historyId, { inserted: sum(res.inserted), deleted: sum(res.deleted) }, Date.now() - started, {
        messages: [
          ...(res.skipped && res.reason ? [res.reason] : []),
          ...(res.kept?.length ? [keptWarning(gameId, res.kept)] : []),
          ...res.unresolved_players.map(
            (u) => `${u.venue} #${u.number}${u.name ? ` (${u.name})` : ''} is not on the ${u.venue} roster: ${u.rows} rows have no player_id`,
          ),
        ],
      });
      return res;
    });
  } catch (err) {
    const pg = pgErrorFields(err);
    const message = `the ETL of game ${gameId} failed: ${pg?.message ?? (err as Error).message}${pg?.detail ? ` (${pg.detail})` : ''}`;
    await history.failRun(db, historyId, 'failed', message, Date.now() - started);
    // P0002: the game was never received from the tracker; retrying will not help.
    throw new EtlError(message, gameId, historyId, pg?.code === 'P0002');
  }

  const tables: Record<string, EtlTableCount> = {};
  for (const t of new Set([...Object.keys(out.deleted), ...Object.keys(out.inserted)])) {
    tables[t] = { deleted: Number(out.deleted[t] ?? 0), inserted: Number(out.inserted[t] ?? 0) };
  }
  // The data-quality rules for the game, after the commit, recorded with the run (rules
  // that cannot run leave it standing, `partial`).
  const quality = out.skipped ? {} : await qualityAfterChange(db, { tables: Object.keys(tables), gameId, historyId });
  const tracker = await db.query<TrackerFinding>(
    `SELECT game_id AS "gameId", kind, item, item_index AS index, field, value, message FROM tracker_findings WHERE game_id = $1 ORDER BY item, item_index, id`,
    [gameId],
  );
  return {
    gameId,
    status: out.skipped ? 'skipped' : quality.failed ? 'partial' : 'succeeded',
    reason: out.reason,
    warnings: [...(out.kept?.length ? [keptWarning(gameId, out.kept)] : []), ...(quality.failed ? [quality.failed] : [])],
    tables: orderTables(tables),
    kept: out.kept ?? [],
    unresolvedPlayers: out.unresolved_players,
    findings: quality.findings ?? [],
    trackerFindings: tracker.rows,
    historyId,
    requestId: rec.requestId,
    durationMs: Date.now() - started,
  };
}

function orderTables(t: Record<string, EtlTableCount>): Record<string, EtlTableCount> {
  const out: Record<string, EtlTableCount> = {};
  for (const name of TABLE_NAMES) if (t[name]) out[name] = t[name];
  return out;
}
