/**
 * Outcomes as plain text: the one renderer for the CLI, Slack (inside code blocks) and
 * the S3 loader's messages. Tables are laid out by cli-table3 within a width (the
 * terminal's, or Slack's): columns that hold sentences (errors, reasons, who) are cut
 * with "…" first, so a table never wraps into an unreadable block.
 */
import Table from 'cli-table3';
import { formatError, type LoadResult, type TableResult } from '../engine';
import type { Finding } from '../quality/findings';
import type { Outcome } from './execute';
import { concerningErrors, loadClass, qualityErrors } from './outcome-class';
import type { RejectsReport } from './rejects';
import { renderDriftPlan, renderLoadDrift } from './render-drift';

export interface RenderOptions {
  /** The widest a line may be (default: no limit, for output that goes to a file or a script; a terminal's width; Slack's code blocks take about 80). */
  width?: number;
}

const DEFAULT_WIDTH = Number.POSITIVE_INFINITY;
const GAP = 2;
const NO_BORDERS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: ' '.repeat(GAP),
};

type Cell = string | number | null | undefined;

/** Code points, which is what these texts (names with accents, dashes) take on a terminal. */
const widthOf = (s: string) => [...s].length;

/**
 * A table with a header and a dashed rule under it; numbers right-aligned. When the
 * natural width exceeds `width`, the columns named in `flexible` give up space in that
 * order (else every text column, the widest first): cut with "…" down to 8 characters
 * (or `least`), or, for the columns named in `wrap`, wrapped onto more lines down to 24.
 */
export function table(
  headers: string[],
  rows: Cell[][],
  opts: RenderOptions & { flexible?: string[]; wrap?: string[]; least?: Record<string, number>; notes?: (string | undefined)[] } = {},
): string {
  const text = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c).replace(/\s*\n\s*/g, ' '))));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null || r[i] === undefined));
  const widths = headers.map((h, i) => Math.max(widthOf(h), ...text.map((r) => widthOf(r[i] ?? ''))));
  const limit = Math.max(40, opts.width ?? DEFAULT_WIDTH);
  const wraps = headers.map((h) => opts.wrap?.includes(h) ?? false);
  const least = headers.map((h, i) =>
    (opts.flexible ? opts.flexible.includes(h) || wraps[i] : !numeric[i]) ? (opts.least?.[h] ?? (wraps[i] ? 24 : 8)) : Number.POSITIVE_INFINITY,
  );
  const total = () => widths.reduce((a, w) => a + w, 0) + GAP * (widths.length - 1);
  // The columns named give up space in the order named; otherwise the widest first.
  const order = opts.flexible ? [...opts.flexible, ...(opts.wrap ?? [])].map((h) => headers.indexOf(h)).filter((i) => i >= 0) : undefined;
  while (total() > limit) {
    let next = -1;
    if (order) next = order.find((i) => widths[i]! > least[i]!) ?? -1;
    else for (let i = 0; i < widths.length; i++) if (widths[i]! > least[i]! && (next < 0 || widths[i]! > widths[next]!)) next = i;
    if (next < 0) break;
    widths[next] = Math.max(least[next]!, widths[next]! - (total() - limit));
  }
  const t = new Table({
    head: headers,
    chars: NO_BORDERS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
    colWidths: widths,
    colAligns: numeric.map((n) => (n ? 'right' : 'left')),
    wordWrap: false,
    truncate: '…',
  });
  t.push(...text.map((r) => r.map((c, i) => (wraps[i] ? { content: c, wordWrap: true } : c))));
  const lines = t
    .toString()
    .split('\n')
    .map((l) => l.trimEnd());
  const rule = widths.map((w) => '-'.repeat(w)).join(' '.repeat(GAP));
  if (!opts.notes || wraps.some(Boolean)) return [lines[0], rule, ...lines.slice(1)].join('\n');
  // A note under its row (an error, a rejected row), as wide as the output may be: cut
  // with "…" at a terminal's or Slack's width, whole where the width is free.
  const out = [lines[0]!, rule];
  lines.slice(1).forEach((line, k) => {
    out.push(line);
    const note = opts.notes![k]?.replace(/\s*\n\s*/g, ' ');
    if (note) out.push(Number.isFinite(limit) && widthOf(note) > limit ? `${[...note].slice(0, limit - 1).join('')}…` : note);
  });
  return out.join('\n');
}

const n = (x: number) => x.toLocaleString('en-US');
const plural = (k: number, word: string) => `${n(k)} ${word}${k === 1 ? '' : 's'}`;

const HEADLINES: Record<ReturnType<typeof loadClass>, string> = {
  succeeded: 'OK',
  'nothing to do': 'NOTHING TO DO',
  partial: 'PARTIAL',
  failed: 'FAILED',
  cancelled: 'CANCELLED',
};

/** The warning the engine gives for a file's rows of other games: shown once, as a column and a sum, instead. */
const isOtherGamesWarning = (w: string, tables: TableResult[]) =>
  tables.some((t) => t.outOfScope > 0 && w === `${t.outOfScope} rows of ${t.file} belong to other games and were left alone`);

