/**
 * One rule for every command that deletes rows it does not put back (replace and merge of
 * any scope, full-refresh, delete game, a load whose tables default to replace): Slack
 * asks an admin to confirm with buttons, the CLI asks on the terminal or wants --yes.
 * A dry run changes nothing and asks nothing. Driven through the real Bolt endpoint and
 * the CLI's main(), against a real database holding a loaded league.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main, type Io } from '../../loader/entry/cli';
import { isDestructive, parseCommand } from '../../loader/commands/grammar';
import { folderSource, load } from '../../loader/engine';
import { generateExport, type GenerateResult } from '../../loader/generate';
import { freshDatabase, type TestDatabase } from '../support/database';
import { startHarness, type Harness } from '../bot/support/harness';
import { ADMIN, OPERATOR, buttons, click, commandRows, isFinal, readable, slash, warehouseCounts } from '../bot/support/slack';
import { Capture } from '../support/capture';

let t: TestDatabase;
let h: Harness;
let league: GenerateResult;
let exportDir: string;
let game: number;

/** Commands that delete rows the files do not put back, in each scope. */
const destructive = () => [
  'load category all_facts replace',
  'load table fact_events replace',
  `load game ${game} replace`,
  `load game ${game}`, // stats and analytics facts default to replace by game
  `load table fact_events merge game ${game}`,
  'load all',
  'load category stats_facts',
];

beforeAll(async () => {
  exportDir = mkdtempSync(path.join(tmpdir(), 'bs-destructive-'));
  league = await generateExport({ games: 2, outDir: exportDir });
  game = league.gameIds[0]!;
  t = await freshDatabase({ migrated: true });
  h = await startHarness(t.db, { source: async () => folderSource(exportDir) });
});
afterAll(async () => {
  await h?.stop();
  await t?.drop();
});

beforeEach(async () => {
  const r = await load(t.db, { initiatedBy: 'test', scope: { kind: 'all' }, operation: 'upsert', source: folderSource(exportDir) });
  expect(r.status).toBe('succeeded');
});

async function loadRequests(): Promise<number> {
  const r = await t.db.query<{ n: string }>("SELECT count(*) AS n FROM load_history WHERE kind = 'request'");
  return Number(r.rows[0]!.n);
}

