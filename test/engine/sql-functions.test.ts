/**
 * The database's own functions (load_table, load_category, delete_game,
 * check_relations): the same code as the engine, callable from SQL alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderSource, load } from '../../loader/engine';
import { freshDatabase, type TestDatabase } from '../support/database';
import { folderWith, miniLeague, miniLeagueFiles } from '../support/fixtures';

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  const r = await load(t.db, {
    scope: { kind: 'tables', tables: ['dim_player', 'dim_team', 'dim_schedule', 'fact_events', 'fact_events_player'] },
    operation: 'replace',
    initiatedBy: 'test',
    source: folderSource(folderWith(miniLeagueFiles())),
  });
  expect(r.status).toBe('succeeded');
});
afterAll(async () => t?.drop());

const one = async <T>(sql: string, params: unknown[] = []) => (await t.db.query<{ r: T }>(sql, params)).rows[0]!.r;

describe('load_table, load_category, delete_game', () => {
  it('load_table applies rows put in its landing table, records history and returns JSON', async () => {
    const m = miniLeague();
    await t.db.query(
      "INSERT INTO landing.dim_team (index, team_name, team_id, league) VALUES ('0', 'Ace', 'N10001', 'CSAH'), ('5.0', 'New', 'N10009', 'NORAD')",
    );
    const r = await one<Record<string, unknown>>("SELECT load_table('dim_team', 'upsert') AS r");
    expect(r).toMatchObject({ success: true, table: 'dim_team', operation: 'upsert', inserted: 1, updated: 1, rejected: 0 });
    expect(await one<number>('SELECT count(*)::int AS r FROM landing.dim_team')).toBe(0);
    const h = await t.db.query('SELECT status, rows_inserted, rows_updated FROM load_history WHERE id = $1', [r.history_id]);
    expect(h.rows).toEqual([{ status: 'succeeded', rows_inserted: '1', rows_updated: '1' }]);
    void m;
  });

  it('refuses unknown or hostile table names without running them', async () => {
    for (const name of ['nope', 'fact_events; DROP TABLE dim_player', 'dim_player"--', "dim_team' OR '1'='1"]) {
      const r = await one<Record<string, unknown>>('SELECT load_table($1, $2) AS r', [name, 'replace']);
      expect(r).toMatchObject({ success: false, error: 'Invalid table name' });
    }
    expect(await one<number>('SELECT count(*)::int AS r FROM dim_player')).toBe(4);
    const bad = await one<Record<string, unknown>>("SELECT load_table('dim_team', 'truncate') AS r");
    expect(bad).toMatchObject({ success: false, error: 'Invalid operation' });
  });

  it('load_category loads its tables in dependency order', async () => {
    await t.db.query("INSERT INTO landing.fact_events (event_key, game_id) VALUES ('EV100300001', '1003')");
    await t.db.query("INSERT INTO landing.fact_events_player (event_player_key, event_key, game_id) VALUES ('EP100300001', 'EV100300001', '1003')");
    const r = await one<{ success: boolean; results: { table: string; inserted: number; rejected: number }[] }>(
      "SELECT load_category('core_facts', 'upsert', 1003) AS r",
    );
    expect(r.success).toBe(true);
    expect(r.results.map((x) => x.table)).toEqual(['fact_shifts', 'fact_events', 'fact_events_player', 'fact_shifts_player']);
    expect(r.results.find((x) => x.table === 'fact_events_player')).toMatchObject({ inserted: 1, rejected: 0 });
  });

  it('delete_game removes one game from every fact table and reports per table', async () => {
    const r = await one<{ success: boolean; total_rows_deleted: number; rows_deleted: Record<string, number> }>('SELECT delete_game(1001) AS r');
    expect(r.success).toBe(true);
    expect(r.rows_deleted.fact_events).toBe(3);
    expect(r.rows_deleted.fact_events_player).toBe(3);
    expect(await one<number>('SELECT count(*)::int AS r FROM fact_events WHERE game_id = 1002')).toBe(3);
  });

  it('check_relations lists rows whose relations point nowhere', async () => {
    await t.db.query("DELETE FROM dim_player WHERE player_id = 'P100002'");
    const r = await t.db.query<{ table_name: string; column_name: string; parent_table: string; orphan_rows: string }>('SELECT * FROM check_relations()');
    expect(r.rows).toContainEqual(expect.objectContaining({ table_name: 'fact_events_player', column_name: 'player_id', parent_table: 'dim_player' }));
  });
});

describe("load_table and pandas' missing values", () => {
  it("reads nan, NaN, None, null and NULL in a text key or relation as no value, as the engine's reader does", async () => {
    // a key that is one of those words is a row without its key, not a key named "nan"
    await t.db.query(`INSERT INTO landing.dim_team (index, team_name, team_id, league) VALUES
      ('7', 'Nan', 'nan', 'X'), ('8', 'None', 'None', 'X'), ('9', 'Null', 'NULL', 'X'), ('10', 'Ok', 'N10011', 'X')`);
    const teams = await one<Record<string, unknown>>("SELECT load_table('dim_team', 'upsert') AS r");
    expect(teams).toMatchObject({ success: true, inserted: 1, rejected: 3, rejected_by_reason: { missing_key: 3 } });
    expect(await one<number>("SELECT count(*)::int AS r FROM dim_team WHERE team_id IN ('nan', 'None', 'NULL')")).toBe(0);

    // a relation that is one of those words points nowhere because it has no value: NULL, not an orphan
    await t.db.query(`INSERT INTO landing.fact_events (event_key, game_id, home_team_id, away_team_id) VALUES
      ('EV100200901', '1002', 'NaN', 'null')`);
    const events = await one<Record<string, unknown>>("SELECT load_table('fact_events', 'upsert', 1002) AS r");
    expect(events).toMatchObject({ success: true, inserted: 1, rejected: 0 });
    const row = await t.db.query("SELECT home_team_id, away_team_id FROM fact_events WHERE event_key = 'EV100200901'");
    expect(row.rows).toEqual([{ home_team_id: null, away_team_id: null }]);
    // (other text columns keep the words: they may be text)
    await t.db.query("INSERT INTO landing.dim_team (index, team_name, team_id, league) VALUES ('11', 'None', 'N10012', 'nan')");
    await one("SELECT load_table('dim_team', 'upsert') AS r");
    const kept = await t.db.query("SELECT team_name, league FROM dim_team WHERE team_id = 'N10012'");
    expect(kept.rows).toEqual([{ team_name: 'None', league: 'nan' }]);
  });
});
