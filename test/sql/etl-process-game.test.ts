/**
 * etl_process_game (sql/functions/etl_process_game.sql) rebuilds a game's rows of the
 * fact tables its three steps write, and touches no other table: a fact table added to
 * the catalog later (loaded from CSV, not built by the ETL) keeps that game's rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestTrackerExport } from '../../loader/tracker';
import { freshDatabase, type TestDatabase } from '../support/database';
import { syntheticExport } from '../tracker/synthetic-export';

const GAME = 93001;
const BUILT = [
  'fact_shifts',
  'fact_events',
  'fact_events_player',
  'fact_shifts_player',
  'fact_player_game_stats',
  'fact_team_game_stats',
  'fact_goalie_game_stats',
  'fact_h2h',
  'fact_wowy',
];

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  await ingestTrackerExport(t.db, syntheticExport({ gameId: GAME }), { source: 'test', initiatedBy: 'test' });
  // A tenth fact table, in the catalog like the nine, with rows of the game.
  await t.db.query(`
    CREATE TABLE fact_game_notes (note_key text PRIMARY KEY, game_id integer, note text);
    INSERT INTO warehouse_tables (table_name, category, load_order, key_columns, game_column, default_operation)
    VALUES ('fact_game_notes', 'analytics_facts', 13, ARRAY['note_key'], 'game_id', 'replace');
    INSERT INTO fact_game_notes VALUES ('N1', ${GAME}, 'kept'), ('N2', ${GAME + 1}, 'other game')`);
});
afterAll(async () => t?.drop());

const run = async () =>
  (
    await t.db.transaction((tx) =>
      tx.query<{ r: { deleted: Record<string, number>; inserted: Record<string, number> } }>('SELECT etl_process_game($1) AS r', [GAME]),
    )
  ).rows[0]!.r;

describe('etl_process_game', () => {
  it("deletes only the rows it builds again: a fact table it does not build keeps the game's rows", async () => {
    const first = await run();
    expect(Object.keys(first.inserted).sort()).toEqual([...BUILT].sort());
    const again = await run();
    expect(Object.keys(again.deleted).sort()).toEqual([...BUILT].sort());
    for (const table of BUILT) expect(again.deleted[table], table).toBe(first.inserted[table]);
    const notes = await t.db.query('SELECT note_key, note FROM fact_game_notes ORDER BY 1');
    expect(notes.rows).toEqual([
      { note_key: 'N1', note: 'kept' },
      { note_key: 'N2', note: 'other game' },
    ]);
  });
});
