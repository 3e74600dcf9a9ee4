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
 * rules found ERRORs in the games it touched is `partial` too (the engine records it
 * `succeeded`, with the findings: a rule's ERROR does not undo rows that are right).
 */
export function loadClass(r: LoadResult): OutcomeClass {
  if (r.status !== 'succeeded') return r.status;
  if (qualityErrors(r) > 0) return 'partial';
  return changedNothing(r) ? 'nothing to do' : 'succeeded';
}

/** The data-quality ERRORs a committed load's rules found (0 for a dry run: it committed nothing). */
export function qualityErrors(r: LoadResult): number {
  return r.dryRun ? 0 : (r.findings?.errors ?? 0);
}

export function outcomeClass(o: Outcome): OutcomeClass {
  if (o.kind === 'load') return loadClass(o.result);
  return o.ok ? 'succeeded' : 'failed';
}

export function exitCodeOf(o: Outcome): number {
  return EXIT_CODES[outcomeClass(o)];
}
