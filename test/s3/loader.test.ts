/**
 * The bundled loader Lambda (dist/loader/index.js, built here) against a real S3
 * server (s3rver) and the real PostgreSQL: upload → event → rows, history, processed/.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildLambdas } from '../../infra/build';
import { startLocalS3, LOCAL_CREDENTIALS, type LocalS3 } from '../../loader/s3/local';
import type { S3EventLike } from '../../loader/s3/process-event';
import { freshDatabase, type TestDatabase } from '../support/database';
import { csvFor, miniLeague, miniLeagueFiles } from '../support/fixtures';
import { captureServer } from '../support/capture-server';
import { hasRealData, REAL_CSV } from '../support/real-data';

const BUCKET = 'benchsight-drop';
let t: TestDatabase;
let s3srv: LocalS3;
let s3: S3Client;
let slack: Awaited<ReturnType<typeof captureServer>>;
let handler: (e: S3EventLike) => Promise<unknown>;
const events: S3EventLike[] = [];

beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  slack = await captureServer();
  s3srv = await startLocalS3({ dir: mkdtempSync(path.join(tmpdir(), 'bs-s3-')), bucket: BUCKET, onEvent: (e) => events.push(e) });
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: s3srv.endpoint,
    forcePathStyle: true,
    credentials: LOCAL_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const out = mkdtempSync(path.join(tmpdir(), 'bs-dist-'));
  await buildLambdas(['loader'], { outDir: out });
  Object.assign(process.env, {
    DATABASE_URL: t.url,
    AWS_ENDPOINT_URL_S3: s3srv.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    SLACK_NOTIFY_CHANNEL: 'C0LOADS',
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_API_URL: slack.url,
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  handler = require(path.join(out, 'loader', 'index.js')).handler;
}, 120_000);
afterAll(async () => {
  await s3srv?.stop();
  await slack?.close();
  await t?.drop();
});
beforeEach(() => {
  events.length = 0;
});

async function put(key: string, body: string | Buffer): Promise<S3EventLike> {
  const before = events.length;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  for (let i = 0; i < 100 && events.length === before; i++) await new Promise((r) => setTimeout(r, 10));
  const e = events[events.length - 1];
  if (!e) throw new Error(`no event for ${key}`);
  return e;
}
async function keys(prefix: string): Promise<string[]> {
  const r = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (r.Contents ?? []).map((o) => o.Key!).sort();
}
const q = async (sql: string, p: unknown[] = []) => (await t.db.query<Record<string, unknown>>(sql, p)).rows;

describe('the loader Lambda (bundled)', () => {
  it('loads an uploaded CSV into its table, records it, copies it to processed/ and tells Slack', async () => {
    const files = miniLeagueFiles();
    const e = await put('exports/2025-12-29/dim_team.csv', files['dim_team.csv']!);
    expect(e.Records![0]!.s3.object.key).toBe('exports/2025-12-29/dim_team.csv');
    await handler(e);
    expect(await q('SELECT team_id FROM dim_team ORDER BY 1')).toEqual([{ team_id: 'N10001' }, { team_id: 'N10002' }]);
    const h = await q(
      "SELECT status, rows_inserted, initiated_by, warnings->'context'->>'key' AS key FROM load_history WHERE kind = 'request' ORDER BY id DESC LIMIT 1",
    );
    expect(h).toEqual([{ status: 'succeeded', rows_inserted: '2', initiated_by: expect.stringMatching(/^s3:/), key: 'exports/2025-12-29/dim_team.csv' }]);
    expect((await keys('processed/')).some((k) => k.endsWith('/exports/2025-12-29/dim_team.csv'))).toBe(true);
    const posted = slack.seen.find((c) => c.path.endsWith('chat.postMessage'));
    expect(posted?.headers.authorization).toBe('Bearer xoxb-test-token');
    expect((posted!.json as { channel: string; text: string }).channel).toBe('C0LOADS');
    expect((posted!.json as { text: string }).text).toMatch(
      /Loaded: s3:\/\/benchsight-drop\/exports\/2025-12-29\/dim_team.csv[\s\S]*dim_team\s+upsert\s+2\s+2/,
    );
  });

  it('a file whose every row is rejected is loaded PARTIAL: said so to Slack and in history, not "Loaded"', async () => {
    const m = miniLeague();
    const before = slack.seen.length;
    const e = await put(
      'exports/orphans/fact_events.csv',
      csvFor(
        'fact_events',
        m.events.map((x) => ({ ...x, game_id: 999999 })),
      ),
    );
    await handler(e);
    const h = await q("SELECT status FROM load_history WHERE kind = 'request' AND warnings->'context'->>'key' = 'exports/orphans/fact_events.csv'");
    expect(h).toEqual([{ status: 'partial' }]);
    const posted = slack.seen.slice(before).find((c) => c.path.endsWith('chat.postMessage'));
    expect((posted!.json as { text: string }).text).toMatch(
      /^Not loaded, PARTIAL: every row was rejected: s3:\/\/benchsight-drop\/exports\/orphans\/fact_events.csv[\s\S]*fact_events: 6 of 6 rows rejected/,
    );
  });

  it('decodes keys with spaces and + the way S3 sends them', async () => {
    const e = await put('in box/a+b/dim_player.csv', miniLeagueFiles()['dim_player.csv']!);
    expect(e.Records![0]!.s3.object.key).toBe('in+box/a%2Bb/dim_player.csv');
    await handler(e);
    expect(await q('SELECT count(*)::int AS n FROM dim_player')).toEqual([{ n: 4 }]);
    const o = await q("SELECT status FROM s3_objects WHERE key = 'in box/a+b/dim_player.csv'");
    expect(o).toEqual([{ status: 'loaded' }]);
    expect((await keys('processed/')).some((k) => k.endsWith('/in box/a+b/dim_player.csv'))).toBe(true);
  });

  it('loads an object delivered three times only once', async () => {
    const e = await put('dim_schedule.csv', miniLeagueFiles()['dim_schedule.csv']!);
    await Promise.all([handler(e), handler(e), handler(e)]);
    await handler(e);
    const loads = await q("SELECT count(*)::int AS n FROM load_history WHERE kind = 'request' AND warnings->'context'->>'key' = 'dim_schedule.csv'");
    expect(loads).toEqual([{ n: 1 }]);
    expect(await q('SELECT count(*)::int AS n FROM dim_schedule')).toEqual([{ n: 3 }]);
  });

  it('never lets an older upload of a key overwrite a newer one that already loaded', async () => {
    const m = miniLeague();
    const older = await put(
      'teams/dim_team.csv',
      csvFor(
        'dim_team',
        m.teams.map((x) => ({ ...x, league: 'OLDER' })),
      ),
    );
    await new Promise((r) => setTimeout(r, 5));
    const newer = await put(
      'teams/dim_team.csv',
      csvFor(
        'dim_team',
        m.teams.map((x) => ({ ...x, league: 'NEWER' })),
      ),
    );
    expect(older.Records![0]!.s3.object.sequencer).not.toBe(newer.Records![0]!.s3.object.sequencer);
    await handler(newer);
    await handler(older);
    expect(await q('SELECT DISTINCT league FROM dim_team')).toEqual([{ league: 'NEWER' }]);
    expect(await q("SELECT status FROM s3_objects WHERE key = 'teams/dim_team.csv' ORDER BY id")).toEqual([{ status: 'loaded' }, { status: 'skipped' }]);
    expect(await q("SELECT error_message FROM load_history WHERE source = 's3://benchsight-drop/teams/dim_team.csv' AND status = 'refused'")).toEqual([
      { error_message: expect.stringMatching(/older than an upload of the same key/) },
    ]);
  });

  it('refuses a bad file: failed/ copy with the error beside it, failed history, no data change, and throws for a retry', async () => {
    const before = await q('SELECT * FROM dim_player ORDER BY player_id');
    // (Not a value that no longer fits its type: that is drift, refused/, drift-refused.test.ts.)
    const bad = miniLeagueFiles()['dim_player.csv']!.replace('Sam Downs', 'Sam "Downs');
    const e = await put('dim_player.csv', bad);
    await expect(handler(e)).rejects.toThrow(/dim_player.csv.*line 2: a quote in the middle of a field/);
    expect(await q('SELECT * FROM dim_player ORDER BY player_id')).toEqual(before);
    const h = await q("SELECT status, error_message FROM load_history WHERE kind = 'request' ORDER BY id DESC LIMIT 1");
    expect(h[0]).toMatchObject({ status: 'failed', error_message: expect.stringMatching(/line 2: a quote in the middle of a field/) });
    const failed = await keys('failed/');
    const errorKey = failed.find((k) => k.endsWith('/dim_player.csv.error.json'));
    expect(errorKey).toBeDefined();
    expect(failed.some((k) => k.endsWith('/dim_player.csv'))).toBe(true);
    const err = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: errorKey! }))).Body!.transformToString());
    expect(err.error).toMatch(/line 2: a quote in the middle of a field/);
  });

  it('reports names it cannot place and files it does not load, without guessing', async () => {
    const e1 = await put('uploads/teams-final.csv', 'a,b\n1,2\n');
    const e2 = await put('notes.txt', 'hello');
    await handler(e1);
    await handler(e2);
    const h = await q("SELECT source, status, error_message FROM load_history WHERE status = 'refused' AND source IN ($1, $2) ORDER BY id", [
      's3://benchsight-drop/uploads/teams-final.csv',
      's3://benchsight-drop/notes.txt',
    ]);
    expect(h).toEqual([
      {
        source: 's3://benchsight-drop/uploads/teams-final.csv',
        status: 'refused',
        error_message: expect.stringMatching(/cannot tell which table "teams-final.csv" is for/),
      },
      { source: 's3://benchsight-drop/notes.txt', status: 'refused', error_message: expect.stringMatching(/not a CSV export/) },
    ]);
  });

  it('ignores s3:TestEvent and its own processed/ copies', async () => {
    await expect(handler({ Event: 's3:TestEvent' } as S3EventLike)).resolves.toEqual({ outcomes: [] });
    const copyEvents = events.filter((e) => e.Records?.[0]?.s3.object.key.startsWith('processed'));
    for (const e of copyEvents) await handler(e);
    const r = (await handler({
      Records: [{ eventName: 'ObjectCreated:Copy', s3: { bucket: { name: BUCKET }, object: { key: 'processed/2025-01-01/h1/dim_team.csv' } } }],
    } as unknown as S3EventLike)) as { outcomes: { status: string }[] };
    expect(r.outcomes[0]!.status).toBe('ignored');
  });

  it('loads a batch folder of files with a manifest as one request, whatever order the events come in', async () => {
    const files = miniLeagueFiles();
    const order = ['fact_events_player.csv', 'dim_schedule.csv', 'fact_events.csv', 'dim_team.csv', 'dim_player.csv'];
    const evs: S3EventLike[] = [];
    for (const f of order) evs.push(await put(`batches/b1/${f}`, files[f]!));
    evs.push(await put('batches/b1/_manifest.json', JSON.stringify({ operation: 'replace' })));
    await t.db.query('TRUNCATE fact_events, fact_events_player');
    for (const e of [evs[2]!, evs[5]!, evs[0]!, evs[4]!, evs[1]!, evs[3]!]) await handler(e);
    const req = await q("SELECT id, status, scope FROM load_history WHERE kind = 'request' AND source = 's3://benchsight-drop/batches/b1/'");
    expect(req).toHaveLength(1);
    expect(req[0]!.status).toBe('succeeded');
    const tables = await q('SELECT table_name, rows_inserted, rows_rejected FROM load_history WHERE parent_id = $1 ORDER BY id', [req[0]!.id]);
    expect(tables.map((x) => x.table_name)).toEqual(['dim_player', 'dim_team', 'dim_schedule', 'fact_events', 'fact_events_player']);
    expect(tables.every((x) => x.rows_rejected === '0')).toBe(true);
    expect((await keys('processed/')).filter((k) => k.includes('/batches/b1/'))).toHaveLength(6);
  });

  it.skipIf(!hasRealData)('loads all 12 real files dropped at once with a manifest, events shuffled', async () => {
    const evs: S3EventLike[] = [];
    for (const f of readdirSync(REAL_CSV).filter((x) => x.endsWith('.csv'))) evs.push(await put(`batches/real/${f}`, readFileSync(path.join(REAL_CSV, f))));
    evs.push(await put('batches/real/_manifest.json', '{"operation":"replace"}'));
    const shuffled = [...evs].sort((a, b) => ((a.Records![0]!.s3.object.key.length * 7919) % 13) - ((b.Records![0]!.s3.object.key.length * 7919) % 13));
    for (const e of shuffled) await handler(e);
    const req = await q("SELECT id, status FROM load_history WHERE kind = 'request' AND source = 's3://benchsight-drop/batches/real/'");
    expect(req).toEqual([{ id: expect.anything(), status: 'succeeded' }]);
    const tables = await q('SELECT table_name FROM load_history WHERE parent_id = $1 ORDER BY id', [req[0]!.id]);
    expect(tables.map((x) => x.table_name)).toEqual([
      'dim_player',
      'dim_team',
      'dim_schedule',
      'fact_shifts',
      'fact_events',
      'fact_events_player',
      'fact_shifts_player',
      'fact_player_game_stats',
      'fact_team_game_stats',
      'fact_goalie_game_stats',
      'fact_h2h',
      'fact_wowy',
    ]);
    expect(await q('SELECT count(*)::int AS n FROM fact_events_player')).toEqual([{ n: 11181 }]);
  });
});
