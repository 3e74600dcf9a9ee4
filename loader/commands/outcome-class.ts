/**
 * The outcome classes every entry point reports the same way: the CLI's exit code,
 * Slack's headline and icon, the S3 loader's message title.
 *
 * | class         | means                                                              | exit |
 * |---------------|--------------------------------------------------------------------|------|
 * | succeeded     | done, every check held                                             | 0    |
 * | nothing to do | done, and nothing needed changing (every row was already there)   | 0    |
 * | partial       | committed, but rows were rejected past the allowance, rejected     | 3    |
 * |               | with their parent rows, the data-quality rules found ERRORs or     |      |
 * |               | could not run: the output says which                               |      |
 * | failed        | nothing changed (bad input, a guard refused it, an error)          | 1    |
 * | cancelled     | stopped on request (Ctrl-C): nothing changed                       | 130  |
 *
 * Usage errors and commands refused before they ran (a typo, a destructive command
 * without its confirmation) exit 2; they never reach an Outcome.
 */
import type { LoadResult } from '../engine';
import type { Finding, Level } from '../quality/findings';
import type { Outcome } from './execute';

export type OutcomeClass = 'succeeded' | 'nothing to do' | 'partial' | 'failed' | 'cancelled';

export const EXIT_CODES: Readonly<Record<OutcomeClass | 'usage', number>> = {
  succeeded: 0,
  'nothing to do': 0,
  partial: 3,
  failed: 1,
  cancelled: 130,
  usage: 2,
};

/** A committed load that changed no row and rejected none: the files held what the tables had. */
function changedNothing(r: LoadResult): boolean {
  return r.tables.length > 0 && r.tables.every((t) => t.inserted + t.updated + t.deleted + t.rejected === 0);
}

/**
 * A load's class. The engine's status, except that a committed load whose data-quality
 * rules found ERRORs that concern it (concerningErrors) is `partial` too (the engine
 * records it `succeeded`, with the findings: a rule's ERROR does not undo rows that are
 * right).
 */
export function loadClass(r: LoadResult): OutcomeClass {
  if (r.status !== 'succeeded') return r.status;
  if (qualityErrors(r) > 0) return 'partial';
  return changedNothing(r) ? 'nothing to do' : 'succeeded';
}

/**
 * The tables a finding of each level is about (sql/functions/quality.sql measures players,
 * goalies and teams in their stats tables; a team's goals are checked against the
 * schedule's score).
 */
const TABLES_OF_LEVEL: Readonly<Record<Level, readonly string[]>> = {
  player: ['fact_player_game_stats'],
  goalie: ['fact_goalie_game_stats'],
  team: ['fact_team_game_stats', 'dim_schedule'],
  // A game's one ERROR rule counts its goalies (its events and shifts only warn).
  game: ['fact_goalie_game_stats'],
};

/**
 * The data-quality ERRORs that concern a committed load: in the games it touched, about
 * a table it loaded (an ERROR about a table the load did not change was there before it,
 * and is summed up, not held against it). None for a dry run: it committed nothing.
 */
export function concerningErrors(r: LoadResult): Finding[] {
  if (r.dryRun || !r.findings) return [];
  const loaded = new Set(r.tables.map((t) => t.table));
  return r.findings.items.filter((f) => f.severity === 'ERROR' && TABLES_OF_LEVEL[f.level].some((t) => loaded.has(t)));
}

export function qualityErrors(r: LoadResult): number {
  return concerningErrors(r).length;
}

export function outcomeClass(o: Outcome): OutcomeClass {
  if (o.kind === 'load') return loadClass(o.result);
  return o.ok ? 'succeeded' : 'failed';
}

export function exitCodeOf(o: Outcome): number {
  return EXIT_CODES[outcomeClass(o)];
}
