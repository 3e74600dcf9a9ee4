/**
 * Tracker export → staging: validates the export, replaces the game's staging rows in one
 * transaction (sql: tracker_stage_game) and records the ingestion in load_history. A game
 * whose events include GameEnd is queued for ETL at priority 10 (the staging_events trigger
 * does it, so the same happens when the tracker app writes staging_events directly).
 */
import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database';
import * as history from '../history';
import type { TrackerExport } from './export-schema';
import { trackerFindings, type TrackerFinding } from './findings';
import { readTrackerExport, TrackerExportError, type TrackerInput } from './read-export';

export interface IngestOptions {
  /** Where the export came from, for the history: a file name, `s3://...`, `slack upload` ... */
  source: string;
  initiatedBy: string;
}

export interface IngestResult {
  gameId: number;
  homeTeam: string;
  awayTeam: string;
  events: number;
  shifts: number;
  /** Odd values staged as written, one finding each (findings.ts; kept in tracker_findings). */
  findings: TrackerFinding[];
  /** The game's staging rows this export replaced. */
  replaced: { events: number; shifts: number };
  /** The export has a GameEnd event. */
  gameEnded: boolean;
  /** The ETL job the GameEnd queued (or joined: one was already pending). */
  queued: { jobId: number; joined: boolean } | null;
  historyId: number;
  durationMs: number;
}

interface StageResult {
  game_id: number;
  events: number;
  shifts: number;
  replaced_events: number;
  replaced_shifts: number;
  game_end: boolean;
}

/** What is sent to the database: the validated fields only (never `settings`), the events to stage, the findings. */
function stagingPayload(x: TrackerExport, events: TrackerExport['events'], findings: TrackerFinding[]): string {
  return JSON.stringify({
    gameId: x.gameId,
    homeTeam: x.homeTeam,
    awayTeam: x.awayTeam,
    version: x.version,
    exportDate: x.exportDate,
    rosters: x.rosters,
    periodLengths: x.periodLengths,
    events,
    shifts: x.shifts,
    findings,
  });
}

const pendingEtlJob = async (db: { query: Database['query'] }, gameId: number) =>
  (await db.query<{ id: string }>("SELECT id FROM etl_queue WHERE status = 'pending' AND operation = 'process_game' AND game_id = $1", [gameId])).rows[0]?.id;

export async function ingestTrackerExport(db: Database, input: TrackerInput, opts: IngestOptions): Promise<IngestResult> {
  const started = Date.now();
  const requestId = randomUUID();
  let data: TrackerExport;
  try {
    data = await readTrackerExport(input);
  } catch (err) {
    if (err instanceof TrackerExportError) {
      const rec = {
        requestId,
        operation: 'ingest' as const,
        scope: err.gameId !== null ? `game ${err.gameId}` : 'game ?',
        gameId: err.gameId,
        source: opts.source,
        initiatedBy: opts.initiatedBy,
      };
      const id = await history.startRun(db, rec);
      await history.failRun(db, id, 'refused', err.message, Date.now() - started);
    }
    throw err;
  }

  const rec: history.RunRecord = {
    requestId,
    operation: 'ingest',
    scope: `game ${data.gameId}`,
    gameId: data.gameId,
    source: opts.source,
    initiatedBy: opts.initiatedBy,
  };
  const historyId = await history.startRun(db, rec);
  const { findings, events } = trackerFindings(data);
  try {
    const { staged, queued } = await db.transaction(async (tx) => {
      // Read by the GameEnd trigger when it queues the ETL (transaction-local settings).
      await tx.query("SELECT set_config('benchsight.requested_by', $1, true), set_config('benchsight.source', $2, true)", [opts.initiatedBy, opts.source]);
      const before = await pendingEtlJob(tx, data.gameId);
      const r = await tx.query<{ r: StageResult }>('SELECT tracker_stage_game($1::jsonb, $2) AS r', [stagingPayload(data, events, findings), opts.source]);
      const staged = r.rows[0]!.r;
      const after = staged.game_end ? await pendingEtlJob(tx, data.gameId) : undefined;
      const queued = after !== undefined ? { jobId: Number(after), joined: before !== undefined } : null;
      await history.succeedRun(
        tx,
        historyId,
        { rowsInFile: staged.events + staged.shifts, inserted: staged.events + staged.shifts, deleted: staged.replaced_events + staged.replaced_shifts },
        Date.now() - started,
        {
          tracker: { events: staged.events, shifts: staged.shifts, game_end: staged.game_end, etl_job: queued, findings: findings.length },
          ...(findings.length ? { messages: findings.slice(0, 50).map((f) => f.message) } : {}),
        },
      );
      return { staged, queued };
    });
    return {
      gameId: data.gameId,
      homeTeam: data.homeTeam,
      awayTeam: data.awayTeam,
      events: staged.events,
      shifts: staged.shifts,
      replaced: { events: staged.replaced_events, shifts: staged.replaced_shifts },
      gameEnded: staged.game_end,
      queued,
      findings,
      historyId,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    await history.failRun(db, historyId, 'failed', `storing the tracker export of game ${data.gameId} failed: ${(err as Error).message}`, Date.now() - started);
    throw err;
  }
}
