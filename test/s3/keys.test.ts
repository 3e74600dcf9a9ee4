/**
 * What a drop-bucket key may be: keys that climb out of their folder (`..`), have empty
 * segments or backslashes are refused by `benchsight drop` and by the loader; and each
 * upload is one object to the loader even when its event carries no ETag or sequencer.
 */
import { existsSync, readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyKey } from '../../loader/s3/keys';
import { dropFiles } from '../../loader/s3/drop';
import { handleS3Event, type S3EventLike } from '../../loader/s3/process-event';
import { freshDatabase, type TestDatabase } from '../support/database';
import { csvFor, miniLeague } from '../support/fixtures';
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

/** Everything under `dir`, as relative paths. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('keys that are not loadable', () => {
  it.each([
    ['../../x/dim_team.csv', /\.\./],
    ['exports/../dim_team.csv', /\.\./],
    ['./dim_team.csv', /"\."/],
    ['exports//dim_team.csv', /empty/],
    ['/dim_team.csv', /empty/],
    ['exports\\dim_team.csv', /backslash/],
    ['batches/b1/..\\dim_team.csv', /backslash/],
  ])('classifies %s as not loadable, saying why', (key, why) => {
    const k = classifyKey(key);
    expect(k.kind).toBe('unknown');
    expect(k.kind === 'unknown' && k.reason).toMatch(why);
  });

  it('still reads the keys of the convention', () => {
    expect(classifyKey('exports/2025-12-29/fact_events.csv')).toMatchObject({ kind: 'csv', table: 'fact_events' });
    expect(classifyKey('game=18969/op=replace/fact_events_2025-12-29.csv')).toMatchObject({
      kind: 'csv',
      table: 'fact_events',
      gameId: 18969,
      operation: 'replace',
    });
    expect(classifyKey('in box/a+b/dim_player.csv')).toMatchObject({ kind: 'csv', table: 'dim_player' });
  });

  it('benchsight drop refuses a key that climbs out of its folder, and writes nothing outside the bucket', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bs-drop-'));
    const file = path.join(dir, 'dim_team.csv');
    writeFileSync(file, csvFor('dim_team', miniLeague().teams));
    const before = tree(b.dir);
    for (const prefix of ['../../x', 'a//b', 'a\\b', './a']) {
      await expect(dropFiles(b.s3, { files: [file], bucket: BUCKET, prefix })).rejects.toThrow(/not a safe key|\.\.|empty|backslash/);
    }
    expect(tree(b.dir)).toEqual(before);
    expect(existsSync(path.join(b.dir, 'x'))).toBe(false);
  });

  it('the loader refuses such a key: recorded, told, no copy anywhere, not retried', async () => {
    const before = tree(b.dir);
    // Only what the loader reads: a real event has more fields, a hostile one may lack some.
    const event = {
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: BUCKET }, object: { key: '..%2F..%2Fx%2Fdim_team.csv'.replace(/%2F/g, '/'), eTag: 'abc', sequencer: '01' } },
        },
      ],
    } as unknown as S3EventLike;
    const outcomes = await handleS3Event(event, loaderDeps(t.db, b.s3));
    expect(outcomes).toEqual([expect.objectContaining({ status: 'refused', message: expect.stringMatching(/\.\./) })]);
    expect(await q('SELECT count(*)::int AS n FROM dim_team')).toEqual([{ n: 0 }]);
    const h = await q("SELECT status, error_message FROM load_history WHERE source = 's3://benchsight-drop/../../x/dim_team.csv'");
    expect(h).toEqual([{ status: 'refused', error_message: expect.stringMatching(/\.\./) }]);
    expect(tree(b.dir)).toEqual(before);
  });
});

describe('events without an ETag or sequencer', () => {
  it('are told apart by the object itself: each upload of a key loads', async () => {
    const m = miniLeague();
    // Real S3 events carry them; events that lack them are handled all the same.
    const bare = (e: S3EventLike): S3EventLike =>
      ({
        Records: e.Records!.map((r) => ({ ...r, s3: { ...r.s3, object: { key: r.s3.object.key, size: r.s3.object.size } } })),
      }) as unknown as S3EventLike;
    const deps = loaderDeps(t.db, b.s3);
    const first = await b.put(
      'bare/dim_team.csv',
      csvFor(
        'dim_team',
        m.teams.map((x) => ({ ...x, league: 'FIRST' })),
      ),
    );
    expect((await handleS3Event(bare(first), deps))[0]).toMatchObject({ status: 'loaded' });
    // A second upload, a second later (S3 times objects to the second).
    await new Promise((r) => setTimeout(r, 1100));
    const second = await b.put(
      'bare/dim_team.csv',
      csvFor(
        'dim_team',
        m.teams.map((x) => ({ ...x, league: 'SECOND' })),
      ),
    );
    expect((await handleS3Event(bare(second), deps))[0]).toMatchObject({ status: 'loaded' });
    expect(await q('SELECT DISTINCT league FROM dim_team')).toEqual([{ league: 'SECOND' }]);
    // The same upload delivered again is still loaded once.
    expect((await handleS3Event(bare(second), deps))[0]).toMatchObject({ status: 'skipped', message: expect.stringMatching(/already loaded/) });
    expect(await q("SELECT count(*)::int AS n FROM s3_objects WHERE key = 'bare/dim_team.csv' AND status = 'loaded'")).toEqual([{ n: 2 }]);
  });
});
