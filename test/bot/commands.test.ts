/**
 * Every command of the grammar through the real Bolt HTTP endpoint, signed like Slack
 * signs, against a real database: fast commands answer in the ack, slow ones ack
 * "queued …, job N" and report at the response_url and in the notify channel. Every
 * command leaves its load_history row (kind 'command').
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../loader/commands/grammar';
import { folderSource } from '../../loader/engine';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateExport, type GenerateResult } from '../../loader/generate';
import { freshDatabase, type TestDatabase } from '../support/database';
import { csvFor, miniLeague } from '../support/fixtures';
import { startHarness, type Harness } from './support/harness';
import { commandExtensions } from '../../loader/entry/context';
import { ingestTrackerExport } from '../../loader/tracker';
import { syntheticExport } from '../tracker/synthetic-export';
import { ADMIN, NOTIFY, OPERATOR, VIEWER, commandRows, eventually, isFinal, leagueFolder, readable, slash, warehouseCounts } from './support/slack';

let t: TestDatabase;
let h: Harness;
/** A synthetic export of two games, every table (games 50001 and 50002). */
let league: GenerateResult;
let exportDir: string;
let folder: string;
const rowsOf = (table: string) => league.files.find((f) => f.table === table)!.rows;

beforeAll(async () => {
  exportDir = mkdtempSync(path.join(tmpdir(), 'bs-bot-export-'));
  league = await generateExport({ games: 2, outDir: exportDir });
  folder = exportDir;
  t = await freshDatabase({ migrated: true });
  h = await startHarness(t.db, { source: async () => folderSource(folder), bot: { extensions: commandExtensions(t.db) } });
});
afterAll(async () => {
  await h?.stop();
  await t?.drop();
});

/** A fast command: the answer is in the ack. */
async function ask(text: string, userId = VIEWER) {
  const a = await slash(h.bot.url, { text, userId, responseUrl: h.capture.url() });
  expect(a.status).toBe(200);
  expect(a.json.response_type).toBe('ephemeral');
  return { ack: a.json, read: readable(a.json), ms: a.ms };
}

/** A slow command: "queued …, job N" in the ack, then the result at the response_url. */
async function queue(text: string, userId = OPERATOR) {
  const url = h.capture.url();
  const a = await slash(h.bot.url, { text, userId, responseUrl: url });
  expect(a.status).toBe(200);
  const final = await h.capture.waitFor(url, isFinal).catch((e: Error) => {
    throw new Error(`${text}: ack ${a.text}; ${e.message}; logs ${h.logs.join(' | ')}`);
  });
  return { ack: a.json, ackText: a.json.text as string, result: final.body, read: readable(final.body), posts: h.capture.at(url) };
}

/** The record of a command (written just after the ack), by its text. */
async function recordOf(text: string) {
  return eventually(async () => (await commandRows(t.db, 'scope = $1', [text])).at(-1));
}

