/**
 * A drop the drift policy refuses is not lost: it changes nothing, is copied to refused/
 * (not failed/) with its plan, stays the bucket's latest export of its table, and Slack
 * gets the plan with a button. The button is an admin's: an operator's click is refused;
 * an admin's click asks to confirm, and the confirmed job applies the evolution (a
 * recorded schema change) and loads the very file that was refused.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderSource, load } from '../../loader/engine';
import { handleS3Event } from '../../loader/s3/process-event';
import { latestExportsSource } from '../../loader/s3/source';
import { captureServer } from '../support/capture-server';
import { freshDatabase, type TestDatabase } from '../support/database';
import { csvFor, folderWith, miniLeague, miniLeagueFiles } from '../support/fixtures';
import { startHarness, type Harness } from '../bot/support/harness';
import { ADMIN, OPERATOR, buttons, click, isFinal, readable } from '../bot/support/slack';
import { BUCKET, loaderDeps, testBucket, type TestBucket } from './support/bucket';

let t: TestDatabase;
let b: TestBucket;
let slack: Awaited<ReturnType<typeof captureServer>>;
let h: Harness;

const KEY = 'exports/2025-12-30/fact_events.csv';
/** fact_events with a column the export did not have before (core facts refuse new columns by default). */
const drifted = () =>
  csvFor(
    'fact_events',
    miniLeague().events.map((e, i) => ({ ...e, danger_rating: (i % 5) + 0.5 })),
    { headers: [...Object.keys(miniLeague().events[0]!), 'danger_rating'].filter((h) => h !== 'index') },
  );

const columnsOf = async (table: string) =>
  (await t.db.query<{ c: string }>('SELECT column_name AS c FROM information_schema.columns WHERE table_name = $1', [table])).rows.map((r) => r.c);

beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  b = await testBucket();
  slack = await captureServer();
  const files = miniLeagueFiles();
  const tables = Object.keys(files).map((f) => f.replace(/\.csv$/, ''));
  const r = await load(t.db, { scope: { kind: 'tables', tables }, operation: 'upsert', source: folderSource(folderWith(files)), initiatedBy: 'test' });
  expect(r.error).toBeUndefined();
  h = await startHarness(t.db, {
    source: async (want) => latestExportsSource(b.s3, BUCKET, want),
    config: { roles: { admins: [ADMIN], operators: [OPERATOR], viewers: ['*'] } },
  });
}, 120_000);
afterAll(async () => {
  await h?.stop();
  await slack?.close();
  await b?.stop();
  await t?.drop();
});

describe('a drop the drift policy refuses', () => {
  let value = '';

  it('changes nothing, is kept in refused/ with its plan, and Slack gets the plan with a button', async () => {
    const before = await t.db.query('SELECT * FROM fact_events ORDER BY event_key');
    const csv = drifted();
    expect(csv.split('\n')[0]).toMatch(/danger_rating/);
    const e = await b.put(KEY, csv);
    // Not retried (a retry would be refused the same way): no throw, outcome 'refused'.
    const [outcome] = await handleS3Event(e, loaderDeps(t.db, b.s3, slack.url));
    expect(outcome).toMatchObject({ status: 'refused', message: expect.stringMatching(/danger_rating/) });
    expect((await t.db.query('SELECT * FROM fact_events ORDER BY event_key')).rows).toEqual(before.rows);
    expect(await columnsOf('fact_events')).not.toContain('danger_rating');

    const refused = await b.keys('refused/');
    expect(refused.filter((k) => k.endsWith(`/${KEY}`))).toHaveLength(1);
    expect((await b.keys('failed/')).filter((k) => k.includes(KEY))).toEqual([]);
    const planKey = refused.find((k) => k.endsWith(`/${KEY}.error.json`))!;
    const plan = JSON.parse(await (await b.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: planKey }))).Body!.transformToString());
    expect(plan.drift).toEqual([expect.objectContaining({ table: 'fact_events', refused: expect.stringMatching(/danger_rating/) })]);

    const posted = slack.seen.filter((c) => c.path.endsWith('chat.postMessage')).at(-1)!.json as { text: string; blocks: any[] };
    expect(posted.text).toMatch(/^Not loaded, refused by the drift policy: s3:\/\/benchsight-drop\/exports\/2025-12-30\/fact_events.csv/);
    expect(posted.text).toMatch(/danger_rating/);
    const [button] = buttons(posted);
    expect(button).toMatchObject({ action_id: 'benchsight_evolve', value: expect.stringMatching(/^load table fact_events .*--evolve$/) });
    value = button!.value;

    // Still the bucket's latest export of fact_events: loadable.
    const latest = await latestExportsSource(b.s3, BUCKET);
    expect(latest.describe()).toContain(KEY);
  });

  it("is an admin's to evolve: an operator's click is refused and runs nothing", async () => {
    const url = h.capture.url();
    const a = await click(h.bot.url, { actionId: 'benchsight_evolve', value, userId: OPERATOR, responseUrl: url });
    expect(a.status).toBe(200);
    const answer = await h.capture.waitFor(url, () => true);
    expect(answer.body.text).toMatch(/admin/);
    expect(buttons(answer.body)).toEqual([]);
    expect(await columnsOf('fact_events')).not.toContain('danger_rating');
  });

  it("an admin's click asks to confirm; confirmed, the column is added (recorded) and the refused file loads", async () => {
    const url = h.capture.url();
    await click(h.bot.url, { actionId: 'benchsight_evolve', value, userId: ADMIN, responseUrl: url });
    const prompt = await h.capture.waitFor(url, (c) => buttons(c.body).length > 0);
    expect(readable(prompt.body)).toContain(`Only <@${ADMIN}> can confirm`);
    expect(await columnsOf('fact_events')).not.toContain('danger_rating');
    const [confirm] = buttons(prompt.body);

    const done = h.capture.url();
    await click(h.bot.url, { actionId: 'benchsight_confirm', value: confirm!.value, userId: ADMIN, responseUrl: done });
    const result = await h.capture.waitFor(done, (c) => isFinal(c) && !c.body.text.startsWith('confirmed'), 60_000);
    expect(readable(result.body)).toMatch(/OK/);
    expect(await columnsOf('fact_events')).toContain('danger_rating');
    const loaded = await t.db.query<{ n: string }>('SELECT count(*) AS n FROM fact_events WHERE danger_rating IS NOT NULL');
    expect(Number(loaded.rows[0]!.n)).toBe(miniLeague().events.length);
    const changes = await t.db.query<{ by: string }>(
      "SELECT changed_by AS by FROM schema_changes WHERE table_name = 'fact_events' AND column_name = 'danger_rating'",
    );
    expect(changes.rows).toEqual([{ by: ADMIN }]);
    const history = await t.db.query<{ source: string; by: string }>(
      "SELECT source, initiated_by AS by FROM load_history WHERE kind = 'table' AND table_name = 'fact_events' ORDER BY id DESC LIMIT 1",
    );
    expect(history.rows[0]!.source).toContain(KEY);
    expect(history.rows[0]!.by).toBe(ADMIN);
  });
});