/** The engine's pointer to load_rejects, said as the command that shows them. */
const rejectsPointer = (w: string, historyId: number) =>
  w.replace(/\(see `benchsight sql "select [^`]*load_rejects[^`]*"`; /, `(see them: \`rejects ${historyId}\`; `);

export function renderLoad(r: LoadResult, opts: RenderOptions = {}): string {
  const cls = loadClass(r);
  const word = r.dryRun && (r.status === 'succeeded' || r.status === 'partial') ? 'DRY RUN (nothing changed)' : HEADLINES[cls];
  const inScope = r.tables.reduce((a, t) => a + t.rowsInFile - t.outOfScope, 0);
  const rejected = r.tables.reduce((a, t) => a + t.rejected, 0);
  const loaded = r.tables.reduce((a, t) => a + t.inserted + t.updated, 0);
  const allRejected = r.status !== 'failed' && r.status !== 'cancelled' && rejected > 0 && loaded === 0 && rejected === inScope;
  const head = `${word}: ${r.scope} (${r.operation}) in ${(r.durationMs / 1000).toFixed(2)} s, history #${r.historyId}${
    allRejected ? ` — nothing was loaded: every one of the ${plural(rejected, 'row')} was rejected` : ''
  }`;
  if (r.status === 'cancelled') return `${head}\nNothing was changed.`;
  if (r.status === 'failed')
    return `${head}\n${r.error ? formatError(r.error) : 'unknown error'}\nNothing was changed.${r.drift ? `\n\n${renderDriftPlan(r.drift)}` : ''}`;

  const otherGames = r.tables.some((t) => t.outOfScope > 0);
  const headers = [
    'table',
    'operation',
    'in file',
    ...(otherGames ? ['other games'] : []),
    'inserted',
    'updated',
    'deleted',
    'unchanged',
    'rejected',
    'reasons',
  ];
  const rows = r.tables.map((t) => [
    t.table,
    t.operation,
    t.rowsInFile,
    ...(otherGames ? [t.outOfScope] : []),
    t.inserted,
    t.updated,
    t.deleted,
    t.unchanged,
    t.rejected,
    Object.entries(t.rejectedByReason)
      .map(([k, v]) => `${k}:${v}`)
      .join(' '),
  ]);
  // Within a width, columns go before a table's name is cut: the reasons (said under the
  // table instead), then the operation when every table had the headline's.
  const fits = (g: string) => opts.width === undefined || g.split('\n').every((l) => widthOf(l) <= opts.width!);
  const without = (drop: string[]) => {
    const keep = headers.map((h, i) => (drop.includes(h) ? -1 : i)).filter((i) => i >= 0);
    return table(
      keep.map((i) => headers[i]!),
      rows.map((x) => keep.map((i) => x[i])),
      { ...opts, flexible: ['table'], least: { table: 20 } },
    );
  };
  let grid = without([]);
  const reasonsBelow = !fits(grid);
  if (reasonsBelow) grid = without(['reasons']);
  if (!fits(grid) && r.tables.every((t) => t.operation === r.operation)) grid = without(['reasons', 'operation']);
  const out = [head, grid];
  if (cls === 'nothing to do') out.push('every row of the files was already there: nothing changed');
  if (otherGames) {
    const k = r.tables.reduce((a, t) => a + t.outOfScope, 0);
    out.push(`${plural(k, 'row')} of other games in the files were left alone (column "other games")`);
  }
  if (reasonsBelow && rejected > 0) {
    const why = r.tables
      .filter((t) => t.rejected > 0)
      .map(
        (t) =>
          `${t.table} ${Object.entries(t.rejectedByReason)
            .map(([k, v]) => `${n(v)} ${k}`)
            .join(', ')}`,
      );
    out.push(`rejected: ${why.join('; ')}`);
  }
  if (rejected > 0 && !r.dryRun) out.push(`rejected rows, with their line and reason: \`rejects ${r.historyId}\``);
  const drift = renderLoadDrift(r);
  if (drift) out.push(drift);
  if (cls === 'partial') out.push('PARTIAL: the rows above were loaded and committed, but not all is well:');
  if (qualityErrors(r) > 0)
    out.push(
      `warning: the data-quality rules found ${plural(qualityErrors(r), 'ERROR')} in the games this load touched (below): the rows stand; fix the export and load again`,
    );
  for (const w of r.warnings) if (!isOtherGamesWarning(w, r.tables)) out.push(`warning: ${rejectsPointer(w, r.historyId)}`);
  if (r.findings) out.push(...renderFindings(r.findings.errors, r.findings.warnings, r.findings.items, r.findings.truncated, concerningErrors(r)));
  return out.join('\n');
}

/**
 * The data-quality rules' answer after a change: every ERROR (up to 10), the WARNINGs
 * one line per rule with how many and in which games; `validate` shows them all.
 */
function renderFindings(errors: number, warnings: number, items: Finding[], truncated: number, concerning: Finding[]): string[] {
  if (errors + warnings === 0) return ['data quality: every rule holds'];
  const out = [`data quality: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`];
  const errs = items.filter((f) => f.severity === 'ERROR');
  for (const f of concerning.slice(0, 10)) out.push(`  ERROR [${f.rule}] ${f.message}`);
  // ERRORs about tables this load did not change: there before it, said once.
  const others = errs.filter((f) => !concerning.includes(f));
  if (others.length) {
    const rules = [...new Set(others.map((f) => f.rule))];
    out.push(`  and ${plural(others.length, 'ERROR')} about tables this load did not change (${rules.join(', ')}): \`validate\` shows them`);
  }
  const byRule = new Map<string, Set<number>>();
  const count = new Map<string, number>();
  for (const f of items) {
    if (f.severity !== 'WARNING') continue;
    byRule.set(f.rule, (byRule.get(f.rule) ?? new Set()).add(f.gameId));
    count.set(f.rule, (count.get(f.rule) ?? 0) + 1);
  }
  for (const [rule, games] of byRule) {
    const ids = [...games].sort((a, b) => a - b);
    out.push(
      `  WARNING [${rule}] ${truncated ? '' : `×${count.get(rule)} `}in game${ids.length === 1 ? '' : 's'} ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}`,
    );
  }
  if (truncated)
    out.push(`  (the rules and games of the first ${n(items.length)} of ${n(items.length + truncated)} findings) \`validate\` shows every finding`);
  else if (concerning.length > 10 || warnings > 0) out.push('  `validate` shows every finding');
  return out;
}

export function renderRejects(r: RejectsReport, opts: RenderOptions = {}): string {
  const what = `#${r.historyId} ${r.load.scope ?? ''} (${r.load.status}${r.load.dryRun ? ', dry run' : ''}, ${r.load.startedAt}, by ${r.load.initiatedBy})`;
  if (!r.total) {
    if (r.load.dryRun) return `${what}: a dry run keeps no rejected rows (it changed nothing); run the load to keep them`;
    if (r.recorded > 0)
      return `${what}: its ${plural(r.recorded, 'rejected row')} are no longer kept (rejected rows are kept ${r.retentionDays ?? '?'} days: bs_settings.rejects_retention_days)`;
    return `${what}: no row was rejected`;
  }
  const out = [`${what}: ${plural(r.total, 'rejected row')}`];
  out.push(
    table(
      ['table', 'reason', 'rows'],
      r.counts.map((c) => [c.table, c.reason, c.rows]),
      opts,
    ),
  );
  out.push('');
  // Each rejected row under its line: the row as read, cut to the width (--csv has it whole).
  out.push(
    table(
      ['line', 'table', 'reason'],
      r.rows.map((x) => [x.line, x.table, `${x.reason}: ${x.detail}`]),
      { ...opts, flexible: ['reason'], least: { reason: 20 }, notes: r.rows.map((x) => `  ↳ ${rowText(x.row)}`) },
    ),
  );
  const tables = [...new Set(r.counts.map((c) => c.table))];
  const csv = `benchsight rejects ${r.historyId}${tables.length > 1 ? ' <table>' : ''} --csv`;
  if (r.rows.length < r.total) out.push(`the first ${n(r.rows.length)} of ${n(r.total)}; all of them: ${csv} (or --json)`);
  return out.join('\n');
}

/** What a history entry did to rows: +inserted ~updated -deleted ✗rejected, the zeros left out. */
function rowsText(h: { rows_inserted: number | null; rows_updated: number | null; rows_deleted: number | null; rows_rejected: number | null }): string {
  const parts = [
    [h.rows_inserted, '+'],
    [h.rows_updated, '~'],
    [h.rows_deleted, '-'],
    [h.rows_rejected, '✗'],
  ] as const;
  const said = parts.filter(([v]) => v).map(([v, sign]) => `${sign}${n(v!)}`);
  return said.length ? said.join(' ') : parts.some(([v]) => v === 0) ? '0' : '';
}

function seconds(ms: number | null): string {
  return ms === null ? '' : (ms / 1000).toFixed(1);
}

/** A row as `header=value` pairs, the empty ones left out. */
function rowText(row: Record<string, unknown>): string {
  return Object.entries(row)
    .filter(([, v]) => v !== null && v !== '')
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

export function renderOutcome(o: Outcome, opts: RenderOptions = {}): string {
  switch (o.kind) {
    case 'load':
      return renderLoad(o.result, opts);
    case 'rejects':
      return renderRejects(o.report, opts);
    case 'history':
      if (!o.rows.length) return 'no loads recorded yet';
      return table(
        ['id', 'started', 'status', 'what', 'op', 'rows', 's', 'by'],
        o.rows.map((h) => [
          h.id,
          h.started_at.slice(5, 16),
          h.status,
          h.table_name ?? h.scope,
          h.operation,
          rowsText(h),
          seconds(h.duration_ms),
          h.initiated_by,
        ]),
        {
          ...opts,
          flexible: ['by', 'rows', 'what'],
          least: { by: 8, rows: 8, what: 12 },
          notes: o.rows.map((h) => (h.error_message ? `  ↳ ${h.error_message}` : undefined)),
        },
      );
    case 'counts':
      return table(
        ['table', 'rows'],
        o.rows.map((c) => [c.table, c.rows]),
        opts,
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
