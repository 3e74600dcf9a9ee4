/**
 * Exports that change, as text: the drift plan (`drift`, a dry run, a refused load), what
 * a load changed, the recorded schema changes (`schema changes`) and the declaration change
 * that makes the code match the database (`schema diff`). Monospace, like render.ts: the CLI
 * prints it, the Slack bot wraps it in a code block.
 */
import type { LoadResult, TableDrift } from '../engine';
import type { SchemaDiff } from '../warehouse/diff';

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** The lines of one file's drift: what differs, and what the load does (or would do). */
function driftLines(t: TableDrift, planned: boolean): string[] {
  const would = (done: string, plan: string) => (planned ? plan : done);
  const out: string[] = [];
  const add = t.added.filter((c) => c.action === 'add');
  const ignore = t.added.filter((c) => c.action === 'ignore');
  const refuse = t.added.filter((c) => c.action === 'refuse');
  if (add.length)
    out.push(
      `  new columns, ${would('added', 'to be added')}: ${add.map((c) => `${c.column}${c.type ? ` ${c.type}` : ''}`).join(', ')} (a recorded schema change)`,
    );
  if (ignore.length) out.push(`  new columns, ignored (not loaded): ${ignore.map((c) => c.column).join(', ')}`);
  if (refuse.length) out.push(`  new columns, REFUSED by the policy: ${refuse.map((c) => c.column).join(', ')}`);
  if (t.renamed.length) out.push(`  renamed (by alias): ${t.renamed.map((r) => `${r.header} → ${r.column}`).join(', ')}`);
  if (t.dropped.length) {
    const kept = t.dropped[0]!.action === 'kept';
    out.push(
      `  dropped from the file: ${
        t.dropped.length > 12
          ? `${t.dropped.length} columns (${t.dropped
              .slice(0, 12)
              .map((d) => d.column)
              .join(', ')}, …)`
          : t.dropped.map((d) => d.column).join(', ')
      }: ${kept ? `${t.operation} keeps their values in the rows it updates (new rows get NULL)` : `NULL in the rows ${t.operation} loads`}`,
    );
  }
  if (t.pandasIndex.length) out.push(`  a pandas index, ignored: ${t.pandasIndex.join(', ')}`);
  if (t.keyLike.length) out.push(`  key-like columns beside the key ${t.key.column}: ${t.keyLike.join(', ')}`);
  if (t.key.source === 'derived')
    out.push(`  no key column ${t.key.column}: rows are matched by their natural key (${t.naturalKey.join(', ')}), new rows keyed ${t.key.rule}`);
  for (const r of t.retyped) {
    if (r.action === 'reject') out.push(`  values that no longer fit their column: ${plural(r.rows ?? 0, 'row')} ${would('rejected', 'to be rejected')}`);
    else
      out.push(
        `  retyped: ${r.column} ${r.from ?? ''}${r.to ? ` → ${r.to}` : ''}: ${plural(r.rows ?? 0, 'value')} no longer fit (line ${r.line}: ${JSON.stringify(r.value)}): ${
          r.action === 'widen' ? would('widened (a recorded schema change)', 'to be widened (a recorded schema change)') : 'REFUSED by the policy'
        }`,
      );
  }
  if (t.rekeyed)
    out.push(
      `  key format changed: ${plural(t.rekeyed.rows, 'row')} of the table ${would('took', 'take')} the file's key (same natural key): ${t.rekeyed.examples
        .map((e) => `${e.from} → ${e.to}`)
        .join(', ')}${t.rekeyed.rows > t.rekeyed.examples.length ? ', …' : ''}`,
    );
  if (t.keyTaken) out.push(`  key taken: ${plural(t.keyTaken, 'row')} whose key another row of the table holds: ${would('rejected', 'to be rejected')}`);
  if (t.naturalKeyRepeats)
    out.push(`  natural key repeated in the file: ${plural(t.naturalKeyRepeats, 'row')} ${would('rejected', 'to be rejected')} (the first stays)`);
  if (t.grain) {
    const g = t.grain;
    out.push(
      `  grain changed: ${plural(g.rows, 'row')} repeat the natural key (${g.naturalKey.join(', ')}); (${g.extended.join(', ')}) tells them apart: ${
        g.action === 'evolved'
          ? `${would('now', 'to become')} the natural key${g.superseded ? `; ${plural(g.superseded, 'coarser row')} superseded` : ''}`
          : 'REFUSED by the policy'
      }`,
    );
  }
  if (t.refused) out.push(`  REFUSED: ${t.refused}`);
  return out;
}

