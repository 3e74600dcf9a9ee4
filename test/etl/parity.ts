/**
 * Cell-by-cell parity of the live ETL's rows of a game with the team's export of the same
 * game (csv/fact_*.csv): rows matched by the table's natural key (loader/warehouse), values
 * compared as the export writes them (below, `sameCell`). An export row without a value in a
 * column of the natural key that may not be empty (fact_events_player's rows with no event)
 * is no row of the table: it is counted (`keyless`), not compared.
 *
 * `identity` (optional): columns that say the two rows of a key record the same thing (for
 * an event: its period, type, start time and team). The figures are then also given over the
 * rows whose identity agrees (`sameIdentity`), which tells a formula's gap (a difference
 * there) from a difference of the sources (the team's workbook numbers an event the tracker
 * export does not have, or orders them otherwise, and every later index holds another event).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Database } from '../../loader/db/database';
import { columnNameFor, tableNamed } from '../../loader/warehouse';

export interface ColumnParity {
  column: string;
  equal: number;
  cells: number;
  /** A few cells that differ: the row's natural key, the export's value, the live ETL's. */
  examples: { key: string; real: string; live: string }[];
}

export interface TableParity {
  table: string;
  realRows: number;
  liveRows: number;
  /** Real rows that have a live row with the same natural key. */
  matched: number;
  /** Real rows with no value in a column of the natural key that may not be empty: not compared. */
  keyless: number;
  /** Over every column of the export: cells of the export's rows equal to the live ETL's. */
  allCells: { equal: number; cells: number };
  /** Over the columns the live ETL computes (loader/etl/live-columns.ts). */
  declaredCells: { equal: number; cells: number };
  /** Over the columns the data dictionary defines a formula for (dictionary/dd_<table>.csv), with each one's figure. */
  dictionaryCells: { equal: number; cells: number };
  dictionaryColumns: ColumnParity[];
  /** Columns the export fills (some row) that the live ETL leaves NULL in every row. */
  leftNull: string[];
  /** The declared columns, each with its parity. */
  columns: ColumnParity[];
  /** With `identity`: the rows whose identity columns agree, and the dictionary columns over them. */
  sameIdentity?: { identity: string[]; rows: number; dictionaryCells: { equal: number; cells: number }; dictionaryColumns: ColumnParity[] };
}

type Cell = string | number | boolean | null;

/** The export's text (as pandas wrote it) and the live ETL's value: the same cell? */
export function sameCell(real: string, live: Cell | undefined): boolean {
  const r = real.trim();
  if (live === null || live === undefined) return r === '' || r === 'nan' || r === 'None';
  if (r === '') return typeof live === 'string' && live === '';
  if (typeof live === 'boolean') return ['true', '1', '1.0'].includes(r.toLowerCase()) === live;
  const l = String(live).trim();
  if (l === r) return true;
  const a = Number(r);
  const b = Number(l);
  if (r !== '' && l !== '' && Number.isFinite(a) && Number.isFinite(b)) {
    if (Math.abs(a - b) < 1e-9) return true;
    // The export rounds (33.33, 0.667): the live value rounded to the export's decimals.
    const decimals = r.includes('.') ? r.split('.')[1]!.length : 0;
    return decimals >= 2 && Number(b.toFixed(decimals)) === a;
  }
  // timestamps: 2024-09-15 00:00:00 against 2024-09-15T00:00:00
  return l.replace('T', ' ') === r;
}

const fmt = (v: Cell | undefined) => (v === null || v === undefined ? '∅' : String(v));

export function readExport(csvDir: string, table: string, gameId: number): Record<string, string>[] {
  const rows = parse(readFileSync(path.join(csvDir, `${table}.csv`)), { columns: (h: string[]) => h.map(columnNameFor) }) as Record<string, string>[];
  return rows.filter((r) => Number(r.game_id) === gameId);
}

/** The columns of `table` the data dictionary (dictionary/dd_<table>.csv) gives a formula for; none without its file. */
export function dictionaryColumns(dictionaryDir: string, table: string): string[] {
  const file = path.join(dictionaryDir, `dd_${table}.csv`);
  if (!existsSync(file)) return [];
  const rows = parse(readFileSync(file), { columns: true }) as Record<string, string>[];
  return rows.filter((r) => (r.formula ?? '').trim() !== '').map((r) => columnNameFor(r.column!));
}

