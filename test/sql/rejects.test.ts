/**
 * How a rejected row is reported (sql/functions/rejects.sql), the same on both ways of
 * applying a file — staged (bs_apply) and straight into the table (bs_apply_loaded):
 * load_rejects says the column, the value and, for an orphan, every relation that points
 * nowhere, in fields; `detail` says it in words; a strict load names the first one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderSource, load, type LoadRequest } from '../../loader/engine';
import { freshDatabase, type TestDatabase } from '../support/database';
import { csvFor, folderWith, miniLeague, miniLeagueFiles } from '../support/fixtures';

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
});
afterAll(async () => t?.drop());

const dims = ['dim_player', 'dim_team', 'dim_schedule'];

async function loadFiles(files: Record<string, string>, req: Partial<LoadRequest> = {}) {
  return load(t.db, {
    scope: { kind: 'tables', tables: [...dims, 'fact_events', 'fact_events_player'] },
    operation: 'replace',
    initiatedBy: 'test',
    source: folderSource(folderWith(files)),
    ...req,
  } as LoadRequest);
}

/** Event players of game 1001: one fine, one whose event and player are both missing, one repeated key, one without a key. */
function eventPlayerFiles() {
  const m = miniLeague();
  const rows = [
    m.eventPlayers[0]!,
    { ...m.eventPlayers[1]!, event_key: 'EV100199999', player_id: 'P999999' },
    { ...m.eventPlayers[2]!, event_player_key: m.eventPlayers[0]!.event_player_key },
    { ...m.eventPlayers[2]!, event_player_key: '' },
  ];
  return { ...miniLeagueFiles(), 'fact_events_player.csv': csvFor('fact_events_player', rows) };
}

async function rejectsOf(requestId: string) {
  const r = await t.db.query(
    `SELECT line::int, reason, column_name, value, parent_table, relations, detail, row_key
       FROM load_rejects WHERE request_id = $1 AND table_name = 'fact_events_player' ORDER BY line`,
    [requestId],
  );
  return r.rows;
}

const expected = (m = miniLeague()) => [
  {
    line: 3,
    reason: 'orphan',
    column_name: 'event_key',
    value: 'EV100199999',
    parent_table: 'fact_events',
    relations: [
      { column: 'event_key', value: 'EV100199999', parent_table: 'fact_events', parent_column: 'event_key' },
      { column: 'player_id', value: 'P999999', parent_table: 'dim_player', parent_column: 'player_id' },
    ],
    detail: 'event_key EV100199999 is not in fact_events.event_key; player_id P999999 is not in dim_player.player_id',
    row_key: null,
  },
  {
    line: 4,
    reason: 'duplicate_key',
    column_name: 'event_player_key',
    value: m.eventPlayers[0]!.event_player_key,
    parent_table: null,
    relations: null,
    detail: `key ${m.eventPlayers[0]!.event_player_key} appears again (first on line 2)`,
    row_key: m.eventPlayers[0]!.event_player_key,
  },
  {
    line: 5,
    reason: 'missing_key',
    column_name: 'event_player_key',
    value: null,
    parent_table: null,
    relations: null,
    detail: 'no value in key column event_player_key',
    row_key: null,
  },
];