function policyText(t: TableDrift): string {
  return `new columns ${t.policy.newColumns}, misfits ${t.policy.misfits}, grain ${t.policy.grain}`;
}

/** The plan of a request (a dry run, `drift`, or a load a policy refused): per file, what differs and what the load would do. */
export function renderDriftPlan(tables: TableDrift[], source?: string): string {
  const changed = tables.filter((t) => driftLines(t, true).length);
  const refused = tables.filter((t) => t.refused);
  const head = `DRIFT PLAN${source ? ` for ${source}` : ''}: ${plural(changed.length, 'file')} of ${tables.length} differ from their tables${
    refused.length
      ? `; the load would be REFUSED (${refused.map((t) => t.table).join(', ')}): --evolve applies every change below (each recorded)`
      : changed.length
        ? '; the load would apply what follows'
        : ''
  }`;
  const out = [head];
  for (const t of changed) out.push(`${t.table} (${t.operation}; ${policyText(t)}) ← ${t.file}`, ...driftLines(t, true));
  const same = tables.filter((t) => !changed.includes(t));
  if (same.length && changed.length) out.push(`unchanged: ${same.map((t) => t.table).join(', ')}`);
  return out.join('\n');
}

/** What a committed load changed because its files differ from their tables (nothing when they do not). */
export function renderLoadDrift(r: LoadResult): string {
  const lines = r.tables.flatMap((t) => {
    const l = t.drift ? driftLines(t.drift, r.dryRun) : [];
    return l.length ? [`${t.table}:`, ...l] : [];
  });
  return lines.length ? ['the files differ from their tables:', ...lines].join('\n') : '';
}

export interface SchemaChangeRow {
  id: number;
  changed_at: string;
  changed_by: string;
  table_name: string;
  change: string;
  column_name: string | null;
  old_type: string | null;
  new_type: string | null;
  detail: Record<string, unknown>;
  source: string | null;
  history_id: number | null;
}

export function renderSchemaChanges(rows: SchemaChangeRow[]): string {
  if (!rows.length) return 'no schema changes recorded: every table is as its migrations made it';
  return rows
    .map((r) => {
      const what =
        r.change === 'natural_key'
          ? `natural key (${(r.detail.from as string[] | undefined)?.join(', ')}) → (${(r.detail.to as string[] | undefined)?.join(', ')})`
          : r.change === 'add_column'
            ? `added column ${r.column_name} ${r.new_type}`
            : `widened ${r.column_name} ${r.old_type} → ${r.new_type}`;
      return `#${r.id} ${r.changed_at} ${r.table_name}: ${what} — by ${r.changed_by}${r.source ? `, from ${r.source}` : ''}${r.history_id ? ` (load #${r.history_id})` : ''}`;
    })
    .join('\n');
}

export function renderSchemaDiff(d: SchemaDiff): string {
  if (!d.declaration.length && !d.migration.length) return 'the database and the declaration (loader/warehouse) agree: nothing to change';
  const out: string[] = [];
  if (d.declaration.length) {
    out.push(
      'The database has changes the declaration lacks (applied by loads: `schema changes`). Make the code match, or the next deploy knows nothing of them:',
    );
    for (const f of d.declaration) out.push('', `${f.file}, ${f.table}:`, ...f.lines.map((l) => `  ${l}`));
  }
  if (d.migration.length) {
    if (out.length) out.push('');
    out.push(
      `The declaration has changes the database lacks. A new migration (sql/migrations/${d.nextMigration}) makes the database match:`,
      '',
      ...d.migration,
    );
  }
  return out.join('\n');
}
