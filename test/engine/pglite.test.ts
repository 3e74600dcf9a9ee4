/** The same engine on the embedded PostgreSQL (PGlite): loads, errors, deletes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../loader/db/database';
import { openPglite } from '../../loader/db/pglite';
import { migrate } from '../../loader/db/migrate';
import { deleteGame, folderSource, load } from '../../loader/engine';
import { csvFor, folderWith, miniLeague, miniLeagueFiles } from '../support/fixtures';

let db: Database;
beforeAll(async () => {
  db = await openPglite(undefined);
  await migrate(db);
}, 120_000);
afterAll(async () => db?.close());

describe('the load engine on PGlite', () => {
  it('loads the mini league with the same counts and rejects as on PostgreSQL', async () => {
    const m = miniLeague();
    const files = { ...miniLeagueFiles(), 'fact_events_player.csv': csvFor('fact_events_player', [...m.eventPlayers, { event_player_key: 'EP1', event_key: 'EV0', game_id: 1001 }]) };
    const r = await load(db, { scope: { kind: 'tables', tables: ['dim_team', 'dim_player', 'dim_schedule', 'fact_events', 'fact_events_player'] }, operation: 'replace', initiatedBy: 'test', source: folderSource(folderWith(files)) });
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    expect(r.tables.map((x) => [x.table, x.inserted, x.rejected])).toEqual([
      ['dim_player', 4, 0], ['dim_team', 2, 0], ['dim_schedule', 3, 0], ['fact_events', 6, 0], ['fact_events_player', 6, 1],
    ]);
    const p = await db.query<{ player_full_name: string; birth_year: number | null }>("SELECT player_full_name, birth_year FROM dim_player WHERE player_id IN ('P100002', 'P100003') ORDER BY player_id");
    expect(p.rows).toEqual([{ player_full_name: 'Zoë Ångström', birth_year: 1990 }, { player_full_name: '5 – Francis Forte (G)', birth_year: null }]);
  });

  it('upserts in place', async () => {
    const m = miniLeague();
    const r = await load(db, { scope: { kind: 'tables', tables: ['dim_team'] }, operation: 'upsert', initiatedBy: 'test',
      source: folderSource(folderWith({ 'dim_team.csv': csvFor('dim_team', [{ ...m.teams[0]!, league: 'CSAH' }, m.teams[1]!]) })) });
    expect(r.tables[0]).toMatchObject({ updated: 1, unchanged: 1, inserted: 0 });
  });

  it('refuses a bad value with its line, column and value, and changes nothing', async () => {
    const m = miniLeague();
    const before = await db.query('SELECT * FROM dim_player ORDER BY player_id');
    const r = await load(db, { scope: { kind: 'tables', tables: ['dim_player'] }, operation: 'replace', initiatedBy: 'test',
      source: folderSource(folderWith({ 'dim_player.csv': csvFor('dim_player', [m.players[0]!, { ...m.players[1]!, current_skill_rating: '4.5' }]) })) });
    expect(r.status).toBe('failed');
    expect(r.error).toMatchObject({ line: 3, column: 'current_skill_rating', value: '4.5' });
    expect((await db.query('SELECT * FROM dim_player ORDER BY player_id')).rows).toEqual(before.rows);
    const h = await db.query<{ status: string }>('SELECT status FROM load_history WHERE request_id = $1', [r.requestId]);
    expect(h.rows.every((x) => x.status === 'failed')).toBe(true);
  });

  it('deletes one game from every fact table', async () => {
    const r = await deleteGame(db, { gameId: 1001, initiatedBy: 'test' });
    expect(r.status).toBe('succeeded');
    expect(r.tables.find((x) => x.table === 'fact_events')!.deleted).toBe(3);
    const left = await db.query<{ n: string }>('SELECT count(*) AS n FROM fact_events WHERE game_id = 1001');
    expect(Number(left.rows[0]!.n)).toBe(0);
  });
});
