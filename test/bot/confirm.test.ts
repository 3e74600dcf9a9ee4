/**
 * Destructive commands (delete game, full-refresh, replace and merge loads) ask first: a red
 * confirm button and a cancel button, both carrying a signed value. Only the asker can
 * use them, only before they expire, and only once — also when two processes get the
 * click at the same moment.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isDestructive, parseCommand } from '../../loader/commands/grammar';
import { folderSource } from '../../loader/engine';
import { generateExport, type GenerateResult } from '../../loader/generate';
import { freshDatabase, type TestDatabase } from '../support/database';
import { startHarness, type Harness } from './support/harness';
import { ADMIN, OPERATOR, buttons, click, commandRows, eventually, isFinal, readable, slash, warehouseCounts, type Captured } from './support/slack';

const ADMIN2 = 'U0ADMIN2';
let t: TestDatabase;
let h: Harness;
let league: GenerateResult;
let exportDir: string;
/** Added to the bot's clock, to make a confirmation expire. */
let skewMs = 0;

beforeAll(async () => {
  exportDir = mkdtempSync(path.join(tmpdir(), 'bs-bot-confirm-'));
  league = await generateExport({ games: 2, outDir: exportDir });
  t = await freshDatabase({ migrated: true });
  h = await startHarness(t.db, {
    source: async () => folderSource(exportDir),
    config: { roles: { admins: [ADMIN, ADMIN2], operators: [OPERATOR], viewers: ['*'] } },
    bot: { now: () => Date.now() + skewMs },
  });
});
afterAll(async () => {
  await h?.stop();
  await t?.drop();
});

beforeEach(async () => {
  skewMs = 0;
  // Every game loaded, so that deletes have something to delete.
  const url = h.capture.url();
  await slash(h.bot.url, { text: 'load all upsert', userId: OPERATOR, responseUrl: url });
  const done = await h.capture.waitFor(url, isFinal);
  // The first load of the league changes rows; a later one finds them there already.
  expect(readable(done.body)).toMatch(/(OK|NOTHING TO DO): all \(upsert\)/);
});

/** Types a destructive command; returns the prompt and its signed button value. */
async function prompt(text: string, userId = ADMIN) {
  const a = await slash(h.bot.url, { text, userId, responseUrl: h.capture.url() });
  expect(a.status).toBe(200);
  const [confirm, cancel] = buttons(a.json);
  expect(confirm, a.text).toMatchObject({ action_id: 'benchsight_confirm', style: 'danger' });
  expect(cancel).toMatchObject({ action_id: 'benchsight_cancel' });
  expect(cancel!.style).toBeUndefined();
  return { ack: a.json, value: confirm!.value };
}

async function press(value: string, userId = ADMIN, actionId: 'benchsight_confirm' | 'benchsight_cancel' = 'benchsight_confirm') {
  const responseUrl = h.capture.url();
  const a = await click(h.bot.url, { actionId, value, userId, responseUrl });
  expect(a.status).toBe(200);
  return responseUrl;
}

async function deleteRequests(): Promise<number> {
  const r = await t.db.query<{ n: string }>("SELECT count(*) AS n FROM load_history WHERE kind = 'request' AND operation = 'delete'");
  return Number(r.rows[0]!.n);
}

const note = (url: string, match: RegExp): Promise<Captured> => h.capture.waitFor(url, (c) => match.test(c.body.text));