describe('fast commands answer in the ack', () => {
  it('help lists every command with its example; an empty command is help too', async () => {
    for (const text of ['help', '']) {
      const { read } = await ask(text);
      for (const c of COMMANDS) {
        expect(read).toContain(c.syntax.replace(/</g, '&lt;').replace(/>/g, '&gt;'));
        expect(read).toContain(`e.g. ${c.example}`);
      }
      expect(read).toMatch(/^```/m);
    }
    const { read } = await ask('help delete');
    expect(read).toContain('delete game &lt;id&gt;');
    expect(read).not.toContain('load table');
  });

  it("a typo is refused with the grammar's did-you-mean, and recorded", async () => {
    const { read } = await ask('lod game 1001');
    expect(read).toContain('unknown command "lod"; did you mean "load"?');
    expect(read).toContain('/benchsight help');
    const { read: op } = await ask('load game 1001 replase', OPERATOR);
    expect(op).toContain('did you mean "replace"?');
    const row = await recordOf('load game 1001 replase');
    expect(row).toMatchObject({ status: 'refused', operation: 'load', initiated_by: OPERATOR });
  });

  it('counts is a readable table in a code block', async () => {
    const { read } = await ask('counts');
    expect(read).toMatch(/```\ntable\s+rows\n-+\s+-+\n/);
    expect(read).toMatch(/fact_player_game_stats\s+\d+/);
    expect(await recordOf('counts')).toMatchObject({ operation: 'counts', status: 'succeeded', initiated_by: VIEWER, scope: 'counts' });
  });

  it('health: database, schema version, queue depth, last load', async () => {
    const { read } = await ask('health');
    expect(read).toContain('database: reachable');
    expect(read).toMatch(/schema: version \d+ \(\d{6}_[\w.]+\)/);
    expect(read).toMatch(/queue: \d+ pending, \d+ running, \d+ failed/);
    expect(read).toMatch(/last load: (none yet|#\d+ \w+ at)/);
  });

  it('etl queue, etl status and validate answer from the queue and the data-quality rules', async () => {
    // A tracker export for game 61001 that has not ended: staged, not queued yet.
    await ingestTrackerExport(t.db, syntheticExport({ gameId: 61001, gameEnd: false }), { source: 'test', initiatedBy: 'test' });
    const q = await ask('etl queue 61001 priority 7', OPERATOR);
    expect(q.read).toMatch(/game 61001/);
    const status = await ask('etl status');
    expect(status.read, `${q.read} || ${status.read}`).toMatch(/etl status: 1 pending/);
    expect(status.read).toMatch(/process_game game 61001 priority 7/);
    expect((await ask('validate game 50001')).read).toMatch(/validate: .*game 50001/);
    const row = await recordOf('etl queue 61001 priority 7');
    expect(row).toMatchObject({ status: 'succeeded', operation: 'etl', initiated_by: OPERATOR });
  });

  it("etl log: a job's log (the team's ETL pipeline's output), for viewers", async () => {
    const [job] = (await t.db.query<{ id: number }>(`SELECT id::int FROM etl_queue WHERE game_id = 61001`)).rows;
    await t.db.query(
      `INSERT INTO etl_job_log (job_id, seq, attempt, step, stream, line) VALUES ($1, 1, 1, 'etl', 'stdout', 'read 1,430 events'), ($1, 2, 1, 'etl', 'stderr', 'warning: 2 shifts without a player')`,
      [job!.id],
    );
    const { read } = await ask(`etl log ${job!.id}`);
    expect(read).toContain(`etl log: job #${job!.id} (process_game game 61001, pending), 2 lines`);
    expect(read).toContain('[etl] read 1,430 events');
    expect(read).toContain('[etl!] warning: 2 shifts without a player');
    expect((await ask('etl log 999999')).read).toContain('there is no job 999999 in the queue');
  });
});

describe('slow commands ack at once and report at the response_url', () => {
  it('load category dims: per-table rows, duration and history id, also in the notify channel', async () => {
    const r = await queue('load category dims upsert');
    expect(r.ackText).toMatch(/^queued load of category dims \(upsert\), job \d+$/);
    expect(r.posts[0]!.body.text).toBe('started load of category dims (upsert)');
    expect(r.read).toContain(':white_check_mark: *load of category dims (upsert)* done');
    expect(r.read).toMatch(/OK: category dims \(upsert\) in \d+\.\d\d s, history #\d+/);
    expect(r.read).toMatch(/table\s+operation\s+in file\s+inserted\s+updated\s+deleted\s+unchanged\s+rejected/);
    expect(r.read).toMatch(new RegExp(`dim_team\\s+upsert\\s+${rowsOf('dim_team')}\\s+${rowsOf('dim_team')}\\s+0\\s+0`));
    expect(r.read).toMatch(new RegExp(`dim_player\\s+upsert\\s+${rowsOf('dim_player')}\\s+${rowsOf('dim_player')}`));
    expect(await warehouseCounts(t.db)).toMatchObject({ dim_team: rowsOf('dim_team'), dim_player: rowsOf('dim_player'), dim_schedule: rowsOf('dim_schedule') });

    const jobId = Number(/job (\d+)/.exec(r.ackText)![1]);
    const [row] = await commandRows(t.db, 'id = $1', [jobId]);
    expect(row).toMatchObject({ status: 'succeeded', operation: 'load', scope: 'load category dims upsert', initiated_by: OPERATOR });
    expect(row!.warnings.result).toMatchObject({ status: 'succeeded', historyId: expect.any(Number) });

    const posted = await eventually(() => h.api.posted().find((c) => c.params.text.startsWith('load of category dims')));
    expect(posted.params.channel).toBe(NOTIFY);
    expect(posted.authorization).toBe('Bearer xoxb-test-token');
    expect(readable(posted.params as { text: string; blocks: unknown[] })).toContain('dim_team');
  });

  it('load table, load game and load all, each with its own scope', async () => {
    const [g1, g2] = league.gameIds as [number, number];
    const table = await queue(`load table fact_events upsert game ${g1}`);
    expect(table.ackText).toMatch(new RegExp(`^queued load of table fact_events, game ${g1} \\(upsert\\), job \\d+$`));
    expect(table.read).toMatch(new RegExp(`OK: table fact_events, game ${g1} \\(upsert\\)`));
    expect(table.read).toMatch(/[\d,]+ rows of other games in the files were left alone \(column "other games"\)/);

    const game = await queue(`load game ${g2} upsert`);
    expect(game.ackText).toMatch(new RegExp(`^queued load of game ${g2} \\(upsert\\), job \\d+$`));
    expect(game.read).toMatch(new RegExp(`OK: category all_facts, game ${g2} \\(upsert\\)`));
    for (const t of ['fact_shifts', 'fact_events', 'fact_player_game_stats', 'fact_wowy']) expect(game.read).toMatch(new RegExp(`${t}\\s+upsert`));

    const all = await queue('load all upsert');
    expect(all.read).toMatch(/OK: all \(upsert\)/);
    expect(await warehouseCounts(t.db)).toMatchObject({ fact_events: rowsOf('fact_events'), fact_h2h: rowsOf('fact_h2h') });
  });

  it('a dry run changes nothing and says so (of a replace too: an admin plans it without a confirmation)', async () => {
    const before = await warehouseCounts(t.db);
    const r = await queue('load table dim_team replace dry-run', ADMIN);
    expect(r.ackText).toMatch(/dry run/);
    expect(r.read).toContain('DRY RUN (nothing changed)');
    expect(await warehouseCounts(t.db)).toEqual(before);
  });

  it('a bad file: the error names file, line, column and value; nothing is changed', async () => {
    const m = miniLeague();
    const bad = [...m.players.slice(0, 2), { ...m.players[2]!, current_skill_rating: 'abc' }];
    folder = leagueFolder({ 'dim_player.csv': csvFor('dim_player', bad) });
    const before = await warehouseCounts(t.db);
    try {
      const r = await queue('load table dim_player upsert');
      expect(r.read).toContain(':x: *load of table dim_player (upsert)* failed, nothing was changed');
      expect(r.read).toMatch(/dim_player\.csv, line 4, column current_skill_rating: .*not a whole number/);
      expect(r.read).toContain('"abc"');
      expect(await warehouseCounts(t.db)).toEqual(before);
      const row = (await commandRows(t.db, "scope = 'load table dim_player upsert'"))[0]!;
      expect(row).toMatchObject({ status: 'failed', error_message: expect.stringContaining('line 4') });
    } finally {
      folder = exportDir;
    }
  });

  it('etl run is queued like a load and reports the jobs it ran', async () => {
    const r = await queue('etl run');
    expect(r.ackText).toMatch(/^queued queued ETL jobs, job \d+$/);
    // Game 61001 was staged and queued above: its ETL runs and fills the fact tables.
    expect(r.read).toMatch(/#\d+ process_game game 61001: succeeded/);
    expect(Number((await t.db.query<{ n: string }>('SELECT count(*) AS n FROM fact_events WHERE game_id = 61001')).rows[0]!.n)).toBeGreaterThan(0);
  });

  it('history: a readable table of loads and commands, by table and limit', async () => {
    const { read } = await ask('history limit 100');
    expect(read).toMatch(/```\nid\s+started\s+status\s+what\s+op/);
    // (Cut to fit Slack's code block, as the command text may be.)
    expect(read).toMatch(new RegExp(`load category dims( upsert|[^\\n]*…)\\s+load .*${OPERATOR}`));
    expect(read).toMatch(/category dims\s+upsert\s+\+\d+/);
    const { read: one } = await ask('history dim_team limit 1');
    expect(one.split('\n').filter((l) => /^\s*\d+\s+\d\d-\d\d \d\d:\d\d\s/.test(l))).toHaveLength(1);
    expect(one).toMatch(/dim_team/);
  });
});

describe('a fast command that overruns the answer budget', () => {
  it('acks "working on …" and posts the result at the response_url', async () => {
    const slow = await startHarness(t.db, { bot: { answerWithinMs: 0 } });
    try {
      const url = slow.capture.url();
      const a = await slash(slow.bot.url, { text: 'counts', userId: VIEWER, responseUrl: url });
      expect(a.json.text).toBe('working on counts…');
      const r = await slow.capture.waitFor(url, isFinal);
      expect(readable(r.body)).toMatch(/dim_team\s+\d+/);
    } finally {
      await slow.stop();
    }
  });
});