describe('rejected rows', () => {
  it('are recorded with their fields and their sentence, staged or straight into the table alike', async () => {
    expect((await loadFiles(miniLeagueFiles())).status).toBe('succeeded');
    // staged: one game's rows (bs_apply)
    const staged = await load(t.db, {
      scope: { kind: 'tables', tables: ['fact_events_player'] },
      operation: 'upsert',
      gameId: 1001,
      initiatedBy: 'test',
      source: folderSource(folderWith(eventPlayerFiles())),
    } as LoadRequest);
    expect(staged.tables[0]).toMatchObject({ rejected: 3 });
    expect(await rejectsOf(staged.requestId)).toEqual(expected());

    // straight into the table (bs_apply_loaded), as COPY leaves a big file in a table
    // emptied by TRUNCATE, without its indexes: rows in file order (a row without a key
    // cannot get there: the key is NOT NULL)
    const m = miniLeague();
    const requestId = '00000000-0000-0000-0000-000000000014';
    await t.db.transaction(async (tx) => {
      await tx.query('TRUNCATE fact_events_player');
      const parked = (await tx.query<{ n: number }>("SELECT bs_indexes_park('fact_events_player') AS n")).rows[0]!.n;
      expect(parked).toBeGreaterThan(0);
      const rows = [
        m.eventPlayers[0]!,
        { ...m.eventPlayers[1]!, event_key: 'EV100199999', player_id: 'P999999' },
        { ...m.eventPlayers[2]!, event_player_key: m.eventPlayers[0]!.event_player_key },
      ];
      for (const r of rows) {
        await tx.query('INSERT INTO fact_events_player (event_player_key, event_key, game_id, player_id) VALUES ($1, $2, $3, $4)', [
          r.event_player_key,
          r.event_key,
          r.game_id,
          r.player_id,
        ]);
      }
      const r = await tx.query<{ r: Record<string, unknown> }>('SELECT bs_apply_loaded($1, $2) AS r', [
        'fact_events_player',
        { file_rows: 3, lines: { base: 1, breaks: [] }, parked, request_id: requestId },
      ]);
      expect(r.rows[0]!.r).toMatchObject({ inserted: 1, rejected: 2, rejected_by_reason: { orphan: 1, duplicate_key: 1 } });
    });
    expect(await rejectsOf(requestId)).toEqual(expected().slice(0, 2));
  });

  it('fail a strict load at the first one, with its line, column and value', async () => {
    const staged = { scope: { kind: 'tables', tables: ['fact_events_player'] }, gameId: 1001, operation: 'upsert' };
    for (const req of [{}, staged] as Partial<LoadRequest>[]) {
      const r = await loadFiles(eventPlayerFiles(), { ...req, policy: { orphans: 'fail' } });
      expect(r.status).toBe('failed');
      expect(r.error).toMatchObject({
        message: expect.stringContaining('event_key EV100199999 is not in fact_events.event_key; player_id P999999 is not in dim_player.player_id'),
        line: 3,
        column: 'event_key',
        value: 'EV100199999',
      });
      const d = await loadFiles(eventPlayerFiles(), { ...req, policy: { duplicates: 'fail' } });
      expect(d.error).toMatchObject({ message: expect.stringContaining('appears again (first on line 2)'), line: 4, column: 'event_player_key' });
    }
  });

  it('count a child row once when several of its relations point to the same rejected parent', async () => {
    const m = miniLeague();
    const teams = m.teams.map((x, i) => (i === 0 ? { ...x, team_id: '' } : x)); // N10001 is rejected
    const schedule = [
      { ...m.schedule[0]!, home_team_id: 'N10001', away_team_id: 'N10002' },
      { ...m.schedule[1]!, home_team_id: 'N10002', away_team_id: 'N10001' },
      { ...m.schedule[2]!, home_team_id: 'N10001', away_team_id: 'N10001' },
    ];
    const r = await load(t.db, {
      scope: { kind: 'category', category: 'dims' },
      operation: 'replace',
      initiatedBy: 'test',
      source: folderSource(
        folderWith({ ...miniLeagueFiles(), 'dim_team.csv': csvFor('dim_team', teams), 'dim_schedule.csv': csvFor('dim_schedule', schedule) }),
      ),
    });
    expect(r.status).toBe('partial');
    expect(r.warnings.filter((w) => w.startsWith('dim_schedule:') && w.includes('because'))).toEqual([
      expect.stringMatching(/^dim_schedule: 3 rows rejected because the dim_team row they point to was rejected/),
    ]);
  });
});

describe('the sentence of a reject', () => {
  it('is written into the statement that records the rejects, not called for each row (thousands of rejects a load)', async () => {
    const plan = await t.db.query<{ 'QUERY PLAN': string }>(
      'EXPLAIN VERBOSE SELECT bs_reject_detail(r.reason, r.column_name, r.value, NULL, r.relations) FROM load_rejects r',
    );
    const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toContain('CASE');
    expect(text).not.toContain('bs_reject_detail(');
    // and it says the same for one relation as for several
    const one = await t.db.query<{ d: string }>(
      `SELECT bs_reject_detail('orphan', NULL, NULL, NULL, '[{"column": "player_id", "value": "P9", "parent_table": "dim_player", "parent_column": "player_id"}]') AS d`,
    );
    expect(one.rows[0]!.d).toBe('player_id P9 is not in dim_player.player_id');
  });
});
