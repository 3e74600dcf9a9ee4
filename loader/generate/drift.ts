/**
 * Drifted exports: an export (generated, or a real one) rewritten the way later versions
 * of BenchSight's ETL write theirs, one kind of change at a time or several, so that tests
 * and demos meet every kind without real later exports (`benchsight generate --drift
 * <kind>[,<kind>]`). What each kind does, for every table it applies to:
 *
 *   columns-added    new columns: the goalie stats gain 16 (toi_minutes, playing_toi_seconds,
 *                    gaa, xga, gsax, …), every other table an `etl_batch` column
 *   columns-dropped  player stats cut to their first 63 columns, team stats to 18, events
 *                    lose their *_id detail columns, h2h keeps game + its 2 players + one
 *                    measure (no key), every other fact table loses its last two measures
 *   key-dropped      every fact table without its surrogate key column (h2h_key, shift_key …)
 *   renamed          dim_schedule `date` → `game_date_str` (a date), fact_wowy
 *                    `p1_logical_shifts`/`p2_logical_shifts` → `total_p1_shifts`/`total_p2_shifts`
 *   index-leaked     a pandas index `row_index` as the first column, the other columns reversed
 *   second-key       `player_game_key` beside `goalie_game_key`, `shift_tracking_key` beside `shift_key`
 *   key-format       every fact table's keys in another format for the same rows
 *                    (GK1896900001 → GGK18969_P100202), relations following them
 *   grain            fact_wowy gains `player_id`/`teammate_id`: each pair twice, once from
 *                    each player's side, keys numbered again
 *   retyped          an integer column holding fractions: goalie `toi_seconds`, shift `stoppage_time`
 *
 * A file is read and written whole (an export of a few hundred games at most is a few
 * hundred MB); values keep the export's styles.
 */
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { columnNameFor, tableNamed, TABLE_NAMES, type TableDecl } from '../warehouse';
import { DRIFT_KINDS } from '../warehouse/define';
import { quoteIfNeeded } from './value-style';

export { DRIFT_KINDS };
export type DriftKind = (typeof DRIFT_KINDS)[number];

/** One file, as its header and rows of text (empty text: no value). */
export interface CsvTable {
  header: string[];
  rows: string[][];
}

export interface DriftReport {
  kinds: DriftKind[];
  /** What changed, per table. */
  changes: { table: string; what: string[] }[];
}

export class DriftError extends Error {}

/** Reads `<table>.csv` of every warehouse table in `inDir`, applies the kinds in order, writes them to `outDir`. */
export async function driftExport(inDir: string, outDir: string, kinds: DriftKind[]): Promise<DriftReport> {
  for (const k of kinds)
    if (!(DRIFT_KINDS as readonly string[]).includes(k)) throw new DriftError(`unknown drift kind ${JSON.stringify(k)}; kinds are: ${DRIFT_KINDS.join(', ')}`);
  const present = new Set((await readdir(inDir).catch(() => [])).filter((f) => f.endsWith('.csv')).map((f) => f.slice(0, -4)));
  const tables = new Map<string, CsvTable>();
  for (const name of TABLE_NAMES) {
    if (present.has(name)) tables.set(name, parseCsv(await readFile(path.join(inDir, `${name}.csv`), 'utf8')));
  }
  if (!tables.size) throw new DriftError(`no export in ${inDir}: it has none of the files <table>.csv`);
  const report = driftTables(tables, kinds);
  await mkdir(outDir, { recursive: true });
  for (const [name, t] of tables) await writeFile(path.join(outDir, `${name}.csv`), formatCsv(t));
  return report;
}

/** The kinds applied to files in memory (what driftExport writes). */
export function driftTables(tables: Map<string, CsvTable>, kinds: DriftKind[]): DriftReport {
  const changes = new Map<string, string[]>();
  const note = (table: string, what: string) => changes.set(table, [...(changes.get(table) ?? []), what]);
  for (const kind of kinds) KINDS[kind](tables, note);
  return { kinds, changes: [...changes].map(([table, what]) => ({ table, what })) };
}

type Note = (table: string, what: string) => void;
type Transform = (tables: Map<string, CsvTable>, note: Note) => void;

const facts = (tables: Map<string, CsvTable>) => [...tables].filter(([name]) => tableNamed(name).category !== 'dims');

/** The column of `header` that is declared column `name` (by the header rule, or already renamed). */
function at(t: CsvTable, name: string): number {
  return t.header.findIndex((h) => columnNameFor(h) === name);
}

function addColumn(t: CsvTable, header: string, value: (row: string[], i: number) => string, position = t.header.length): void {
  t.header.splice(position, 0, header);
  t.rows.forEach((r, i) => r.splice(position, 0, value(r, i)));
}

function dropColumns(t: CsvTable, keep: (name: string, i: number) => boolean): string[] {
  const idx = t.header.map((h, i) => (keep(columnNameFor(h), i) ? i : -1)).filter((i) => i >= 0);
  const dropped = t.header.filter((_, i) => !idx.includes(i));
  t.header = idx.map((i) => t.header[i]!);
  t.rows = t.rows.map((r) => idx.map((i) => r[i] ?? ''));
  return dropped;
}