/** The CLI in-process; `answer` is typed on a terminal when given, else there is no terminal. */
async function cli(words: string, opts: { answer?: string; flags?: string[] } = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  const stdin = Object.assign(new PassThrough(), { isTTY: opts.answer !== undefined });
  if (opts.answer !== undefined) stdin.end(`${opts.answer}\n`);
  const io: Io = { stdout, stderr, stdin };
  const code = await main([...words.split(' '), '--from', exportDir, ...(opts.flags ?? [])], io, { DATABASE_URL: t.url, USER: 'cli-test' });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('which commands destroy', () => {
  it('the grammar says each of them is destructive (one definition for Slack and the CLI)', () => {
    for (const text of destructive()) {
      const parsed = parseCommand(text);
      expect(parsed.ok && isDestructive(parsed.command), text).toBe(true);
    }
  });
});

describe('in Slack', () => {
  it('an operator is refused every one of them, and nothing runs', async () => {
    const before = await warehouseCounts(t.db);
    const requests = await loadRequests();
    for (const text of destructive()) {
      const a = await slash(h.bot.url, { text, userId: OPERATOR, responseUrl: h.capture.url() });
      expect(a.json.text, text).toContain('needs the admin role');
      expect(buttons(a.json), text).toEqual([]);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(await warehouseCounts(t.db)).toEqual(before);
    expect(await loadRequests()).toBe(requests);
  });

  it('an admin gets a confirmation prompt for every one of them, and nothing runs until confirmed', async () => {
    const before = await warehouseCounts(t.db);
    const requests = await loadRequests();
    for (const text of destructive()) {
      const a = await slash(h.bot.url, { text, userId: ADMIN, responseUrl: h.capture.url() });
      expect(a.text, text).not.toMatch(/queued/);
      expect(
        buttons(a.json).map((b) => b.action_id),
        text,
      ).toEqual(['benchsight_confirm', 'benchsight_cancel']);
      const [asked] = await commandRows(t.db, "scope = $1 AND status = 'started'", [text]);
      expect(asked?.warnings.confirmation?.state, text).toBe('asked');
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(await warehouseCounts(t.db)).toEqual(before);
    expect(await loadRequests()).toBe(requests);
  });

  it('confirmed, the replace runs', async () => {
    const a = await slash(h.bot.url, { text: 'load category all_facts replace', userId: ADMIN, responseUrl: h.capture.url() });
    const url = h.capture.url();
    await click(h.bot.url, { actionId: 'benchsight_confirm', value: buttons(a.json)[0]!.value, responseUrl: url });
    const result = await h.capture.waitFor(url, (c) => isFinal(c) && !c.body.text.startsWith('confirmed'));
    expect(readable(result.body)).toMatch(/OK: category all_facts \(replace\)/);
  });

  it('an upsert is queued at once, and a dry run of a replace too: neither asks', async () => {
    const before = await warehouseCounts(t.db);
    for (const [text, userId] of [
      ['load table fact_events upsert', OPERATOR],
      ['load category all_facts replace dry-run', ADMIN],
    ] as const) {
      const url = h.capture.url();
      const a = await slash(h.bot.url, { text, userId, responseUrl: url });
      expect(a.json.text, text).toMatch(/^queued load of /);
      expect(buttons(a.json)).toEqual([]);
      await h.capture.waitFor(url, isFinal);
    }
    expect(await warehouseCounts(t.db)).toEqual(before);
  });
});

describe('in the CLI', () => {
  it('without --yes and without a terminal, every one of them exits 2 naming --yes, and changes nothing', async () => {
    const before = await warehouseCounts(t.db);
    const requests = await loadRequests();
    for (const text of destructive()) {
      const r = await cli(text);
      expect(r.code, `${text}: ${r.stderr}${r.stdout}`).toBe(2);
      expect(r.stderr, text).toMatch(/destroys data: add --yes to confirm/);
      expect(r.stdout, text).toBe('');
    }
    expect(await warehouseCounts(t.db)).toEqual(before);
    expect(await loadRequests()).toBe(requests);
  });

  it('on a terminal it asks: anything but "yes" cancels, "yes" runs', async () => {
    const before = await warehouseCounts(t.db);
    const no = await cli('load category all_facts replace', { answer: 'y' });
    expect(no.code).toBe(1);
    expect(no.stderr).toMatch(/destroys data\. Type "yes" to go on/);
    expect(no.stderr).toMatch(/cancelled; nothing changed/);
    expect(await warehouseCounts(t.db)).toEqual(before);

    const yes = await cli('load category all_facts replace', { answer: 'yes' });
    expect(yes.code, yes.stderr).toBe(0);
    expect(yes.stdout).toMatch(/^OK: category all_facts \(replace\)/);
  });

  it('--yes runs it', async () => {
    const r = await cli(`load game ${game} replace`, { flags: ['--yes'] });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^OK: category all_facts, game ${game} \\(replace\\)`));
  });

  it('a dry run (--dry-run, or the word dry-run) asks nothing and changes nothing', async () => {
    const before = await warehouseCounts(t.db);
    for (const [text, flags] of [
      ['load category all_facts replace', ['--dry-run']],
      [`load game ${game} dry-run`, []],
    ] as const) {
      const r = await cli(text, { flags: [...flags] });
      expect(r.code, `${text}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/^DRY RUN \(nothing changed\)/);
      expect(r.stderr).not.toMatch(/--yes/);
    }
    expect(await warehouseCounts(t.db)).toEqual(before);
  });

  it('an upsert needs no --yes', async () => {
    const r = await cli('load table fact_events upsert');
    expect(r.code, r.stderr).toBe(0);
    // The folder holds what the table has: nothing to do, said so, exit 0.
    expect(r.stdout).toMatch(/^NOTHING TO DO: table fact_events \(upsert\)/);
  });
});
