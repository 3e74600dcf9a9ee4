/**
 * The staged way: a file into a temporary staging table with its table's types (ON
 * COMMIT DROP), each row with the line it starts on (`_line`), for bs_apply to apply.
 * Columns the table lacks, when the request adds them, are added here from their values
 * (recorded in schema_changes).
 */
import { copiedFile, copyRows, throwIfFailed, type CopiedFile, type FileColumns, type FileLoad } from './copy-file';
import { whileOpen } from './open-file';

export interface StageFile extends FileLoad {
  cols: FileColumns;
  /** The staging table's name. */
  stage: string;
  /** Its table was emptied at the start (bs_direct_begin) with this many rows ... */
  emptied?: number;
  /** ... and its indexes parked: they are built again first (the rows go in by bs_apply). */
  restoreIndexes?: boolean;
}

export async function stageFile(a: StageFile): Promise<CopiedFile> {
  const { tx, cols, stage } = a;
  const table = a.planned.decl.name;
  await whileOpen(a.opened, async () => {
    if (a.restoreIndexes) await tx.query('SELECT bs_indexes_restore($1)', [table]);
    await tx.query(`CREATE TEMP TABLE ${stage} (_line bigint, ${cols.names.map((c) => `${c} ${cols.types.get(c)}`).join(', ')}) ON COMMIT DROP`);
  });
  a.onHeaders(cols.headers);
  const copied = await copyRows(a, cols, { into: stage, linePrefix: true, keyLines: -1, watch: [], freeze: false });
  throwIfFailed(a, cols, copied);
  const warnings = [...a.opened.records.warnings, ...cols.plan.warnings];
  const added = cols.plan.added;
  const types: Record<string, string> = {};
  if (added.length) {
    // Recorded as schema changes (who, which file, which request): `benchsight schema changes`.
    const r = await tx.query<{ r: { column: string; type: string }[] }>('SELECT bs_add_columns($1, $2::regclass, $3::text[], $4::jsonb) AS r', [
      table,
      stage,
      added.map((c) => c.name),
      JSON.stringify({
        initiated_by: a.req.initiatedBy,
        source: a.file.name,
        request_id: a.requestId,
        history_id: a.historyId,
        headers: Object.fromEntries(added.map((c) => [c.name, c.header])),
      }),
    ]);
    for (const c of r.rows[0]!.r) types[c.column] = c.type;
    warnings.push(`added column${added.length > 1 ? 's' : ''} to ${table}: ${r.rows[0]!.r.map((c) => `${c.column} ${c.type}`).join(', ')}`);
  }
  return copiedFile(a, cols, warnings, { stage, emptied: a.emptied }, types);
}
