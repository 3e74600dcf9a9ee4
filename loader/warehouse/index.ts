/**
 * The one declaration of the BenchSight warehouse: tables, categories, keys, game
 * columns, relations, load order, default operations and the header → column mapping.
 * The SQL schema (sql/migrations/000001_warehouse.sql and its catalog tables) is
 * generated from it, and every TypeScript entry point reads it from here.
 */
import { CATEGORIES, type Category, type ColumnDecl, type Operation, type TableDecl } from './define';
import { dimPlayer, dimSchedule, dimTeam } from './tables/dims';
import { factEvents, factEventsPlayer, factShifts, factShiftsPlayer } from './tables/core-facts';
import { factGoalieGameStats, factPlayerGameStats, factTeamGameStats } from './tables/stats-facts';
import { factH2h, factWowy } from './tables/analytics-facts';

export * from './define';
export { columnNameFor, isPlainIdentifier } from './naming';

export interface Relation {
  table: string;
  column: string;
  parent: string;
  parentColumn: string;
}

/** Declared in load order within each category. */
const DECLARED: TableDecl[] = [
  dimPlayer,
  dimTeam,
  dimSchedule,
  factShifts,
  factEvents,
  factEventsPlayer,
  factShiftsPlayer,
  factPlayerGameStats,
  factTeamGameStats,
  factGoalieGameStats,
  factH2h,
  factWowy,
];

/**
 * The relations of DATA.md, as rules over column names. They are "soft" foreign keys:
 * checked by the loader (orphans become rejects) and by `check_relations()`, not by
 * constraint triggers; sql/README.md explains why.
 */
const RELATION_RULES: { columns: string[]; parent: string; onlyIn?: string[] }[] = [
  { columns: ['game_id'], parent: 'dim_schedule' },
  { columns: ['player_id', 'player_1_id', 'player_2_id'], parent: 'dim_player' },
  { columns: ['team_id', 'home_team_id', 'away_team_id', 'player_team_id'], parent: 'dim_team' },
  { columns: ['event_key'], parent: 'fact_events', onlyIn: ['fact_events_player'] },
  { columns: ['shift_key'], parent: 'fact_shifts', onlyIn: ['fact_shifts_player'] },
];

function deriveRelations(tables: TableDecl[]): Relation[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const out: Relation[] = [];
  for (const t of tables) {
    for (const rule of RELATION_RULES) {
      if (rule.parent === t.name || (rule.onlyIn && !rule.onlyIn.includes(t.name))) continue;
      const parent = byName.get(rule.parent);
      if (parent?.key.length !== 1) throw new Error(`relation parent ${rule.parent} needs a one-column key`);
      for (const c of t.columns) {
        if (rule.columns.includes(c.name)) out.push({ table: t.name, column: c.name, parent: parent.name, parentColumn: parent.key[0]! });
      }
    }
  }
  return out;
}

export const RELATIONS: readonly Relation[] = Object.freeze(deriveRelations(DECLARED));

/** Category first, then parents before children (stable in declared order). */
function orderForLoad(tables: TableDecl[]): TableDecl[] {
  const rank = (t: TableDecl) => CATEGORIES.indexOf(t.category);
  const out: TableDecl[] = [];
  const pending = [...tables].sort((a, b) => rank(a) - rank(b));
  while (pending.length) {
    const i = pending.findIndex((t) =>
      RELATIONS.every((r) => r.table !== t.name || r.parent === t.name || out.some((o) => o.name === r.parent) || !pending.some((p) => p.name === r.parent)),
    );
    if (i < 0) throw new Error('warehouse declaration: relation cycle');
    out.push(pending.splice(i, 1)[0]!);
  }
  return out;
}

/** Every warehouse table, in load order (dims, core, stats, analytics; parents first). */
export const WAREHOUSE: readonly TableDecl[] = Object.freeze(orderForLoad(DECLARED));

export const TABLE_NAMES: readonly string[] = WAREHOUSE.map((t) => t.name);

/** Named groups of tables that a request can address. */
export const GROUPS = ['dims', 'core_facts', 'stats_facts', 'analytics_facts', 'all_facts', 'all'] as const;
export type Group = (typeof GROUPS)[number];

export function isTableName(name: string): boolean {
  return TABLE_NAMES.includes(name);
}

export function tableNamed(name: string): TableDecl {
  const t = WAREHOUSE.find((x) => x.name === name);
  if (!t) throw new Error(`unknown table "${name}"; tables are: ${TABLE_NAMES.join(', ')}`);
  return t;
}

export function tablesOf(group: Group | Category): TableDecl[] {
  if (group === 'all') return [...WAREHOUSE];
  if (group === 'all_facts') return WAREHOUSE.filter((t) => t.category !== 'dims');
  return WAREHOUSE.filter((t) => t.category === group);
}

/** Sorts any set of tables into load order; deletes run in the reverse of this. */
export function inLoadOrder<T extends { name: string }>(tables: T[]): T[] {
  return [...tables].sort((a, b) => TABLE_NAMES.indexOf(a.name) - TABLE_NAMES.indexOf(b.name));
}

export function relationsOf(table: string): Relation[] {
  return RELATIONS.filter((r) => r.table === table);
}

export type { Category, Operation, TableDecl, ColumnDecl };
