/**
 * "The latest export" of the drop bucket, which Slack and CLI commands load from: only
 * objects that are complete and loadable (not failed, not a batch still arriving), one
 * batch per request unless it lacks a table, and the files taken named in the result
 * and the history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load } from '../../loader/engine';
import { handleS3Event } from '../../loader/s3/process-event';
import { latestExportsSource } from '../../loader/s3/source';
import { freshDatabase, type TestDatabase } from '../support/database';
import { miniLeagueFiles } from '../support/fixtures';
import { BUCKET, loaderDeps, rowsOf, testBucket, type TestBucket } from './support/bucket';

let t: TestDatabase;
let b: TestBucket;
let q: ReturnType<typeof rowsOf>;

beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  b = await testBucket();
  q = rowsOf(t.db);
}, 120_000);
afterAll(async () => {
  await b?.stop();
  await t?.drop();
});

const files = miniLeagueFiles();
const second = () => new Promise((r) => setTimeout(r, 1100)); // S3 times objects to the second
/** Uploads a batch (files, then its manifest) and hands every event to the loader. */
async function dropBatch(name: string, names: string[], manifest = true) {
  const evs = [];
  for (const f of names) evs.push(await b.put(`batches/${name}/${f}`, files[f]!));
  if (manifest) evs.push(await b.put(`batches/${name}/_manifest.json`, JSON.stringify({ operation: 'replace' })));
  for (const e of evs) await handleS3Event(e, loaderDeps(t.db, b.s3));
}
/** The event tables of game 1001 from the bucket, as `load table ... game 1001` runs them. */
async function loadGame() {
  return load(t.db, {
    scope: { kind: 'tables', tables: ['fact_events', 'fact_events_player'] },
    gameId: 1001,
    operation: 'replace',
    source: await latestExportsSource(b.s3, BUCKET),
    initiatedBy: 'test',
  });
}

describe("the bucket's latest export", () => {
  it('leaves out a drop that failed to load and a batch still arriving, and says which files it took', async () => {
    await dropBatch('sample', Object.keys(files));
    expect(await q("SELECT status FROM load_history WHERE kind = 'request' AND source = 's3://benchsight-drop/batches/sample/'")).toEqual([
      { status: 'succeeded' },
    ]);
    await second();
    // A bad fact_events.csv at the root: it fails to load (and goes to failed/).
    const bad = await b.put('fact_events.csv', Buffer.concat([Buffer.from(files['fact_events.csv']!), Buffer.from([0, 0, 0])]));
    await expect(handleS3Event(bad, loaderDeps(t.db, b.s3))).rejects.toThrow(/NUL/);
    // A batch whose files are arriving: no manifest yet.
    await b.put('batches/next/fact_events.csv', files['fact_events.csv']!);

    const r = await loadGame();
    expect(r.error).toBeUndefined();
    expect(r.status).toBe('succeeded');
    expect(r.tables.map((x) => [x.table, x.file])).toEqual([
      ['fact_events', 's3://benchsight-drop/batches/sample/fact_events.csv'],
      ['fact_events_player', 's3://benchsight-drop/batches/sample/fact_events_player.csv'],
    ]);
    const h = await q('SELECT source FROM load_history WHERE id = $1', [r.historyId]);
    expect(h[0]!.source).toMatch(/batches\/sample\//);
    expect(h[0]!.source).not.toMatch(/next|s3:\/\/benchsight-drop\/fact_events\.csv/);
  });

  it('takes every table the newest batch has from it, and only the tables it lacks from elsewhere', async () => {
    await second();
    // A newer, complete batch without fact_events_player.
    await dropBatch('newer', ['dim_team.csv', 'dim_player.csv', 'dim_schedule.csv', 'fact_events.csv']);
    expect(await q("SELECT status FROM load_history WHERE kind = 'request' AND source = 's3://benchsight-drop/batches/newer/'")).toEqual([
      { status: 'succeeded' },
    ]);
    const r = await loadGame();
    expect(r.status).toBe('succeeded');
    expect(r.tables.map((x) => [x.table, x.file])).toEqual([
      ['fact_events', 's3://benchsight-drop/batches/newer/fact_events.csv'],
      ['fact_events_player', 's3://benchsight-drop/batches/sample/fact_events_player.csv'],
    ]);
    const h = await q('SELECT source FROM load_history WHERE id = $1', [r.historyId]);
    expect(h[0]!.source).toMatch(/batches\/newer\/.*batches\/sample\/ for [^;]*fact_events_player/);
  });

  it('a good drop newer than every batch is the latest export of its table', async () => {
    await second();
    const good = await b.put('fact_events.csv', files['fact_events.csv']!);
    expect((await handleS3Event(good, loaderDeps(t.db, b.s3)))[0]).toMatchObject({ status: 'loaded' });
    const r = await loadGame();
    expect(r.tables.map((x) => [x.table, x.file])).toEqual([
      ['fact_events', 's3://benchsight-drop/fact_events.csv'],
      ['fact_events_player', 's3://benchsight-drop/batches/sample/fact_events_player.csv'],
    ]);
  });

  it('a drop for one game is the latest export of that game only: a load of that game takes it, other loads do not', async () => {
    await second();
    const drop = await b.put('game=1001/fact_events.csv', files['fact_events.csv']!);
    expect((await handleS3Event(drop, loaderDeps(t.db, b.s3)))[0]).toMatchObject({ status: 'loaded' });
    const ofGame = await latestExportsSource(b.s3, BUCKET, { gameId: 1001 });
    expect((await ofGame.fileFor('fact_events'))?.name).toBe('s3://benchsight-drop/game=1001/fact_events.csv');
    for (const other of [await latestExportsSource(b.s3, BUCKET), await latestExportsSource(b.s3, BUCKET, { gameId: 1002 })]) {
      expect((await other.fileFor('fact_events'))?.name).toBe('s3://benchsight-drop/fact_events.csv');
    }
  });
});