describe('confirm, then run', () => {
  it('delete game: prompt → the asker confirms → the job runs → the result arrives at the response_url', async () => {
    const game = league.gameIds[0]!;
    const before = await warehouseCounts(t.db);
    const { ack, value } = await prompt(`delete game ${game}`);
    expect(ack.response_type).toBe('ephemeral');
    expect(readable(ack)).toContain(`*delete of game ${game}* destroys data and cannot be undone`);
    expect(readable(ack)).toContain(`Only <@${ADMIN}> can confirm`);
    expect(await warehouseCounts(t.db)).toEqual(before);
    const [asked] = await commandRows(t.db, `scope = $1 AND status = 'started'`, [`delete game ${game}`]);
    expect(asked!.warnings.confirmation).toMatchObject({ state: 'asked' });

    const url = await press(value);
    const confirmed = await note(url, /^confirmed by/);
    expect(confirmed.body.replace_original).toBe(true);
    expect(confirmed.body.text).toBe(`confirmed by <@${ADMIN}>: queued delete of game ${game}, job ${asked!.id}`);
    const result = await h.capture.waitFor(url, (c) => isFinal(c) && !c.body.text.startsWith('confirmed'));
    expect(readable(result.body)).toMatch(new RegExp(`OK: game ${game} \\(delete\\) in \\d+\\.\\d\\d s, history #\\d+`));
    expect(readable(result.body)).toMatch(/fact_events\s+replace\s+0\s+0\s+0\s+[1-9]\d*/);

    const left = await t.db.query<{ n: string }>('SELECT count(*) AS n FROM fact_events WHERE game_id = $1', [game]);
    expect(Number(left.rows[0]!.n)).toBe(0);
    const [row] = await commandRows(t.db, 'id = $1', [asked!.id]);
    expect(row).toMatchObject({ status: 'succeeded', operation: 'delete', initiated_by: ADMIN });
    expect(row!.warnings.confirmation.state).toBe('confirmed');
  });

  it('full-refresh and load all replace are confirmed the same way', async () => {
    for (const [text, done] of [
      ['full-refresh', /OK: full-refresh \(default operations\)|OK: full-refresh/],
      ['load all replace', /OK: all \(replace\)/],
    ] as const) {
      const { value } = await prompt(text);
      const url = await press(value);
      const result = await h.capture.waitFor(url, (c) => isFinal(c) && !c.body.text.startsWith('confirmed'));
      expect(readable(result.body)).toMatch(done);
    }
    expect((await warehouseCounts(t.db)).fact_events).toBe(league.files.find((f) => f.table === 'fact_events')!.rows);
  });

  it('delete game … dry-run shows what it would delete and changes nothing (asking first only if the grammar says it destroys)', async () => {
    const game = league.gameIds[1]!;
    const before = await warehouseCounts(t.db);
    const text = `delete game ${game} dry-run`;
    const parsed = parseCommand(text);
    let url: string;
    if (parsed.ok && isDestructive(parsed.command)) {
      url = await press((await prompt(text)).value);
    } else {
      url = h.capture.url();
      const ack = await slash(h.bot.url, { text, userId: ADMIN, responseUrl: url });
      expect(ack.json.text).toMatch(new RegExp(`^queued delete of game ${game}, dry run, job \\d+$`));
      const refused = await slash(h.bot.url, { text, userId: OPERATOR, responseUrl: h.capture.url() });
      expect(refused.json.text).toContain('needs the admin role');
    }
    const result = await h.capture.waitFor(url, (c) => isFinal(c) && !c.body.text.startsWith('confirmed'));
    expect(readable(result.body)).toContain('DRY RUN (nothing changed)');
    expect(await warehouseCounts(t.db)).toEqual(before);
  });

  it('cancel: nothing runs, the prompt says so, and the button is spent', async () => {
    const before = await warehouseCounts(t.db);
    const { value } = await prompt(`delete game ${league.gameIds[0]}`);
    const url = await press(value, ADMIN, 'benchsight_cancel');
    const cancelled = await note(url, /^cancelled/);
    expect(cancelled.body).toMatchObject({ replace_original: true, text: `cancelled delete of game ${league.gameIds[0]}; nothing changed` });
    const again = await press(value);
    expect((await note(again, /already/)).body.text).toContain('was already cancelled: nothing was run again');
    expect(await warehouseCounts(t.db)).toEqual(before);
    const rows = await commandRows(t.db, 'scope = $1', [`delete game ${league.gameIds[0]}`]);
    expect(rows.at(-2)).toMatchObject({ status: 'refused', error_message: `cancelled by ${ADMIN} before it ran` });
    expect(rows.at(-1)).toMatchObject({ status: 'refused', error_message: expect.stringContaining('already cancelled') });
  });
});

