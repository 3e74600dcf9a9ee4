/**
 * The data-quality rules after a change, the one way for every change: a load (inside
 * its transaction, just before it commits), a deleted game and an ETL run (after they
 * committed). The rules run for the games the change touched. A deadlock or a lock they
 * cannot get (concurrent loads of the tables they read) is tried again; rules that still
 * cannot run never undo the change: they make its outcome `partial`, with a message that
 * says so.
 */
import { pgErrorFields, type Queryable } from '../db/database';
import * as history from '../history';
import { WAREHOUSE } from '../warehouse';
import { summarizeFindings, type Finding } from './findings';
import { validate } from './validate';

export interface Change {
  /** The tables it changed: the rules run when one of them has games. */
  tables: string[];
  /** The game it touched, or null: every game (whole tables were loaded). */
  gameId: number | null;
  /**
   * `db` is the change's own transaction: each try runs in a savepoint (rules that fail
   * leave the transaction usable), and the caller records the outcome with its history
   * row as it commits.
   */
  inTransaction?: boolean;
  /**
   * The change has committed and this is its request's history row: the findings are
   * recorded there, and rules that could not run turn it `partial`.
   */
  historyId?: number;
}

export interface QualityOutcome {
  /** What the rules found (undefined when they did not run). */
  findings?: Finding[];
  /** Why the rules could not run: the change stands, `partial`. */
  failed?: string;
}

/** Tries of the data-quality rules when they meet a deadlock or a lock they cannot get. */
const TRIES = 3;

export async function qualityAfterChange(db: Queryable, change: Change): Promise<QualityOutcome> {
  if (!touchesGames(change.tables)) return {};
  const gameIds = change.gameId === null ? null : [change.gameId];
  for (let tries = 1; ; tries++) {
    if (change.inTransaction) await db.query('SAVEPOINT bs_quality');
    try {
      const findings = await validate(db, { gameIds });
      if (change.historyId !== undefined) await history.addWarnings(db, change.historyId, { findings: summarizeFindings(findings) });
      return { findings };
    } catch (err) {
      if (change.inTransaction) await db.query('ROLLBACK TO SAVEPOINT bs_quality');
      if (!retryable(err) || tries >= TRIES) {
        const failed = rulesFailed(err, tries);
        if (change.historyId !== undefined) await recordFailure(db, change.historyId, failed);
        return { failed };
      }
      await backoff(tries);
    }
  }
}

/** After the commit: the request's row says why, and turns `partial` (best effort: the result says it anyway). */
async function recordFailure(db: Queryable, historyId: number, failed: string): Promise<void> {
  await history.addWarnings(db, historyId, { messages: [failed] }).catch(() => undefined);
  await history.markPartial(db, historyId).catch(() => undefined);
}

/** The rules look at games: tables without a game column (the dims of players and teams) alone touch none. */
function touchesGames(tables: string[]): boolean {
  return !tables.every((t) => WAREHOUSE.find((d) => d.name === t)?.gameColumn === null);
}

/** A deadlock, a serialization failure or a lock not available: another try may pass. */
function retryable(err: unknown): boolean {
  const code = pgErrorFields(err)?.code;
  return code === '40P01' || code === '40001' || code === '55P03';
}

function backoff(tries: number): Promise<void> {
  return new Promise((r) => setTimeout(r, 50 * 2 ** tries * (0.5 + Math.random())));
}

function rulesFailed(err: unknown, tries: number): string {
  return `the data-quality rules could not run${tries > 1 ? ` (${tries} tries)` : ''}: ${(err as Error).message}; the load itself stands: run \`benchsight validate\` when nothing else is loading`;
}