const num = (v: string | undefined) => (v === undefined || v === '' ? Number.NaN : Number(v));
const float = (v: number) => (Number.isFinite(v) ? (Number.isInteger(v) ? `${v}.0` : String(Math.round(v * 100) / 100)) : '');

/** Columns that identify a row or hold it to others: never dropped by `columns-dropped`. */
function identity(decl: TableDecl): Set<string> {
  return new Set([...decl.key, ...decl.naturalKey, ...(decl.gameColumn ? [decl.gameColumn] : []), 'event_key', 'shift_key', 'player_id']);
}

const KINDS: Record<DriftKind, Transform> = {
  'columns-added'(tables, note) {
    const g = tables.get('fact_goalie_game_stats');
    if (g) {
      const v = (r: string[], c: string) => num(r[at(g, c)]);
      const toi = (r: string[]) => v(r, 'toi_seconds');
      const extra: [string, (r: string[]) => string][] = [
        ['toi_minutes', (r) => float(toi(r) / 60)],
        ['playing_toi_seconds', (r) => float(toi(r) * 0.9)],
        ['playing_toi_minutes', (r) => float((toi(r) * 0.9) / 60)],
        ['gaa', (r) => float((v(r, 'goals_against') * 3600) / toi(r))],
        ['xga', (r) => float(v(r, 'shots_against') * 0.11)],
        ['gsax', (r) => float(v(r, 'shots_against') * 0.11 - v(r, 'goals_against'))],
        ['saves_per_60', (r) => float((v(r, 'saves') * 3600) / toi(r))],
        ['shots_against_per_60', (r) => float((v(r, 'shots_against') * 3600) / toi(r))],
        ['high_danger_shots', (r) => String(Math.round(v(r, 'shots_against') / 4) || 0)],
        ['high_danger_saves', (r) => String(Math.max(0, Math.round(v(r, 'shots_against') / 4) - v(r, 'goals_against')) || 0)],
        ['hd_save_pct', () => float(80)],
        ['rebounds_allowed', (r) => String(Math.round(v(r, 'saves') / 5) || 0)],
        ['freeze_pct', (r) => float((v(r, 'saves_freeze') / Math.max(1, v(r, 'saves'))) * 100)],
        ['glove_pct', (r) => float((v(r, 'saves_glove') / Math.max(1, v(r, 'saves'))) * 100)],
        ['blocker_pct', (r) => float((v(r, 'saves_blocker') / Math.max(1, v(r, 'saves'))) * 100)],
        ['pad_pct', (r) => float(((v(r, 'saves_left_pad') + v(r, 'saves_right_pad')) / Math.max(1, v(r, 'saves'))) * 100)],
      ];
      for (const [h, f] of extra) addColumn(g, h, f);
      note('fact_goalie_game_stats', `added ${extra.length} columns: ${extra.map(([h]) => h).join(', ')}`);
    }
    for (const [name, t] of tables) {
      if (name === 'fact_goalie_game_stats') continue;
      addColumn(t, 'etl_batch', () => '2');
      note(name, 'added column etl_batch');
    }
  },

  'columns-dropped'(tables, note) {
    for (const [name, t] of facts(tables)) {
      const decl = tableNamed(name);
      const keep = identity(decl);
      let dropped: string[];
      if (name === 'fact_player_game_stats') dropped = dropColumns(t, (c, i) => i < 63 || keep.has(c));
      else if (name === 'fact_team_game_stats') dropped = dropColumns(t, (c, i) => i < 18 || keep.has(c));
      else if (name === 'fact_events') dropped = dropColumns(t, (c) => !c.endsWith('_id') || keep.has(c));
      else if (name === 'fact_h2h') dropped = dropColumns(t, (c) => ['game_id', 'player_1_id', 'player_2_id', 'toi_together'].includes(c));
      else {
        const measures = t.header.map((h) => columnNameFor(h)).filter((c) => !keep.has(c) && !/_(id|key|name)$/.test(c));
        const last = new Set(measures.slice(-2));
        dropped = dropColumns(t, (c) => !last.has(c));
      }
      note(name, `dropped ${dropped.length} columns (${t.header.length} left)`);
    }
  },

  'key-dropped'(tables, note) {
    for (const [name, t] of facts(tables)) {
      const key = tableNamed(name).key[0]!;
      if (at(t, key) < 0) continue;
      dropColumns(t, (c) => c !== key);
      note(name, `dropped its key column ${key}`);
    }
  },

  renamed(tables, note) {
    const s = tables.get('dim_schedule');
    const d = s ? at(s, 'date') : -1;
    if (s && d >= 0) {
      s.header[d] = 'game_date_str';
      for (const r of s.rows) r[d] = (r[d] ?? '').slice(0, 10);
      note('dim_schedule', 'renamed date → game_date_str (a date)');
    }
    const w = tables.get('fact_wowy');
    if (w) {
      for (const [from, to] of [
        ['p1_logical_shifts', 'total_p1_shifts'],
        ['p2_logical_shifts', 'total_p2_shifts'],
      ] as const) {
        const i = at(w, from);
        if (i < 0) continue;
        w.header[i] = to;
        note('fact_wowy', `renamed ${from} → ${to}`);
      }
    }
  },

  'index-leaked'(tables, note) {
    for (const [name, t] of tables) {
      const order = t.header.map((_, i) => i).reverse();
      t.header = order.map((i) => t.header[i]!);
      t.rows = t.rows.map((r) => order.map((i) => r[i] ?? ''));
      addColumn(t, 'row_index', (_, i) => String(i), 0);
      note(name, 'a pandas index row_index first, the other columns in reverse order');
    }
  },

  'second-key'(tables, note) {
    const g = tables.get('fact_goalie_game_stats');
    if (g && at(g, 'goalie_game_key') >= 0) {
      const [game, player] = [at(g, 'game_id'), at(g, 'player_id')];
      addColumn(g, 'player_game_key', (r) => `PG${r[game]}_${r[player]}`, at(g, 'goalie_game_key') + 1);
      note('fact_goalie_game_stats', 'added player_game_key beside goalie_game_key');
    }
    const s = tables.get('fact_shifts');
    if (s && at(s, 'shift_key') >= 0) {
      const [game, idx] = [at(s, 'game_id'), at(s, 'shift_index')];
      addColumn(s, 'shift_tracking_key', (r) => `ST${r[game]}-${(r[idx] ?? '').replace(/\.0$/, '')}`, at(s, 'shift_key') + 1);
      note('fact_shifts', 'added shift_tracking_key beside shift_key');
    }
  },

  'key-format'(tables, note) {
    const renamed = new Map<string, Map<string, string>>(); // table → old key → new key
    for (const [name, t] of facts(tables)) {
      const decl = tableNamed(name);
      const k = at(t, decl.key[0]!);
      if (k < 0) continue;
      const parts = decl.naturalKey.map((c) => at(t, c));
      if (parts.some((i) => i < 0)) continue;
      const prefix = (decl.keyRule ?? 'X').replace(/\{.*$/, '');
      const map = new Map<string, string>();
      let n = 0;
      for (const r of t.rows) {
        const values = parts.map((i) => (r[i] ?? '').replace(/\.0$/, ''));
        const required = decl.naturalKey.map((c, j) => decl.naturalKeyNullable.includes(c) || values[j] !== '');
        if (!required.every(Boolean) || !r[k]) continue;
        const next = `${prefix[0]}${prefix}${values[0]}_${values.slice(1).join('_')}`;
        map.set(r[k]!, next);
        r[k] = next;
        n++;
      }
      renamed.set(decl.key[0]!, map);
      note(name, `${n} keys in a new format (${[...map].slice(0, 1).map(([a, b]) => `${a} → ${b}`)})`);
    }
    // Relations follow the keys they point to (fact_events_player.event_key, fact_shifts_player.shift_key, fact_events.shift_key).
    for (const [name, t] of facts(tables)) {
      for (const col of ['event_key', 'shift_key']) {
        const i = at(t, col);
        const map = renamed.get(col);
        if (i < 0 || !map || tableNamed(name).key[0] === col) continue;
        for (const r of t.rows) r[i] = map.get(r[i] ?? '') ?? r[i]!;
      }
    }
  },

  grain(tables, note) {
    const w = tables.get('fact_wowy');
    if (!w) return;
    const [game, p1, p2, key] = ['game_id', 'player_1_id', 'player_2_id', 'wowy_key'].map((c) => at(w, c)) as [number, number, number, number];
    const rows: string[][] = [];
    for (const r of w.rows) rows.push([...r, r[p1]!, r[p2]!], [...r, r[p2]!, r[p1]!]);
    w.header.push('player_id', 'teammate_id');
    if (key >= 0) {
      const seq = new Map<string, number>();
      for (const r of rows) {
        const n = (seq.get(r[game]!) ?? 0) + 1;
        seq.set(r[game]!, n);
        r[key] = `WY${r[game]}${String(n).padStart(5, '0')}`;
      }
    }
    w.rows = rows;
    note('fact_wowy', `a finer grain: player_id and teammate_id added, each pair twice (${rows.length} rows), keys numbered again`);
  },

  retyped(tables, note) {
    for (const [name, col] of [
      ['fact_goalie_game_stats', 'toi_seconds'],
      ['fact_shifts', 'stoppage_time'],
    ] as const) {
      const t = tables.get(name);
      const i = t ? at(t, col) : -1;
      if (!t || i < 0) continue;
      let n = 0;
      for (const r of t.rows) {
        if (r[i] === '' || r[i] === undefined) continue;
        r[i] = String(num(r[i]) + 0.5);
        n++;
      }
      note(name, `${col} holds fractions now (${n} values)`);
    }
  },
};

/** A CSV text as rows of fields (RFC 4180: quoted fields may hold commas, quotes, line breaks). */
export function parseCsv(text: string): CsvTable {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  const [header = [], ...body] = rows;
  return { header, rows: body };
}

export function formatCsv(t: CsvTable): string {
  return `${[t.header, ...t.rows].map((r) => r.map(quoteIfNeeded).join(',')).join('\n')}\n`;
}