export async function tableParity(
  db: Database,
  csvDir: string,
  table: string,
  gameId: number,
  declared: readonly string[],
  dictionary: readonly string[] = [],
  identity: readonly string[] = [],
): Promise<TableParity> {
  const decl = tableNamed(table);
  const required = decl.naturalKey.filter((c) => !decl.naturalKeyNullable.includes(c));
  const exported = readExport(csvDir, table, gameId);
  const real = exported.filter((r) => required.every((c) => (r[c] ?? '').trim() !== ''));
  const live = (await db.query<{ j: Record<string, Cell> }>(`SELECT row_to_json(x) AS j FROM ${table} x WHERE game_id = $1`, [gameId])).rows.map((r) => r.j);
  const keyOf = (get: (c: string) => string) => decl.naturalKey.map((c) => get(c).replace(/\.0+$/, '')).join('|');
  const liveByKey = new Map<string, Record<string, Cell>>();
  for (const l of live) {
    const k = keyOf((c) => fmt(l[c]).replace('∅', ''));
    if (!liveByKey.has(k)) liveByKey.set(k, l);
  }
  const columns = decl.columns.map((c) => c.name).filter((c) => real.length === 0 || c in real[0]!);
  const fresh = () => new Map<string, ColumnParity>(columns.map((c) => [c, { column: c, equal: 0, cells: 0, examples: [] }]));
  const per = fresh();
  const perSame = fresh();
  const count = (m: Map<string, ColumnParity>, key: string, r: Record<string, string>, l: Record<string, Cell> | undefined) => {
    for (const c of columns) {
      const p = m.get(c)!;
      p.cells++;
      if (l && sameCell(r[c] ?? '', l[c])) p.equal++;
      else if (p.examples.length < 3) p.examples.push({ key, real: r[c] ?? '', live: l ? fmt(l[c]) : '(no row)' });
    }
  };
  let matched = 0;
  let sameRows = 0;
  for (const r of real) {
    const key = keyOf((c) => r[c] ?? '');
    const l = liveByKey.get(key);
    if (l) matched++;
    count(per, key, r, l);
    if (identity.length > 0 && l !== undefined && identity.every((c) => sameCell(r[c] ?? '', l[c]))) {
      sameRows++;
      count(perSame, key, r, l);
    }
  }
  const sum = (cols: string[], m = per) =>
    cols.reduce((a, c) => ({ equal: a.equal + (m.get(c)?.equal ?? 0), cells: a.cells + (m.get(c)?.cells ?? 0) }), { equal: 0, cells: 0 });
  const declaredHere = declared.filter((c) => per.has(c));
  const dictionaryHere = dictionary.filter((c) => per.has(c));
  return {
    table,
    realRows: real.length,
    liveRows: live.length,
    matched,
    keyless: exported.length - real.length,
    allCells: sum(columns),
    declaredCells: sum(declaredHere),
    dictionaryCells: sum(dictionaryHere),
    dictionaryColumns: dictionaryHere.map((c) => per.get(c)!),
    leftNull: columns.filter((c) => real.some((r) => (r[c] ?? '').trim() !== '') && live.every((l) => l[c] === null || l[c] === undefined)),
    columns: declaredHere.map((c) => per.get(c)!),
    ...(identity.length > 0 && {
      sameIdentity: {
        identity: [...identity],
        rows: sameRows,
        dictionaryCells: sum(dictionaryHere, perSame),
        dictionaryColumns: dictionaryHere.map((c) => perSame.get(c)!),
      },
    }),
  };
}

export const pct = (x: { equal: number; cells: number }) => (x.cells ? (100 * x.equal) / x.cells : 100);

/** One line per table, then the declared columns under 99% with examples. */
export function formatParity(ps: TableParity[]): string {
  const lines = ['table | rows real/live/matched (+ keyless) | all cells | declared cells | dictionary cells (columns) | left NULL'];
  for (const p of ps) {
    lines.push(
      `${p.table} | ${p.realRows}/${p.liveRows}/${p.matched}${p.keyless ? ` (+${p.keyless})` : ''} | ${pct(p.allCells).toFixed(1)}% | ${pct(p.declaredCells).toFixed(1)}% (${p.declaredCells.equal}/${p.declaredCells.cells}) | ${pct(p.dictionaryCells).toFixed(1)}% (${p.dictionaryColumns.length}) | ${p.leftNull.length}`,
    );
  }
  const under = (cs: ColumnParity[]) =>
    cs
      .filter((x) => pct(x) < 99)
      .map((c) => `${c.column} ${pct(c).toFixed(1)}%`)
      .join(', ');
  for (const p of ps) {
    const low = under(p.dictionaryColumns);
    if (low) lines.push(`  ${p.table}, dictionary columns under 99%: ${low}`);
  }
  for (const p of ps.filter((x) => x.sameIdentity)) {
    const s = p.sameIdentity!;
    lines.push(
      `  ${p.table}, on the ${s.rows} of ${p.realRows} rows whose ${s.identity.join(', ')} agree: dictionary cells ${pct(s.dictionaryCells).toFixed(1)}%; under 99%: ${under(s.dictionaryColumns) || 'none'}`,
    );
  }
  for (const p of ps) {
    for (const c of p.columns.filter((x) => pct(x) < 99)) {
      lines.push(
        `  ${p.table}.${c.column}: ${pct(c).toFixed(1)}%  e.g. ${c.examples.map((e) => `[${e.key}] real ${e.real || '∅'} live ${e.live}`).join('; ')}`,
      );
    }
  }
  return lines.join('\n');
}
