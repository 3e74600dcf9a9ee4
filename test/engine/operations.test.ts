import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { load, folderSource, type LoadRequest } from '../../loader/engine';
import { freshDatabase, type TestDatabase } from '../support/database';
import { csvFor, folderWith, miniLeague, miniLeagueFiles } from '../support/fixtures';

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
});
afterAll(async () => t?.drop());

const dims = () => folderSource(folderWith(miniLeagueFiles()));
const req = (r: Partial<LoadRequest> & Pick<LoadRequest, 'scope' | 'source'>): LoadRequest => ({ initiatedBy: 'test', ...r });

async function rows(sql: string, params: unknown[] = []) {
  return (await t.db.query<Record<string, unknown>>(sql, params)).rows;
}
async function count(table: string, where = 'true') {
  return Number((await rows(`SELECT count(*) AS n FROM ${table} WHERE ${where}`))[0]!.n);
}

beforeEach(async () => {
  await t.db.query('TRUNCATE dim_team, dim_player, dim_schedule, fact_events, fact_events_player, load_rejects');
  const r = await load(t.db, req({ scope: { kind: 'category', category: 'dims' }, operation: 'replace', source: dims() }));
  expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
});

describe('operations and scopes', () => {
  it('replace of one game deletes and reloads that game only; other games are untouched', async () => {
    const m = miniLeague();
    await load(
      t.db,
      req({
        scope: { kind: 'tables', tables: ['fact_events'] },
        operation: 'replace',
        source: folderSource(folderWith({ 'fact_events.csv': csvFor('fact_events', m.events) })),
      }),
    );
    expect(await count('fact_events')).toBe(6);
    const other = await rows('SELECT * FROM fact_events WHERE game_id = 1002 ORDER BY event_key');

    // A new version of game 1001 with one event changed, one gone; the file also holds game 1002 rows, changed.
    const next = [
      { ...m.events[0]!, event_type: 'Goal', Type: 'Goal' },
      m.events[1]!,
      ...m.events.filter((e) => e.game_id === 1002).map((e) => ({ ...e, event_type: 'CHANGED' })),
    ];
    const r = await load(
      t.db,
      req({
        scope: { kind: 'tables', tables: ['fact_events'] },
        operation: 'replace',
        gameId: 1001,
        source: folderSource(folderWith({ 'fact_events.csv': csvFor('fact_events', next) })),
      }),
    );
    expect(r.status).toBe('succeeded');
    expect(r.tables[0]).toMatchObject({ deleted: 3, inserted: 2, outOfScope: 3, rowsInFile: 5 });
    expect(await rows('SELECT event_key, event_type FROM fact_events WHERE game_id = 1001 ORDER BY event_key')).toEqual([
      { event_key: 'EV100100001', event_type: 'Goal' },
      { event_key: 'EV100100002', event_type: 'Shot' },
    ]);
    expect(await rows('SELECT * FROM fact_events WHERE game_id = 1002 ORDER BY event_key')).toEqual(other);
  });

  it('append of a key that already exists fails, names the key and line, and changes nothing', async () => {
    const m = miniLeague();
    const first = await load(
      t.db,
      req({
        scope: { kind: 'tables', tables: ['fact_events'] },
        operation: 'append',
        source: folderSource(folderWith({ 'fact_events.csv': csvFor('fact_events', m.events.slice(0, 3)) })),
      }),
    );
    expect(first.status, JSON.stringify(first.error)).toBe('succeeded');
    const before = await rows('SELECT * FROM fact_events ORDER BY event_key');
    const r = await load(
      t.db,
      req({
        scope: { kind: 'tables', tables: ['fact_events'] },
        operation: 'append',
        source: folderSource(folderWith({ 'fact_events.csv': csvFor('fact_events', [m.events[3]!, m.events[2]!]) })),
      }),
    );
    expect(r.status).toBe('failed');
    expect(r.error).toMatchObject({ table: 'fact_events', line: 3, column: 'event_key', value: 'EV100100003' });
    expect(r.error!.message).toMatch(/already in fact_events/);
    expect(await rows('SELECT * FROM fact_events ORDER BY event_key')).toEqual(before);
  });

  it('upsert updates rows in place, inserts new ones and counts unchanged ones', async () => {
    const m = miniLeague();
    await load(
      t.db,
      req({
        scope: { kind: 'tables', tables: ['fact_events'] },
        operation: 'upsert',
        source: folderSource(folderWith({ 'fact_events.csv': csvFor('fact_events', m.events.slice(0, 4)) })),
      }),
    );
    const changed = [{ ...m.events[0]!, event_detail: 'Faceoff_Won' }, m.events[1]!, m.events[2]!, m.events[3]!, m.events[4]!];
    const r = await load(
      t.db,
      req({
        scope: { kind: 'tables', tables: ['fact_events'] },
        operation: 'upsert',
        source: folderSource(folderWith({ 'fact_events.csv': csvFor('fact_events', changed) })),
      }),
    );
    expect(r.tables[0]).toMatchObject({ inserted: 1, updated: 1, unchanged: 3, deleted: 0 });
    expect(await rows("SELECT event_detail FROM fact_events WHERE event_key = 'EV100100001'")).toEqual([{ event_detail: 'Faceoff_Won' }]);
    expect(await count('fact_events')).toBe(5);
  });

  it('upsert into a table with rows checks only the rows that would change it', async () => {
    const m = miniLeague();
    await load(
      t.db,
      req({
        scope: { kind: 'tables', tables: ['fact_events'] },
        operation: 'replace',
        source: folderSource(folderWith({ 'fact_events.csv': csvFor('fact_events', m.events) })),
      }),
    );
    await load(
      t.db,
      req({
        scope: { kind: 'tables', tables: ['fact_events_player'] },
        operation: 'replace',
        source: folderSource(folderWith({ 'fact_events_player.csv': csvFor('fact_events_player', m.eventPlayers) })),
      }),
    );
    const [first, second, ...rest] = m.eventPlayers;
    const file = [
      { ...first!, player_id: 'P999999' }, // changed, and points nowhere
      second!, // unchanged
      { event_player_key: 'EP100199990', event_key: 'EV100100000', game_id: 1001, player_id: 'P100001' }, // new, points nowhere
      { event_player_key: 'EP100199991', event_key: first!.event_key, game_id: 1001, player_id: 'P100002' }, // new
      ...rest, // unchanged
    ];
    const r = await load(
      t.db,
      req({
        scope: { kind: 'tables', tables: ['fact_events_player'] },
        operation: 'upsert',
        source: folderSource(folderWith({ 'fact_events_player.csv': csvFor('fact_events_player', file) })),
      }),
    );
    // (2 of 8 rows rejected: more than a file may lose by default, so the outcome says so)
    expect(r.status, JSON.stringify(r.error)).toBe('partial');
    expect(r.warnings.join('\n')).toMatch(/fact_events_player: 2 of 8 rows rejected, more than the 20% allowed/);
    expect(r.tables[0]).toMatchObject({ rowsInFile: 8, inserted: 1, updated: 0, unchanged: 5, rejected: 2, rejectedByReason: { orphan: 2 } });
    // The changed row was refused: the stored row keeps its player.
    expect(await rows('SELECT player_id FROM fact_events_player WHERE event_player_key = $1', [first!.event_player_key])).toEqual([
      { player_id: first!.player_id },
    ]);
    expect(await count('fact_events_player')).toBe(7);
  });

  it('a key seen twice is found even where keys do not go up, and the first occurrence wins', async () => {
    const m = miniLeague();
    const events = [m.events[2]!, m.events[0]!, { ...m.events[2]!, event_detail: 'second' }, m.events[1]!];
    const r = await load(
      t.db,
      req({
        scope: { kind: 'tables', tables: ['fact_events'] },
        operation: 'replace',
        source: folderSource(folderWith({ 'fact_events.csv': csvFor('fact_events', events) })),
      }),
    );
    expect(r.tables[0]).toMatchObject({ inserted: 3, rejected: 1, rejectedByReason: { duplicate_key: 1 } });
    expect(await rows('SELECT event_detail FROM fact_events WHERE event_key = $1', [m.events[2]!.event_key])).toEqual([{ event_detail: null }]);
  });

  it('merge deletes the rows of its scope that the file no longer has', async () => {
    const m = miniLeague();
    await load(
      t.db,
      req({
        scope: { kind: 'tables', tables: ['fact_events'] },
        operation: 'upsert',
        source: folderSource(folderWith({ 'fact_events.csv': csvFor('fact_events', m.events) })),
      }),
    );
    const only = m.events.filter((e) => e.game_id === 1001 && e.event_index !== '2.0');
    const r = await load(
      t.db,
      req({
        scope: { kind: 'tables', tables: ['fact_events'] },
        operation: 'merge',
        gameId: 1001,
        source: folderSource(folderWith({ 'fact_events.csv': csvFor('fact_events', only) })),
      }),
    );
    expect(r.tables[0]).toMatchObject({ deleted: 1, unchanged: 2, inserted: 0 });
    expect(await count('fact_events', "event_key = 'EV100100002'")).toBe(0);
    expect(await count('fact_events', 'game_id = 1002')).toBe(3);
  });

  it('a category runs in dependency order: events exist before the event-player rows that point to them', async () => {
    const files = miniLeagueFiles();
    const r = await load(
      t.db,
      req({
        scope: { kind: 'category', category: 'core_facts' },
        operation: 'replace',
        source: folderSource(
          folderWith({
            ...files,
            'fact_shifts.csv': csvFor('fact_shifts', []).trim() + '\n' + 'SH100100001,1001' + ','.repeat(61) + '\n',
            'fact_shifts_player.csv': csvFor('fact_shifts_player', [
              { shift_player_key: 'SP100100001', shift_key: 'SH100100001', game_id: 1001, player_id: 'P100001' },
            ]),
          }),
        ),
      }),
    );
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    expect(r.tables.map((x) => x.table)).toEqual(['fact_shifts', 'fact_events', 'fact_events_player', 'fact_shifts_player']);
    expect(r.tables.every((x) => x.rejected === 0)).toBe(true);
    expect(await count('fact_events_player')).toBe(6);
  });

  it('rows whose relations point nowhere go to the rejects with the reason; --strict fails instead', async () => {
    const m = miniLeague();
    await load(
      t.db,
      req({
        scope: { kind: 'tables', tables: ['fact_events'] },
        operation: 'replace',
        source: folderSource(folderWith({ 'fact_events.csv': csvFor('fact_events', m.events) })),
      }),
    );
    const eps = [...m.eventPlayers, { event_player_key: 'EP100199999', event_key: 'EV100100000', game_id: 1001, player_id: 'P999999' }];
    const src = () => folderSource(folderWith({ 'fact_events_player.csv': csvFor('fact_events_player', eps) }));
    const strict = await load(
      t.db,
      req({ scope: { kind: 'tables', tables: ['fact_events_player'] }, operation: 'replace', source: src(), policy: { orphans: 'fail' } }),
    );
    expect(strict.status).toBe('failed');
    expect(strict.error).toMatchObject({ line: 8, column: 'event_key', value: 'EV100100000' });
    expect(await count('fact_events_player')).toBe(0);

    const r = await load(t.db, req({ scope: { kind: 'tables', tables: ['fact_events_player'] }, operation: 'replace', source: src() }));
    expect(r.tables[0]).toMatchObject({ rowsInFile: 7, inserted: 6, rejected: 1, rejectedByReason: { orphan: 1 } });
    const rej = await rows("SELECT line, reason, detail, row_data->>'event_player_key' AS k FROM load_rejects WHERE table_name = 'fact_events_player'");
    expect(rej).toEqual([
      {
        line: '8',
        reason: 'orphan',
        k: 'EP100199999',
        detail: 'event_key EV100100000 is not in fact_events.event_key; player_id P999999 is not in dim_player.player_id',
      },
    ]);
  });

  it('a dry run reports what it would do and changes nothing', async () => {
    const m = miniLeague();
    const before = await count('fact_events');
    const r = await load(
      t.db,
      req({
        scope: { kind: 'tables', tables: ['fact_events'] },
        operation: 'replace',
        dryRun: true,
        source: folderSource(folderWith({ 'fact_events.csv': csvFor('fact_events', m.events) })),
      }),
    );
    expect(r).toMatchObject({ status: 'succeeded', dryRun: true });
    expect(r.tables[0]).toMatchObject({ inserted: 6 });
    expect(await count('fact_events')).toBe(before);
    expect(await rows('SELECT status, dry_run, rows_inserted FROM load_history WHERE id = $1', [r.historyId])).toEqual([
      { status: 'succeeded', dry_run: true, rows_inserted: '6' },
    ]);
  });

  it('records every request and table in the history, with who asked', async () => {
    const m = miniLeague();
    const r = await load(
      t.db,
      req({
        scope: { kind: 'tables', tables: ['fact_events'] },
        operation: 'upsert',
        initiatedBy: 'U123',
        source: folderSource(folderWith({ 'fact_events.csv': csvFor('fact_events', m.events) })),
      }),
    );
    const h = await rows(
      'SELECT kind, table_name, status, rows_in_file, rows_inserted, initiated_by, completed_at IS NOT NULL AS done FROM load_history WHERE request_id = $1 ORDER BY id',
      [r.requestId],
    );
    expect(h).toEqual([
      { kind: 'request', table_name: null, status: 'succeeded', rows_in_file: '6', rows_inserted: '6', initiated_by: 'U123', done: true },
      { kind: 'table', table_name: 'fact_events', status: 'succeeded', rows_in_file: '6', rows_inserted: '6', initiated_by: 'U123', done: true },
    ]);
  });

  it('the whole request is one transaction: a bad second file undoes the first table', async () => {
    const m = miniLeague();
    const before = await rows('SELECT * FROM dim_team ORDER BY team_id');
    const bad = csvFor('dim_player', [...m.players.slice(0, 2), { ...m.players[2]!, birth_year: '1986.5' }]);
    const r = await load(
      t.db,
      req({
        scope: { kind: 'category', category: 'dims' },
        operation: 'replace',
        source: folderSource(folderWith({ ...miniLeagueFiles(), 'dim_team.csv': csvFor('dim_team', m.teams.slice(0, 1)), 'dim_player.csv': bad })),
      }),
    );
    expect(r.status).toBe('failed');
    expect(r.error).toMatchObject({ table: 'dim_player', line: 4, column: 'birth_year', value: '1986.5' });
    expect(await rows('SELECT * FROM dim_team ORDER BY team_id')).toEqual(before);
    const h = await rows('SELECT table_name, status FROM load_history WHERE request_id = $1 ORDER BY id', [r.requestId]);
    expect(h.every((x) => x.status === 'failed')).toBe(true);
  });

  it('a file with columns the table lacks is refused by default, and loads with the new columns when asked', async () => {
    const m = miniLeague();
    const csv = csvFor('dim_team', m.teams)
      .replace(/\n/, ',jersey_sponsor\n')
      .replace(/(N10001[^\n]*)\n/, '$1,12.5\n')
      .replace(/(N10002[^\n]*)\n/, '$1,7\n');
    const refused = await load(
      t.db,
      req({ scope: { kind: 'tables', tables: ['dim_team'] }, operation: 'upsert', source: folderSource(folderWith({ 'dim_team.csv': csv })) }),
    );
    expect(refused.status).toBe('failed');
    expect(refused.error!.message).toMatch(/dim_team has no column jersey_sponsor/);
    const added = await load(
      t.db,
      req({
        scope: { kind: 'tables', tables: ['dim_team'] },
        operation: 'upsert',
        unknownColumns: 'add',
        source: folderSource(folderWith({ 'dim_team.csv': csv })),
      }),
    );
    expect(added.status, JSON.stringify(added.error)).toBe('succeeded');
    expect(added.warnings.join(' ')).toMatch(/added column to dim_team: jersey_sponsor numeric/);
    expect(await rows('SELECT team_id, jersey_sponsor::text AS s FROM dim_team ORDER BY team_id')).toEqual([
      { team_id: 'N10001', s: '12.5' },
      { team_id: 'N10002', s: '7' },
    ]);
  });

  it('a file without some nullable columns loads them as NULL, with a warning that names them', async () => {
    const m = miniLeague();
    const headers = ['index', 'team_name', 'team_id'];
    const r = await load(
      t.db,
      req({
        scope: { kind: 'tables', tables: ['dim_team'] },
        operation: 'replace',
        source: folderSource(folderWith({ 'dim_team.csv': csvFor('dim_team', m.teams, { headers }) })),
      }),
    );
    expect(r.status).toBe('succeeded');
    expect(r.warnings.join('\n'), r.warnings.join('\n')).toMatch(
      /no columns norad_team, csah_team, .*team_url.* in the file; the rows it loads get NULL there/,
    );
    expect(await rows("SELECT league FROM dim_team WHERE team_id = 'N10001'")).toEqual([{ league: null }]);
  });
});
