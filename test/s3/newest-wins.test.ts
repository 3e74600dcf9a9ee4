/**
 * Newest wins, by the export's date in the key (`<table>_<date>.csv`, a dated folder):
 * an older export delivered late is skipped, per table (and per game for game-scoped
 * files), with a notice naming the newer export it lost to, in history and in Slack.
 * A load that finds a newer export committed before it, or its claim taken over, does
 * not commit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleS3Event } from '../../loader/s3/process-event';
import { captureServer } from '../support/capture-server';
import { freshDatabase, type TestDatabase } from '../support/database';
import { csvFor, miniLeague } from '../support/fixtures';
import { loadMiniDims, loaderDeps, rowsOf, testBucket, type TestBucket } from './support/bucket';

let t: TestDatabase;
let b: TestBucket;
let slack: Awaited<ReturnType<typeof captureServer>>;
let q: ReturnType<typeof rowsOf>;

beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  b = await testBucket();
  slack = await captureServer();
  q = rowsOf(t.db);
  await loadMiniDims(t.db);
}, 120_000);
afterAll(async () => {
  await b?.stop();
  await slack?.close();
  await t?.drop();
});

const m = miniLeague();
const teams = (league: string) =>
  csvFor(
    'dim_team',
    m.teams.map((x) => ({ ...x, league })),
  );
const events = (games: number[], type: string) =>
  csvFor(
    'fact_events',
    m.events.filter((e) => games.includes(e.game_id)).map((e) => ({ ...e, event_type: type })),
  );
const deliver = async (key: string, body: string) => handleS3Event(await b.put(key, body), loaderDeps(t.db, b.s3, slack.url));
const posted = () => slack.seen.filter((c) => c.path.endsWith('chat.postMessage')).map((c) => (c.json as { text: string }).text);

describe('newest wins by the export date in the key', () => {
  it('skips an older dated export of a table delivered after a newer one, saying which newer export it lost to', async () => {
    expect((await deliver('exports/dim_team_2025-12-30.csv', teams('NEWER')))[0]).toMatchObject({ status: 'loaded' });
    const late = await deliver('exports/dim_team_2025-12-29.csv', teams('OLDER'));
    expect(late[0]).toMatchObject({ status: 'skipped', message: expect.stringMatching(/dim_team_2025-12-30\.csv/) });
    expect(await q('SELECT DISTINCT league FROM dim_team')).toEqual([{ league: 'NEWER' }]);

    const h = await q(
      "SELECT status, error_message FROM load_history WHERE source = 's3://benchsight-drop/exports/dim_team_2025-12-29.csv' AND kind = 'request'",
    );
    expect(h).toEqual([{ status: 'refused', error_message: expect.stringMatching(/older export.*s3:\/\/benchsight-drop\/exports\/dim_team_2025-12-30\.csv/) }]);
    expect(posted().at(-1)).toMatch(/dim_team_2025-12-29\.csv[\s\S]*s3:\/\/benchsight-drop\/exports\/dim_team_2025-12-30\.csv/);
    expect(await q("SELECT status FROM s3_objects WHERE key = 'exports/dim_team_2025-12-29.csv'")).toEqual([{ status: 'skipped' }]);
    // A later export of the table still loads, whatever its key.
    expect((await deliver('dim_team_20251231.csv', teams('NEWEST')))[0]).toMatchObject({ status: 'loaded' });
    expect(await q('SELECT DISTINCT league FROM dim_team')).toEqual([{ league: 'NEWEST' }]);
  });

  it('reads the date of a dated folder the same way', async () => {
    expect(
      (
        await deliver(
          'exports/2025-12-30/dim_player.csv',
          csvFor(
            'dim_player',
            m.players.map((p) => ({ ...p, player_full_name: 'Newer' })),
          ),
        )
      )[0],
    ).toMatchObject({ status: 'loaded' });
    expect(
      (
        await deliver(
          'exports/2025-12-29/dim_player.csv',
          csvFor(
            'dim_player',
            m.players.map((p) => ({ ...p, player_full_name: 'Older' })),
          ),
        )
      )[0],
    ).toMatchObject({ status: 'skipped', message: expect.stringMatching(/exports\/2025-12-30\/dim_player\.csv/) });
    expect(await q('SELECT DISTINCT player_full_name FROM dim_player')).toEqual([{ player_full_name: 'Newer' }]);
  });

  it('per game for game-scoped files: a newer whole-table export or a newer file of the same game wins, other games load', async () => {
    expect((await deliver('fact_events_2025-12-30.csv', events([1001, 1002], 'Whole-12-30')))[0]).toMatchObject({ status: 'loaded' });
    // Older than the whole-table export: skipped.
    expect((await deliver('game=1001/fact_events_2025-12-29.csv', events([1001], 'G1001-12-29')))[0]).toMatchObject({ status: 'skipped' });
    // Newer: loads its game.
    expect((await deliver('game=1001/fact_events_2025-12-31.csv', events([1001], 'G1001-12-31')))[0]).toMatchObject({ status: 'loaded' });
    // Older than game 1001's newest, but game 1002 has nothing newer than 12-30's whole export.
    expect((await deliver('game=1001/fact_events_2025-12-30T18-00.csv', events([1001], 'G1001-late')))[0]).toMatchObject({
      status: 'skipped',
      message: expect.stringMatching(/game=1001\/fact_events_2025-12-31\.csv/),
    });
    expect((await deliver('game=1002/fact_events_2025-12-31.csv', events([1002], 'G1002-12-31')))[0]).toMatchObject({ status: 'loaded' });
    expect(await q('SELECT game_id, event_type FROM fact_events GROUP BY 1, 2 ORDER BY 1')).toEqual([
      { game_id: 1001, event_type: 'G1001-12-31' },
      { game_id: 1002, event_type: 'G1002-12-31' },
    ]);
    // A whole-table export older than the last whole one is skipped too.
    expect((await deliver('fact_events_2025-12-28.csv', events([1001, 1002], 'Whole-12-28')))[0]).toMatchObject({ status: 'skipped' });
  });

  it('an older upload of the same key (by sequencer) is skipped too, recorded and told', async () => {
    const older = await b.put('same/dim_team.csv', teams('OLDER-UPLOAD'));
    const newer = await b.put('same/dim_team.csv', teams('NEWER-UPLOAD'));
    const deps = loaderDeps(t.db, b.s3, slack.url);
    expect((await handleS3Event(newer, deps))[0]).toMatchObject({ status: 'loaded' });
    expect((await handleS3Event(older, deps))[0]).toMatchObject({ status: 'skipped', message: expect.stringMatching(/older than an upload of the same key/) });
    expect(await q('SELECT DISTINCT league FROM dim_team')).toEqual([{ league: 'NEWER-UPLOAD' }]);
    expect(await q("SELECT status, error_message FROM load_history WHERE source = 's3://benchsight-drop/same/dim_team.csv' AND status = 'refused'")).toEqual([
      { status: 'refused', error_message: expect.stringMatching(/older than an upload of the same key.*history #\d+/) },
    ]);
    expect(posted().at(-1)).toMatch(/^Skipped, an older upload: s3:\/\/benchsight-drop\/same\/dim_team\.csv/);
    // Delivered again: said once.
    expect((await handleS3Event(older, deps))[0]).toMatchObject({ status: 'skipped' });
    expect(await q("SELECT count(*)::int AS n FROM load_history WHERE source = 's3://benchsight-drop/same/dim_team.csv' AND status = 'refused'")).toEqual([
      { n: 1 },
    ]);
  });

  it('keys without a date are not compared by date', async () => {
    expect((await deliver('dim_team.csv', teams('UNDATED')))[0]).toMatchObject({ status: 'loaded' });
    expect(await q('SELECT DISTINCT league FROM dim_team')).toEqual([{ league: 'UNDATED' }]);
  });
});

describe('the claim is checked when the load commits', () => {
  /** A claim and a started load of it, as the loader writes them, for the commit to check. */
  async function claimedLoad(key: string, opts: { holder: string; claimHolder: string; table: string; date: string }) {
    const o = await q(
      `INSERT INTO s3_objects (bucket, key, identity, kind, status, holder, lease_until) VALUES ('benchsight-drop', $1, 'e:x', 'csv', 'loading', $2, now() + interval '1 minute') RETURNING id`,
      [key, opts.claimHolder],
    );
    const id = Number(o[0]!.id);
    await q('INSERT INTO s3_object_tables (object_id, table_name, export_date) VALUES ($1, $2, $3)', [id, opts.table, opts.date]);
    const h = await q(
      `INSERT INTO load_history (request_id, kind, scope, operation, source, initiated_by, warnings) VALUES (gen_random_uuid(), 'request', 'test', 'upsert', $1, 'test', $2) RETURNING id`,
      [`s3://benchsight-drop/${key}`, JSON.stringify({ context: { key, s3_claim: { id, holder: opts.holder } } })],
    );
    return { objectId: id, historyId: Number(h[0]!.id) };
  }
  const HOLDER = '00000000-0000-4000-8000-000000000001';
  const OTHER = '00000000-0000-4000-8000-000000000002';

  it('a load whose claim was taken over by another loader does not commit', async () => {
    const l = await claimedLoad('fence/fact_shifts.csv', { holder: HOLDER, claimHolder: OTHER, table: 'fact_shifts', date: '2025-12-29' });
    await expect(t.db.transaction((tx) => tx.query("UPDATE load_history SET status = 'succeeded' WHERE id = $1", [l.historyId]))).rejects.toThrow(
      /taken over by another loader/,
    );
    const l2 = await claimedLoad('fence/fact_h2h.csv', { holder: HOLDER, claimHolder: HOLDER, table: 'fact_h2h', date: '2025-12-29' });
    await t.db.transaction((tx) => tx.query("UPDATE load_history SET status = 'succeeded' WHERE id = $1", [l2.historyId]));
    expect(await q('SELECT status, history_id FROM s3_objects WHERE id = $1', [l2.objectId])).toEqual([{ status: 'loaded', history_id: String(l2.historyId) }]);
  });

  it('a load of an older export does not commit after a newer export of its table committed', async () => {
    const older = await claimedLoad('fence/fact_wowy_2025-12-29.csv', { holder: HOLDER, claimHolder: HOLDER, table: 'fact_wowy', date: '2025-12-29' });
    const newer = await claimedLoad('fence/fact_wowy_2025-12-30.csv', { holder: OTHER, claimHolder: OTHER, table: 'fact_wowy', date: '2025-12-30' });
    await t.db.transaction((tx) => tx.query("UPDATE load_history SET status = 'succeeded' WHERE id = $1", [newer.historyId]));
    await expect(t.db.transaction((tx) => tx.query("UPDATE load_history SET status = 'succeeded' WHERE id = $1", [older.historyId]))).rejects.toThrow(
      /fact_wowy_2025-12-30\.csv/,
    );
  });
});
