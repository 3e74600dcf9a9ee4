/**
 * When a load that committed is still not a success: rejected rows a person must not
 * miss. Two rules, each with a message saying what happened and what to do:
 *   - a file lost more of its rows to the rejects than the request allows (policy
 *     maxRejects, default DEFAULT_MAX_REJECTS);
 *   - rows were rejected as orphans while rows of the table they point to were rejected
 *     in the same request (a parent without its key takes its children with it).
 * Either makes the outcome `partial`: the rows that were loaded stand, the rejects are in
 * load_rejects, the history, the exit code and Slack say so.
 */
import type { Queryable } from '../db/database';
import { RELATIONS } from '../warehouse';
import { DEFAULT_MAX_REJECTS, type MaxRejects, type TableResult } from './request';

export interface Concern {
  table: string;
  message: string;
}

/** Rejects of a parent that take its key out of the table (a duplicate's first row stays). */
function lostKeys(t: TableResult): number {
  return Object.entries(t.rejectedByReason).reduce((n, [reason, k]) => (reason === 'duplicate_key' ? n : n + k), 0);
}

function allowance(m: MaxRejects, rows: number): { allowed: number; says: string } {
  const byCount = m.count ?? Infinity;
  const byRatio = m.ratio === undefined ? Infinity : Math.floor(rows * m.ratio);
  return byCount <= byRatio
    ? { allowed: byCount, says: `the ${byCount} allowed` }
    : { allowed: byRatio, says: `the ${Math.round(m.ratio! * 1000) / 10}% allowed` };
}

export async function concernsOf(tx: Queryable, requestId: string, results: TableResult[], maxRejects: MaxRejects = DEFAULT_MAX_REJECTS): Promise<Concern[]> {
  const out: Concern[] = [];
  const byTable = new Map(results.map((r) => [r.table, r]));
  for (const r of results) {
    const inScope = r.rowsInFile - r.outOfScope;
    if (r.rejected === 0) continue;
    const a = allowance(maxRejects, inScope);
    if (r.rejected > a.allowed) {
      out.push({
        table: r.table,
        message: `${r.table}: ${r.rejected} of ${inScope} rows rejected, more than ${a.says} (see \`benchsight sql "select line, reason, detail from load_rejects where request_id = '${requestId}'"\`; --max-rejects sets the allowance)`,
      });
    }
  }
  // Children rejected as orphans of a parent that lost rows in this very request: each
  // child row once, however many of its relations point to that parent
  // (load_rejects.relations: every relation an orphan breaks, sql/functions/rejects.sql).
  const pairs = new Map(RELATIONS.map((rel) => [`${rel.table} ${rel.parent}`, rel]));
  for (const rel of pairs.values()) {
    const child = byTable.get(rel.table);
    const parent = byTable.get(rel.parent);
    if (!child || !parent || !child.rejectedByReason.orphan || lostKeys(parent) === 0) continue;
    const n = await tx.query<{ n: string }>(
      "SELECT count(*) AS n FROM load_rejects WHERE request_id = $1 AND table_name = $2 AND reason = 'orphan' AND relations @> $3::jsonb",
      [requestId, rel.table, JSON.stringify([{ parent_table: rel.parent }])],
    );
    const k = Number(n.rows[0]!.n);
    if (k === 0) continue;
    const lost = lostKeys(parent);
    out.push({
      table: rel.table,
      message:
        `${rel.table}: ${k} row${k === 1 ? '' : 's'} rejected because the ${rel.parent} row${lost === 1 ? '' : 's'} they point to ${lost === 1 ? 'was' : 'were'} rejected ` +
        `(${lost} ${rel.parent} row${lost === 1 ? '' : 's'} of ${parent.file}: ${Object.entries(parent.rejectedByReason)
          .filter(([x]) => x !== 'duplicate_key')
          .map(([x, v]) => `${v} ${x}`)
          .join(', ')}): fix ${rel.parent} and load again`,
    });
  }
  return out;
}
