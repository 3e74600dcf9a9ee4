/**
 * The live ETL's formulas on games it has no tracker export for. The team's export holds the
 * core facts (events, the players' events, shifts) of four games: the live ETL's stats and
 * analytics steps (etl_stats_facts, etl_analytics_facts) are run on each game's core facts,
 * in place of the team's stats, and compared cell by cell with the team's stats of the game.
 * Where the event tables of the tracker and of the team's workbook differ (game 18969:
 * test/etl/README.md), this measures the per-game formulas alone, on four games and their
 * quirks (hand-typed details, events of no side, a goalie's save tagged on a skater, teams
 * tracked the other way round from the schedule). Skips when ../shared/data is absent.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveColumns } from '../../loader/etl';
import { folderSource, load } from '../../loader/engine';
import { freshDatabase, type TestDatabase } from '../support/database';
import { hasRealData, REAL_CSV, REAL_EXPORT } from '../support/real-data';
import { type ColumnParity, dictionaryColumns, formatParity, pct, tableParity, type TableParity } from './parity';

/** The tables the two steps write, children last. */
const STEP_TABLES = ['fact_player_game_stats', 'fact_team_game_stats', 'fact_goalie_game_stats', 'fact_h2h', 'fact_wowy'] as const;

// The one dictionary column no source holds: the workbook's goalie display name
// ("5 – Francis Forte (G)", "Wyatt Crandall – 5"), from the league's game roster.
const NOT_IN_ANY_SOURCE: Record<string, readonly string[]> = { fact_goalie_game_stats: ['player_name'] };

describe.skipIf(!hasRealData)('the live ETL’s stats and analytics on the team’s core facts of each of its games (real data)', () => {
  let t: TestDatabase;
  let games: number[] = [];
  const parity = new Map<number, TableParity[]>();

  beforeAll(async () => {
    t = await freshDatabase({ migrated: true });
    const r = await load(t.db, { scope: { kind: 'all' }, operation: 'replace', source: folderSource(REAL_CSV), initiatedBy: 'test' });
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    games = (await t.db.query<{ g: number }>('SELECT DISTINCT game_id AS g FROM fact_events ORDER BY 1')).rows.map((x) => x.g);
    for (const g of games) {
      await t.db.transaction(async (tx) => {
        for (const table of [...STEP_TABLES].reverse()) await tx.query(`DELETE FROM ${table} WHERE game_id = $1`, [g]);
        await tx.query('SELECT etl_stats_facts($1), etl_analytics_facts($1)', [g]);
      });
      const ps: TableParity[] = [];
      for (const table of STEP_TABLES)
        ps.push(await tableParity(t.db, REAL_CSV, table, g, liveColumns(table), dictionaryColumns(path.join(REAL_EXPORT, 'dictionary'), table)));
      parity.set(g, ps);
      process.stdout.write(`\ngame ${g}: the live ETL's stats and analytics steps on the team's core facts\n${formatParity(ps)}\n`);
    }
  }, 180_000);
  afterAll(async () => t?.drop());

  /** A table's dictionary columns over every game, each column's cells pooled. */
  const pooled = (table: string): ColumnParity[] => {
    const byColumn = new Map<string, ColumnParity>();
    for (const ps of parity.values())
      for (const c of ps.find((p) => p.table === table)!.dictionaryColumns) {
        const into = byColumn.get(c.column) ?? { column: c.column, equal: 0, cells: 0, examples: [] };
        byColumn.set(c.column, { ...into, equal: into.equal + c.equal, cells: into.cells + c.cells, examples: [...into.examples, ...c.examples].slice(0, 3) });
      }
    return [...byColumn.values()];
  };

  it('runs on every game of the export, with the team’s rows of each table matched', () => {
    expect(games.length).toBeGreaterThanOrEqual(4);
    for (const [g, ps] of parity)
      for (const p of ps) expect({ game: g, table: p.table, matched: p.matched }).toEqual({ game: g, table: p.table, matched: p.realRows });
  });

  it.each(STEP_TABLES)('computes every column of %s the data dictionary defines as the team’s ETL does: at least 99%% of its cells over its games', (table) => {
    const columns = pooled(table).filter((c) => !(NOT_IN_ANY_SOURCE[table] ?? []).includes(c.column));
    expect(columns.length).toBeGreaterThanOrEqual(4);
    const held = columns.map((c) => ({ column: c.column, atLeast99: pct(c) >= 99, ...(pct(c) < 99 && { figure: pct(c).toFixed(1), examples: c.examples }) }));
    expect(held).toEqual(columns.map((c) => ({ column: c.column, atLeast99: true })));
  });
});
