/**
 * A command the grammar refuses is recorded, from the CLI as from Slack: one load_history
 * row (kind 'command', status 'refused') with the text as typed, why, and who typed it
 * (the OS user in the CLI, the Slack user id in Slack). Nothing else is run.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type Io } from '../../loader/entry/cli';
import { freshDatabase, type TestDatabase } from '../support/database';
import { startHarness, type Harness } from '../bot/support/harness';
import { OPERATOR, commandRows, eventually, slash } from '../bot/support/slack';
import { Capture } from '../support/capture';

let t: TestDatabase;
let h: Harness;

beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  h = await startHarness(t.db);
});
afterAll(async () => {
  await h?.stop();
  await t?.drop();
});

async function cli(...argv: string[]) {
  const stdout = new Capture();
  const stderr = new Capture();
  const io: Io = { stdout, stderr, stdin: Object.assign(new PassThrough(), { isTTY: false }) };
  const code = await main(argv, io, { DATABASE_URL: t.url, USER: 'cli-refusal-test' });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

async function requestRows(): Promise<number> {
  return Number((await t.db.query<{ n: string }>("SELECT count(*) AS n FROM load_history WHERE kind <> 'command'")).rows[0]!.n);
}

async function sourceOf(id: number): Promise<string | null> {
  return (await t.db.query<{ source: string | null }>('SELECT source FROM load_history WHERE id = $1', [id])).rows[0]!.source;
}

describe('grammar refusals are recorded', () => {
  it('in the CLI: exit 2, the message, and a refused row naming the OS user', async () => {
    const requests = await requestRows();
    const r = await cli('lod', 'table', 'fact_events');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "lod"; did you mean "load"\?/);
    const [row] = await commandRows(t.db, "initiated_by = 'cli:cli-refusal-test'");
    expect(row).toMatchObject({
      status: 'refused',
      operation: 'lod',
      scope: 'lod table fact_events',
      error_message: expect.stringContaining('unknown command "lod"'),
    });
    expect(await sourceOf(row!.id)).toBe('cli');
    expect(await requestRows()).toBe(requests);
  });

  it("the CLI row has the shape of Slack's refusal of the same words", async () => {
    await slash(h.bot.url, { text: 'load table fact_evnts upsert', userId: OPERATOR, responseUrl: h.capture.url() });
    await cli('load', 'table', 'fact_evnts', 'upsert');
    const slack = await eventually(async () => (await commandRows(t.db, 'initiated_by = $1 AND scope = $2', [OPERATOR, 'load table fact_evnts upsert']))[0]);
    const [local] = await commandRows(t.db, "initiated_by = 'cli:cli-refusal-test' AND scope = $1", ['load table fact_evnts upsert']);
    expect(local).toMatchObject({ status: slack.status, operation: slack.operation, scope: slack.scope });
    expect(local!.error_message).toContain('unknown table "fact_evnts"; did you mean "fact_events"?');
    expect(slack.error_message).toContain('unknown table "fact_evnts"; did you mean "fact_events"?');
    expect(await sourceOf(slack.id)).toBe('slack');
  });

  it('shows in the history', async () => {
    const r = await cli('history', 'limit', '5');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/refused\s+load table fact_evnts upsert\s+load\b.*cli:cli-refusal-test/);
  });
});
