/** The same engine on the embedded PostgreSQL (PGlite): loads, errors, deletes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../loader/db/database';
import { openPglite } from '../../loader/db/pglite';
import { migrate } from '../../loader/db/migrate';
import { DIRECT_PARK_BYTES, deleteGame, folderSource, load } from '../../loader/engine';
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

  it('a whole-table replace straight into the table names the line of each reject, past multi-line values (and without its indexes)', async () => {
    const m = miniLeague();
    // ~4,000 rows (more than DIRECT_PARK_BYTES, many pages), multi-line values early on, orphans later
    const rows = Array.from({ length: 4000 }, (_, k) => ({
      ...m.eventPlayers[k % m.eventPlayers.length]!, event_player_key: `EP${200000 + k}`,
      event_detail: k % 500 === 7 ? 'first line\nsecond line' : 'x'.repeat(100 + (k % 37) * 3),
      ...(k === 1234 || k === 3999 ? { event_key: 'EV999' } : {}),
    }));
    const csv = csvFor('fact_events_player', rows);
    expect(csv.length).toBeGreaterThan(DIRECT_PARK_BYTES);
    // the line each row starts on, as an editor counts
    const lineOf = (k: number) => 2 + k + rows.slice(0, k).filter((r) => r.event_detail.includes('\n')).length;
    const r = await load(db, { scope: { kind: 'tables', tables: ['fact_events_player'] }, operation: 'replace', initiatedBy: 'test', source: folderSource(folderWith({ 'fact_events_player.csv': csv })) });
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    expect(r.tables[0]).toMatchObject({ inserted: 3998, rejected: 2, rejectedByReason: { orphan: 2 } });
    const rej = await db.query<{ line: string; key: string }>(
      "SELECT line, row_data->>'event_player_key' AS key FROM load_rejects WHERE history_id = $1 ORDER BY line", [r.tables[0]!.historyId]);
    expect(rej.rows).toEqual([{ line: String(lineOf(1234)), key: 'EP201234' }, { line: String(lineOf(3999)), key: 'EP203999' }]);
    const idx = await db.query<{ n: string }>("SELECT count(*) AS n FROM pg_index WHERE indrelid = 'fact_events_player'::regclass");
    expect(Number(idx.rows[0]!.n)).toBe(3);
  });

  it('a table that refuses a row while loaded straight in: the request runs again with that file staged', async () => {
    const m = miniLeague();
    const teams = [...m.teams, { ...m.teams[0]!, team_name: 'again' }];
    const r = await load(db, { scope: { kind: 'tables', tables: ['dim_player', 'dim_team'] }, operation: 'replace', initiatedBy: 'test',
      source: folderSource(folderWith({ 'dim_player.csv': csvFor('dim_player', m.players), 'dim_team.csv': csvFor('dim_team', teams) })) });
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    expect(r.tables.map((x) => [x.table, x.inserted, x.rejected])).toEqual([['dim_player', m.players.length, 0], ['dim_team', m.teams.length, 1]]);
    const rej = await db.query<{ line: string; reason: string }>('SELECT line, reason FROM load_rejects WHERE request_id = $1', [r.requestId]);
    expect(rej.rows).toEqual([{ line: String(teams.length + 1), reason: 'duplicate_key' }]);
    const kept = await db.query<{ team_name: string }>('SELECT team_name FROM dim_team WHERE team_id = $1', [m.teams[0]!.team_id]);
    expect(kept.rows).toEqual([{ team_name: m.teams[0]!.team_name }]);
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