describe('refused clicks change nothing and are recorded', () => {
  it('someone else clicking the button (even an admin) is refused; the asker can still confirm', async () => {
    const game = league.gameIds[0]!;
    const before = await warehouseCounts(t.db);
    const deletes = await deleteRequests();
    const { value } = await prompt(`delete game ${game}`);
    for (const other of [ADMIN2, OPERATOR]) {
      const url = await press(value, other);
      expect((await note(url, /only/)).body.text).toBe(`only <@${ADMIN}>, who asked for delete of game ${game}, can confirm it: nothing was run`);
      const refused = await eventually(async () => (await commandRows(t.db, 'initiated_by = $1 AND status = $2', [other, 'refused'])).at(-1));
      expect(refused).toMatchObject({ scope: `delete game ${game}`, error_message: expect.stringContaining('only <@') });
    }
    expect(await warehouseCounts(t.db)).toEqual(before);
    expect(await deleteRequests()).toBe(deletes);

    const url = await press(value);
    await h.capture.waitFor(url, (c) => /OK: game/.test(readable(c.body)));
    expect(await deleteRequests()).toBe(deletes + 1);
  });

  it('an expired confirmation is refused and its prompt is closed', async () => {
    const before = await warehouseCounts(t.db);
    const { value } = await prompt(`delete game ${league.gameIds[0]}`);
    skewMs = 5 * 60_000 + 1000;
    const url = await press(value);
    expect((await note(url, /expired/)).body.text).toMatch(/^this confirmation of delete of game \d+ expired at \d\d:\d\d:\d\d UTC: nothing was run/);
    expect((await note(url, /not confirmed in time/)).body.replace_original).toBe(true);
    expect(await warehouseCounts(t.db)).toEqual(before);
    const rows = await commandRows(t.db, 'scope = $1', [`delete game ${league.gameIds[0]}`]);
    const asked = rows.filter((r) => r.warnings.confirmation?.state === 'expired');
    expect(asked.at(-1)).toMatchObject({ status: 'refused', error_message: 'not confirmed in time' });
    expect(rows.at(-1)).toMatchObject({ status: 'refused', error_message: expect.stringContaining('expired') });
  });

  it('a second click does nothing (one-shot)', async () => {
    const { value } = await prompt(`delete game ${league.gameIds[0]}`);
    const first = await press(value);
    await h.capture.waitFor(first, (c) => /OK: game/.test(readable(c.body)));
    const deletes = await deleteRequests();
    const counts = await warehouseCounts(t.db);

    const second = await press(value);
    expect((await note(second, /already/)).body.text).toBe(`this confirmation of delete of game ${league.gameIds[0]} was already used: nothing was run again`);
    expect(await deleteRequests()).toBe(deletes);
    expect(await warehouseCounts(t.db)).toEqual(counts);
    const refused = (await commandRows(t.db, "status = 'refused' AND scope = $1", [`delete game ${league.gameIds[0]}`])).at(-1);
    expect(refused!.error_message).toContain('already used');
  });

  it('two clicks reaching two bot processes at once: exactly one runs', async () => {
    const other = await startHarness(t.db, { source: async () => folderSource(exportDir) });
    try {
      const { value } = await prompt(`delete game ${league.gameIds[1]}`);
      const deletes = await deleteRequests();
      const urls = [h.capture.url(), other.capture.url()];
      const answers = await Promise.all([
        click(h.bot.url, { actionId: 'benchsight_confirm', value, responseUrl: urls[0]! }),
        click(other.bot.url, { actionId: 'benchsight_confirm', value, responseUrl: urls[1]! }),
      ]);
      expect(answers.map((a) => a.status)).toEqual([200, 200]);
      const posts = () => [...h.capture.at(urls[0]!), ...other.capture.at(urls[1]!)];
      await eventually(() => posts().some((c) => /already used/.test(c.body.text)) && posts().some((c) => /OK: game/.test(readable(c.body))));
      await eventually(async () => (await deleteRequests()) === deletes + 1);
      await new Promise((r) => setTimeout(r, 300));
      expect(await deleteRequests()).toBe(deletes + 1);
    } finally {
      await other.stop();
    }
  });

  it('a button value that was altered (or made elsewhere) is refused', async () => {
    const { value } = await prompt(`delete game ${league.gameIds[0]}`);
    const [v, claims, mac] = value.split('.') as [string, string, string];
    const json = JSON.parse(Buffer.from(claims, 'base64url').toString());
    const forged = [v, Buffer.from(JSON.stringify({ ...json, c: 'full-refresh' })).toString('base64url'), mac].join('.');
    const before = await warehouseCounts(t.db);
    const url = await press(forged);
    expect((await note(url, /not made by/)).body.text).toBe('this button was not made by this BenchSight bot, or was altered: nothing was run');
    expect(await warehouseCounts(t.db)).toEqual(before);
  });
});
