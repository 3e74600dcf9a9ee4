/**
 * What a load refuses, or flags, after its files were applied and before it commits:
 *   - a load of one game whose files have no row of that game (a typo in the game id,
 *     or an export without it): refused, nothing changed;
 *   - a replace or merge that would leave a table (or the game's part of it) with far
 *     fewer rows than it had (an export cut short, the wrong folder): refused when the
 *     request sets policy.maxShrink (the share a table may lose). The command language
 *     sets DEFAULT_MAX_SHRINK unless the command says "allow-shrink"
 *     (commands/execute.ts); a caller of load() that sets nothing is not limited.
 */
import { LoadError } from './errors';
import type { TableResult } from './request';

/** A table that loses fewer rows than this is never refused, whatever the share (a test table, a fix of a few rows). */
const SHRINK_MIN_ROWS = 10;

const n = (x: number) => x.toLocaleString('en-US');

export function refusalOf(results: TableResult[], gameId: number | null, maxShrink?: number): LoadError | undefined {
  // A table the drift policy refuses reads no rows in the plan: its counts are not what a load would do.
  const counted = results.filter((r) => !r.drift?.refused);
  if (gameId !== null && counted.length && counted.every((r) => r.rowsInFile - r.outOfScope === 0)) {
    const files = counted.map((r) => r.file);
    // (file and table named as absent: no one file is to blame, the engine's context must not name one)
    return new LoadError({
      file: undefined,
      table: undefined,
      message: `no file has rows for game ${gameId}: ${files.length === 1 ? files[0] : `the ${files.length} files read`} hold${files.length === 1 ? 's' : ''} only rows of other games`,
      hint: 'check the game id, or load an export that has that game; nothing was changed',
    });
  }
  if (maxShrink === undefined) return undefined;
  for (const r of results) {
    if (r.operation !== 'replace' && r.operation !== 'merge') continue;
    if (r.drift?.refused) continue;
    const before = r.deleted + r.updated + r.unchanged;
    const after = before - r.deleted + r.inserted;
    const lost = before - after;
    if (lost < SHRINK_MIN_ROWS || lost <= before * maxShrink) continue;
    const scope = r.gameId !== null ? `${r.table} (game ${r.gameId})` : r.table;
    return new LoadError({
      table: r.table,
      file: r.file,
      message:
        `refused: this ${r.operation} would leave ${scope} with ${n(after)} of its ${n(before)} rows ` +
        `(−${Math.round((lost / before) * 100)}%, more than the ${Math.round(maxShrink * 100)}% a load may remove)`,
      hint: 'if the file is right, run it again allowing that (--allow-shrink, or "allow-shrink" in Slack); nothing was changed',
    });
  }
  return undefined;
}
