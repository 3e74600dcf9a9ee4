/**
 * Outcomes as plain text (monospace tables): the CLI prints it, the Slack bot wraps
 * it in a code block.
 */
import { formatError, type LoadResult } from '../engine';
import type { Outcome } from './execute';
import { renderDriftPlan, renderLoadDrift } from './render-drift';

export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null || r[i] === undefined));
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function renderLoad(r: LoadResult): string {
  const word =
    r.dryRun && (r.status === 'succeeded' || r.status === 'partial')
      ? 'DRY RUN (nothing changed)'
      : r.status === 'succeeded'
        ? 'OK'
        : r.status === 'partial'
          ? 'PARTIAL'
          : r.status === 'cancelled'
            ? 'CANCELLED'
            : 'FAILED';
  const head = `${word}: ${r.scope} (${r.operation}) in ${(r.durationMs / 1000).toFixed(2)} s, history #${r.historyId}`;
  if (r.status === 'cancelled')
    return `${head}
Nothing was changed.`;
  if (r.status === 'failed') {
    return `${head}\n${r.error ? formatError(r.error) : 'unknown error'}\nNothing was changed.${r.drift ? `\n\n${renderDriftPlan(r.drift)}` : ''}`;
  }
  const rows = r.tables.map((t) => [
    t.table,
    t.operation,
    t.rowsInFile,
    t.inserted,
    t.updated,
    t.deleted,
    t.unchanged,
    t.rejected,
    Object.entries(t.rejectedByReason)
      .map(([k, v]) => `${k}:${v}`)
      .join(' '),
  ]);
  const out = [head, table(['table', 'operation', 'in file', 'inserted', 'updated', 'deleted', 'unchanged', 'rejected', 'reasons'], rows)];
  if (r.tables.some((t) => t.rejected > 0)) out.push('rejected rows are kept in load_rejects with their line and reason');
  const drift = renderLoadDrift(r);
  if (drift) out.push(drift);
  if (r.status === 'partial') out.push('PARTIAL: the rows above were loaded and committed, but not all is well:');
  for (const w of r.warnings) out.push(`warning: ${w}`);
  if (r.findings) {
    const f = r.findings;
    out.push(
      f.errors + f.warnings === 0
        ? 'data quality: every rule holds'
        : `data quality: ${f.errors} error${f.errors === 1 ? '' : 's'}, ${f.warnings} warning${f.warnings === 1 ? '' : 's'}`,
    );
    for (const x of f.items.slice(0, 10)) out.push(`  ${x.severity} [${x.rule}] ${x.message}`);
    if (f.items.length > 10 || f.truncated) out.push(`  ... run \`validate\` for all of them`);
  }
  return out.join('\n');
}

export function renderOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'load':
      return renderLoad(o.result);
    case 'history':
      if (!o.rows.length) return 'no loads recorded yet';
      return table(
        ['id', 'started', 'status', 'what', 'op', 'ins', 'upd', 'del', 'rej', 'ms', 'by', 'error'],
        o.rows.map((h) => [
          h.id,
          h.started_at,
          h.status,
          h.table_name ?? h.scope,
          h.operation,
          h.rows_inserted,
          h.rows_updated,
          h.rows_deleted,
          h.rows_rejected,
          h.duration_ms,
          h.initiated_by,
          h.error_message ? h.error_message.slice(0, 120) : '',
        ]),
      );
    case 'counts':
      return table(
        ['table', 'rows'],
        o.rows.map((c) => [c.table, c.rows]),
      );
    case 'health': {
      const h = o.health;
      if (!h.database.reachable) return `database: UNREACHABLE (${h.database.label}): ${h.database.error}`;
      return [
        `database: reachable (${h.database.label})`,
        `schema: version ${h.schemaVersion}${h.latestMigration ? ` (${h.latestMigration})` : ' — not migrated: run `benchsight migrate`'}`,
        h.queue ? `queue: ${h.queue.pending} pending, ${h.queue.running} running, ${h.queue.failed} failed` : 'queue: -',
        h.lastLoad
          ? `last load: #${h.lastLoad.id} ${h.lastLoad.status} at ${h.lastLoad.started_at} (${h.lastLoad.scope ?? h.lastLoad.table_name}, by ${h.lastLoad.initiated_by})`
          : 'last load: none yet',
      ].join('\n');
    }
    case 'help':
    case 'text':
      return o.text;
  }
}
