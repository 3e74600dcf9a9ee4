/**
 * The same logical row never twice, whatever its key says: upsert, merge, append and
 * replace matched by the natural key (goalie stats: game + player), a key format that
 * changes (keys that change places), a key another row holds, a natural key the file
 * repeats, a file without its key column, and a row without a natural key.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { folderSource, load, type LoadRequest, type LoadResult } from '../../loader/engine';
import { freshDatabase, type TestDatabase } from '../support/database';
import { csvFor, folderWith, miniLeagueFiles, type Row } from '../support/fixtures';

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  const r = await load(t.db, {
    scope: { kind: 'category', category: 'dims' },
    operation: 'replace',
    source: folderSource(folderWith(miniLeagueFiles())),
    initiatedBy: 'test',
  });
  expect(r.status).toBe('succeeded');
});
afterAll(async () => t?.drop());
beforeEach(async () => {
  await t.db.query('TRUNCATE fact_goalie_game_stats');
});

const goalie = (key: string | null, game: number, player: string, saves: number): Row => ({ goalie_game_key: key, game_id: game, player_id: player, saves });
async function loadGoalies(rows: Row[], operation: LoadRequest['operation'], extra: Partial<LoadRequest> = {}): Promise<LoadResult> {
  const text = extra.context?.noKey
    ? csvFor('fact_goalie_game_stats', rows)
        .replace(/^goalie_game_key,/, '')
        .replace(/\n[^,\n]*,/g, '\n')
    : csvFor('fact_goalie_game_stats', rows);
  return load(t.db, {
    scope: { kind: 'tables', tables: ['fact_goalie_game_stats'] },
    operation,
    source: folderSource(folderWith({ 'fact_goalie_game_stats.csv': text })),
    initiatedBy: 'test',
    ...extra,
  });
}
const stored = async () =>
  (
    await t.db.query<{ k: string; g: number; p: string; s: number }>(
      'SELECT goalie_game_key AS k, game_id AS g, player_id AS p, saves AS s FROM fact_goalie_game_stats ORDER BY game_id, player_id',
    )
  ).rows;

const FIRST = [goalie('GK100100001', 1001, 'P100001', 20), goalie('GK100100002', 1001, 'P100002', 25), goalie('GK100200001', 1002, 'P100003', 30)];

describe('natural keys', () => {
  it('upsert of another key format updates each row in place and gives it the new key: no second row', async () => {
    expect((await loadGoalies(FIRST, 'upsert')).status).toBe('succeeded');
    const next = [
      goalie('GGK1001_P100001', 1001, 'P100001', 21),
      goalie('GGK1001_P100002', 1001, 'P100002', 25),
      goalie('GGK1002_P100003', 1002, 'P100003', 30),
    ];
    const r = await loadGoalies(next, 'upsert');
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    expect(r.tables[0]).toMatchObject({ inserted: 0, updated: 3, unchanged: 0, rejected: 0 });
    expect(r.tables[0]!.drift!.rekeyed).toEqual({ rows: 3, examples: expect.arrayContaining([{ line: 2, from: 'GK100100001', to: 'GGK1001_P100001' }]) });
    expect(await stored()).toEqual([
      { k: 'GGK1001_P100001', g: 1001, p: 'P100001', s: 21 },
      { k: 'GGK1001_P100002', g: 1001, p: 'P100002', s: 25 },
      { k: 'GGK1002_P100003', g: 1002, p: 'P100003', s: 30 },
    ]);
  });

  it('keys that change places between two rows (the goalies numbered the other way round)', async () => {
    await loadGoalies(FIRST, 'upsert');
    const swapped = [goalie('GK100100002', 1001, 'P100001', 20), goalie('GK100100001', 1001, 'P100002', 25)];
    const r = await loadGoalies(swapped, 'upsert');
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    expect(r.tables[0]).toMatchObject({ inserted: 0, updated: 2 });
    expect((await stored()).slice(0, 2)).toEqual([
      { k: 'GK100100002', g: 1001, p: 'P100001', s: 20 },
      { k: 'GK100100001', g: 1001, p: 'P100002', s: 25 },
    ]);
  });

  it('a new key that another row still holds (a row the upsert keeps) rejects the row: key_taken; a merge deletes that row first', async () => {
    await loadGoalies(FIRST, 'upsert');
    // P100003 in game 1001 is new, under the key P100002's row has; P100002 is not in the file.
    const file = [goalie('GK100100001', 1001, 'P100001', 20), goalie('GK100100002', 1001, 'P100003', 9)];
    const up = await loadGoalies(file, 'upsert', { gameId: 1001 });
    expect(up.tables[0]).toMatchObject({ inserted: 0, rejected: 1, rejectedByReason: { key_taken: 1 } });
    expect((await stored()).filter((r) => r.g === 1001)).toHaveLength(2);
    const reject = await t.db.query("SELECT line, detail FROM load_rejects WHERE reason = 'key_taken' ORDER BY id DESC LIMIT 1");
    expect(reject.rows[0]).toEqual({ line: '3', detail: 'key GK100100002 belongs to another row of the table (another natural key), which this load keeps' });
    const merged = await loadGoalies(file, 'merge', { gameId: 1001 });
    expect(merged.tables[0]).toMatchObject({ inserted: 1, deleted: 1, rejected: 0 });
    expect((await stored()).filter((r) => r.g === 1001)).toEqual([
      { k: 'GK100100001', g: 1001, p: 'P100001', s: 20 },
      { k: 'GK100100002', g: 1001, p: 'P100003', s: 9 },
    ]);
  });

  it('a natural key the file repeats under two keys: the first stays, the second is rejected — into an empty table and into one with rows', async () => {
    const file = [...FIRST, goalie('GK100100009', 1001, 'P100001', 99)];
    const first = await loadGoalies(file, 'upsert');
    expect(first.tables[0]).toMatchObject({ inserted: 3, rejected: 1, rejectedByReason: { duplicate_natural_key: 1 } });
    const again = await loadGoalies(
      file.map((r, i) => (i === 0 ? { ...r, saves: 19 } : r)),
      'upsert',
    );
    expect(again.tables[0]).toMatchObject({ updated: 1, rejected: 1, rejectedByReason: { duplicate_natural_key: 1 } });
    expect((await stored())[0]).toEqual({ k: 'GK100100001', g: 1001, p: 'P100001', s: 19 });
    const detail = await t.db.query("SELECT detail FROM load_rejects WHERE reason = 'duplicate_natural_key' ORDER BY id DESC LIMIT 1");
    expect(detail.rows[0]!.detail).toBe('natural key (game_id, player_id) = (1001, P100001) appears again (first on line 2)');
  });

  it('append refuses a row that is in the table already under another key, naming its natural key', async () => {
    await loadGoalies(FIRST, 'upsert');
    const r = await loadGoalies([goalie('GX1', 1002, 'P100003', 1)], 'append');
    expect(r.status).toBe('failed');
    expect(r.error!.message).toMatch(
      /append: the row on line 2 is already in fact_goalie_game_stats \(natural key \(game_id, player_id\) = \(1002, P100003\), key GK100200001\)/,
    );
  });

  it('a file without its key column: rows matched by their natural key (keys kept), new rows keyed by the rule', async () => {
    await loadGoalies(FIRST, 'upsert');
    const r = await loadGoalies([goalie(null, 1001, 'P100001', 40), goalie(null, 1002, 'P100004', 12)], 'upsert', { context: { noKey: true } });
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    expect(r.tables[0]).toMatchObject({ inserted: 1, updated: 1 });
    expect(r.tables[0]!.drift!.key).toEqual({ column: 'goalie_game_key', source: 'derived', rule: 'GK{game_id}_{player_id}' });
    expect(await stored()).toContainEqual({ k: 'GK100100001', g: 1001, p: 'P100001', s: 40 });
    expect(await stored()).toContainEqual({ k: 'GK1002_P100004', g: 1002, p: 'P100004', s: 12 });
    const replaced = await loadGoalies([goalie(null, 1001, 'P100001', 40)], 'replace', { gameId: 1001, context: { noKey: true } });
    expect(replaced.tables[0]).toMatchObject({ inserted: 1, deleted: 2 });
    expect((await stored()).filter((x) => x.g === 1001)).toEqual([{ k: 'GK1001_P100001', g: 1001, p: 'P100001', s: 40 }]);
  });

  it('a row without a natural key (no player) is known by its key alone', async () => {
    const r1 = await loadGoalies([goalie('GK100100005', 1001, '', 3)], 'upsert');
    expect(r1.tables[0]).toMatchObject({ inserted: 1 });
    const r2 = await loadGoalies([goalie('GK100100005', 1001, '', 4)], 'upsert');
    expect(r2.tables[0]).toMatchObject({ inserted: 0, updated: 1 });
    expect(await stored()).toEqual([{ k: 'GK100100005', g: 1001, p: null, s: 4 }]);
  });
});
