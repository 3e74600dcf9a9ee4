/**
 * How the ETL (pandas `to_csv`) writes values, so that generated files look exactly
 * like the real export:
 *
 * - NULL is an empty cell; a field is quoted only when it holds a comma, a quote or a
 *   line break (quotes doubled); lines end with `\n`.
 * - `numeric` columns are float64: always with a decimal point (`0.0`, `87.5`).
 * - `integer` columns are written as plain integers (`12`), except the ones pandas
 *   carried as float64, which it writes as `1730.0`. Those are listed below as ranges
 *   of headers in declaration order (the real export groups them that way), not one
 *   by one; the test compares this rule with the real files.
 * - booleans as Python writes them (`True`/`False`), dates and timestamps as
 *   `2024-09-15 00:00:00`, times as `18:45:00`.
 */
import type { ColumnDecl, TableDecl } from '../warehouse';

/** Integer columns written as pandas floats: inclusive [first, last] header ranges. */
const FLOAT_WRITTEN_INTEGERS: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  dim_player: [['birth_year', 'birth_year']],
  fact_shifts: [['Period', 'shift_end_running_time']],
  fact_events: [['period', 'event_running_end']],
  fact_events_player: [['event_index', 'event_running_end']],
  fact_shifts_player: [
    ['period', 'pm_minus_ev'],
    ['team_en', 'team_pk'],
    ['cumulative_shift_duration', 'running_playing_toi'],
  ],
  fact_player_game_stats: [
    ['toi_seconds', 'stoppage_seconds'],
    ['zone_entry_carry', 'zone_exits_uncontrolled'],
    ['giveaways_bad', 'fo_losses_dz'],
    ['shots_successful', 'cross_ice_passes_received'],
    ['times_targeted_by_opp', 'support_plays'],
  ],
  fact_team_game_stats: [['total_shots', 'total_screens']],
  fact_goalie_game_stats: [['saves_rebound', 'total_save_events']],
};

export type ValueStyle = 'text' | 'int' | 'float' | 'bool' | 'timestamp' | 'time';
export type Cell = string | number | boolean | null | undefined;
export type Row = Record<string, Cell>;

/** Headers of `table` whose integers are written as floats; throws if a range no longer fits the declaration. */
export function floatWrittenIntegers(table: TableDecl): Set<string> {
  const out = new Set<string>();
  const headers = table.columns.map((c) => c.header);
  for (const [first, last] of FLOAT_WRITTEN_INTEGERS[table.name] ?? []) {
    const from = headers.indexOf(first);
    const to = headers.indexOf(last);
    if (from < 0 || to < from) throw new Error(`value style: range ${first}..${last} does not fit the declaration of ${table.name}`);
    for (const c of table.columns.slice(from, to + 1)) if (c.type === 'integer' || c.type === 'bigint') out.add(c.header);
  }
  return out;
}

export function styleOf(column: ColumnDecl, floatIntegers: Set<string>): ValueStyle {
  switch (column.type) {
    case 'integer':
    case 'bigint':
      return floatIntegers.has(column.header) ? 'float' : 'int';
    case 'numeric':
      return 'float';
    case 'boolean':
      return 'bool';
    case 'date':
    case 'timestamp':
      return 'timestamp';
    case 'time':
      return 'time';
    default:
      return 'text';
  }
}

export const NEEDS_QUOTES = /[",\r\n]/;

export function quoteIfNeeded(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

// Most numbers in the export are small whole numbers (indexes, clock seconds, counts).
export const CACHED = 10_000;
export const INT_TEXT: readonly string[] = Array.from({ length: CACHED }, (_, i) => String(i));
export const FLOAT_INT_TEXT: readonly string[] = Array.from({ length: CACHED }, (_, i) => `${i}.0`);

/** A float64 as Python writes it: `1730.0`, `87.5`, `-0.03`; NaN is NULL. */
export function floatText(v: number): string {
  if (Number.isInteger(v)) return v >= 0 && v < CACHED ? FLOAT_INT_TEXT[v]! : `${v}.0`;
  return Number.isFinite(v) ? String(v) : '';
}

function intText(v: number): string {
  return v >= 0 && v < CACHED ? INT_TEXT[v]! : String(v);
}

/** Writes one non-NULL value of a column; `header` only names the column in errors. */
export type CellFormatter = (v: Exclude<Cell, null | undefined>, header: string) => string;

export const CELL_FORMATTERS: Readonly<Record<ValueStyle, CellFormatter>> = {
  text: (v) => (typeof v === 'string' ? quoteIfNeeded(v) : String(v)),
  int: (v, header) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`generator bug: integer column ${header} got ${String(v)}`);
    return intText(v);
  },
  float: (v, header) => {
    if (typeof v !== 'number') throw new Error(`generator bug: numeric column ${header} got ${String(v)}`);
    return floatText(v);
  },
  bool: (v) => (v === true ? 'True' : v === false ? 'False' : quoteIfNeeded(String(v))),
  timestamp: (v) => String(v),
  time: (v) => String(v),
};

/** `2024-09-15 00:00:00` for a day counted from 1970-01-01 (UTC arithmetic, no clock). */
export function timestampOfDay(day: number): string {
  const d = new Date(day * 86_400_000);
  const p = (x: number) => String(x).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} 00:00:00`;
}

/** `HH:MM:SS` for a number of seconds. */
export function clockText(seconds: number): string {
  const p = (x: number) => String(x).padStart(2, '0');
  return `${p(Math.floor(seconds / 3600))}:${p(Math.floor(seconds / 60) % 60)}:${p(seconds % 60)}`;
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  const r = Math.round(v * f) / f;
  return r === 0 ? 0 : r; // never -0, which Python would write as -0.0
}
