/**
 * Which ETL produced a game's rows (etl_game_provenance): the team's full ETL, whose export
 * the engine loads, or the live SQL ETL (etl_process_game). The live ETL never replaces
 * the full ETL's rows of a game unless forced, and says which tables it kept.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderSource, load } from '../../loader/engine';
import { etlQueue, etlRun, formatEtlRun, runEtl } from '../../loader/etl';
import { jobHandlers } from '../../loader/entry/context';
import { generateExport } from '../../loader/generate';
import { ingestTrackerExport } from '../../loader/tracker';
import { PassThrough } from 'node:stream';
import { main } from '../../loader/entry/cli';
import { isDestructive, parseCommand, requiredRole } from '../../loader/commands/grammar';
import { Capture } from '../support/capture';
import { freshDatabase, type TestDatabase } from '../support/database';
import { syntheticExport } from '../tracker/synthetic-export';
import { tablesOf } from '../../loader/warehouse';

const FIRST = 96001;
const FACT_TABLES = tablesOf('all_facts').map((t) => t.name);

let t: TestDatabase;
let dir: string;

/** Every fact row of a game, every cell, as text, in order. */
async function snapshot(gameId: number): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of FACT_TABLES) {
    const r = await t.db.query<{ j: string }>(`SELECT to_jsonb(x)::text AS j FROM ${table} x WHERE game_id = $1 ORDER BY 1`, [gameId]);
    out[table] = r.rows.map((row) => row.j);
  }
  return out;
}

async function provenance(gameId: number): Promise<Record<string, { source: string; request_id: string }>> {
  const r = await t.db.query<{ table_name: string; source: string; request_id: string }>(
    'SELECT table_name, source, request_id FROM etl_game_provenance WHERE game_id = $1',
    [gameId],
  );
  return Object.fromEntries(r.rows.map((x) => [x.table_name, { source: x.source, request_id: x.request_id }]));
}

beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  dir = mkdtempSync(path.join(tmpdir(), 'bs-provenance-'));
  // The team's full ETL: its export of two games, loaded whole.
  await generateExport({ games: 2, outDir: dir, seed: 22, firstGameId: FIRST, workers: 0 });
  const full = await load(t.db, { scope: { kind: 'all' }, operation: 'replace', source: folderSource(dir), initiatedBy: 'test' });
  expect(full.status).toBe('succeeded');
});
afterAll(async () => {
  await t?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the provenance of a game’s rows', () => {
  it('records the games a whole-table load of the full export brought, with its request', async () => {
    const p = await provenance(FIRST);
    expect(Object.keys(p).sort()).toEqual([...FACT_TABLES].sort());
    expect(new Set(Object.values(p).map((x) => x.source))).toEqual(new Set(['full']));
    const req = await t.db.query<{ request_id: string }>("SELECT DISTINCT request_id FROM load_history WHERE operation = 'replace'");
    expect(req.rows.map((r) => r.request_id)).toContain(Object.values(p)[0]!.request_id);
  });

  it("keeps the full ETL's rows, cell for cell, when the tracker export of the game is ingested and the live ETL runs, and says so", async () => {
    const before = await snapshot(FIRST);
    for (const table of FACT_TABLES) expect(before[table]!.length, table).toBeGreaterThan(0);
    await ingestTrackerExport(t.db, syntheticExport({ gameId: FIRST }), { source: 'test', initiatedBy: 'test' });
    const r = await runEtl(t.db, FIRST, { initiatedBy: 'test' });
    expect(r.kept.sort()).toEqual([...FACT_TABLES].sort());
    expect(r.warnings[0]).toMatch(
      new RegExp(
        `^the full ETL produced game ${FIRST}'s rows of .*fact_player_game_stats.*: kept as they were, not replaced by the live ETL \\(run it with --force to replace them\\)$`,
      ),
    );
    for (const table of FACT_TABLES) expect(r.tables[table], table).toEqual({ deleted: 0, inserted: 0 });
    expect(await snapshot(FIRST)).toEqual(before);
    expect(new Set(Object.values(await provenance(FIRST)).map((x) => x.source))).toEqual(new Set(['full']));
    // the history says it too
    const h = await t.db.query<{ warnings: unknown }>('SELECT warnings FROM load_history WHERE id = $1', [r.historyId]);
    expect(JSON.stringify(h.rows[0]!.warnings)).toContain('kept as they were');
  });

  it('replaces them when forced, and the rows are the live ETL’s from then on', async () => {
    const before = await snapshot(FIRST);
    const r = await runEtl(t.db, FIRST, { initiatedBy: 'test', force: true });
    expect(r.kept).toEqual([]);
    expect(r.warnings.join('\n')).not.toContain('kept as they were');
    for (const table of FACT_TABLES) expect(r.tables[table]!.deleted, table).toBe(before[table]!.length);
    const after = await snapshot(FIRST);
    // the synthetic tracker game's players, not the generated export's
    const players = await t.db.query<{ n: string }>("SELECT count(*) AS n FROM fact_player_game_stats WHERE game_id = $1 AND player_id LIKE 'PS%'", [FIRST]);
    expect(Number(players.rows[0]!.n)).toBe(after.fact_player_game_stats!.length);
    const p = await provenance(FIRST);
    for (const table of FACT_TABLES) expect(p[table], table).toEqual({ source: 'live', request_id: r.requestId });
    // and a later live run replaces its own rows without a word
    const again = await runEtl(t.db, FIRST, { initiatedBy: 'test' });
    expect(again.kept).toEqual([]);
    expect(await snapshot(FIRST)).toEqual(after);
  });

  it("a load of one game makes that game's rows the full ETL's again; other games keep theirs", async () => {
    const other = await provenance(FIRST + 1);
    const r = await load(t.db, { scope: { kind: 'all' }, operation: 'replace', gameId: FIRST, source: folderSource(dir), initiatedBy: 'test' });
    expect(r.status).toBe('succeeded');
    const p = await provenance(FIRST);
    for (const table of FACT_TABLES) expect(p[table], table).toEqual({ source: 'full', request_id: r.requestId });
    expect(await provenance(FIRST + 1)).toEqual(other);
    const etl = await runEtl(t.db, FIRST, { initiatedBy: 'test' });
    expect(etl.kept.sort()).toEqual([...FACT_TABLES].sort());
  });

  it('the queue and `etl run` say which tables they kept, and force through the job and through the run', async () => {
    // (the full ETL's rows again, from the test before)
    const q = await etlQueue(t.db, { gameId: FIRST, requestedBy: 'test' });
    const kept = await etlRun(t.db, { queueId: q.jobId, initiatedBy: 'test', handlers: jobHandlers() });
    expect(kept.outcomes[0]!.status).toBe('succeeded');
    expect(formatEtlRun(kept)).toContain("kept the full ETL's rows of fact_shifts, fact_events");
    expect(formatEtlRun(kept)).toContain('(--force replaces them)');

    const forcedJob = await etlQueue(t.db, { gameId: FIRST, requestedBy: 'test', force: true });
    const forced = await etlRun(t.db, { queueId: forcedJob.jobId, initiatedBy: 'test', handlers: jobHandlers() });
    expect(formatEtlRun(forced)).not.toContain('kept');
    expect(new Set(Object.values(await provenance(FIRST)).map((x) => x.source))).toEqual(new Set(['live']));

    await load(t.db, { scope: { kind: 'all' }, operation: 'replace', gameId: FIRST, source: folderSource(dir), initiatedBy: 'test' });
    await etlQueue(t.db, { gameId: FIRST, requestedBy: 'test' });
    const run = await etlRun(t.db, { initiatedBy: 'test', handlers: jobHandlers(), force: true });
    expect(run.outcomes.map((o) => o.status)).toEqual(['succeeded']);
    expect(new Set(Object.values(await provenance(FIRST)).map((x) => x.source))).toEqual(new Set(['live']));
  });

  it("`etl run --force` from the command line: an admin's, asked first (refused without a terminal or --yes), then the rows are the live ETL's", async () => {
    for (const text of ['etl run --force', 'etl run 7 force', 'etl queue 5 priority 3 --force', 'etl queue 5 force priority 3']) {
      const p = parseCommand(text);
      if (!p.ok) throw new Error(`${text}: ${p.error}`);
      expect(p.command, text).toMatchObject({ force: true });
      expect(requiredRole(p.command), text).toBe('admin');
      expect(isDestructive(p.command), text).toBe(true);
    }
    const plain = parseCommand('etl run');
    expect(plain.ok && requiredRole(plain.command)).toBe('operator');

    await load(t.db, { scope: { kind: 'all' }, operation: 'replace', gameId: FIRST, source: folderSource(dir), initiatedBy: 'test' });
    await etlQueue(t.db, { gameId: FIRST, requestedBy: 'test' });
    const before = await snapshot(FIRST);
    const cli = async (...argv: string[]) => {
      const stdout = new Capture();
      const stderr = new Capture();
      const code = await main(argv, { stdout, stderr, stdin: Object.assign(new PassThrough(), { isTTY: false }) }, { DATABASE_URL: t.url, USER: 'etl-tester' });
      return { code, out: stdout.text + stderr.text };
    };
    const refused = await cli('etl', 'run', '--force');
    expect(refused.code, refused.out).toBe(2);
    expect(await snapshot(FIRST)).toEqual(before);
    const ran = await cli('etl', 'run', '--force', '--yes');
    expect(ran.code, ran.out).toBe(0);
    expect(ran.out).not.toContain('kept');
    expect(new Set(Object.values(await provenance(FIRST)).map((x) => x.source))).toEqual(new Set(['live']));
  });

  it('a whole-table upsert into a table with rows records the games of its file (however it writes the game id), not the other games of the table', async () => {
    await t.db.query("UPDATE etl_game_provenance SET source = 'live' WHERE table_name = 'fact_shifts' AND game_id IN ($1, $2)", [FIRST, FIRST + 1]);
    const csv = readFileSync(path.join(dir, 'fact_shifts.csv'), 'utf8').split('\n');
    const gameCol = csv[0]!.split(',').indexOf('game_id');
    // the file holds the first game's rows only, its id written as a float
    const rows = csv.slice(1).filter((l) => l.split(',')[gameCol] === String(FIRST));
    expect(rows.length).toBeGreaterThan(0);
    const src = mkdtempSync(path.join(tmpdir(), 'bs-provenance-upsert-'));
    try {
      const written = rows.map((l) =>
        l
          .split(',')
          .map((v, i) => (i === gameCol ? `${v}.0` : v))
          .join(','),
      );
      writeFileSync(path.join(src, 'fact_shifts.csv'), [csv[0], ...written, ''].join('\n'));
      const r = await load(t.db, { scope: { kind: 'tables', tables: ['fact_shifts'] }, operation: 'upsert', source: folderSource(src), initiatedBy: 'test' });
      expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
      expect(r.tables[0]).toMatchObject({ rowsInFile: rows.length, rejected: 0 });
      expect((await provenance(FIRST)).fact_shifts).toEqual({ source: 'full', request_id: r.requestId });
      expect((await provenance(FIRST + 1)).fact_shifts!.source).toBe('live');
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });

  it('a load through SQL alone (load_table) records the games it brought too', async () => {
    const game = FIRST + 1;
    await t.db.query("UPDATE etl_game_provenance SET source = 'live' WHERE game_id = $1 AND table_name = 'fact_team_game_stats'", [game]);
    const teams = await t.db.query<{ home: string }>('SELECT home_team_id AS home FROM dim_schedule WHERE game_id = $1', [game]);
    await t.db.transaction(async (tx) => {
      await tx.query('INSERT INTO landing.fact_team_game_stats (_line, team_game_key, game_id, team_id, goals) VALUES (2, $1, $2, $3, $4)', [
        `TG${game}00001`,
        String(game),
        teams.rows[0]!.home,
        '9',
      ]);
      const r = await tx.query<{ r: { success: boolean; inserted: number; updated: number } }>(
        "SELECT load_table('fact_team_game_stats', 'upsert', $1)::jsonb AS r",
        [game],
      );
      expect(r.rows[0]!.r.success).toBe(true);
      expect(Number(r.rows[0]!.r.inserted) + Number(r.rows[0]!.r.updated)).toBe(1);
    });
    const p = await provenance(game);
    expect(p.fact_team_game_stats!.source).toBe('full');
  });
});
