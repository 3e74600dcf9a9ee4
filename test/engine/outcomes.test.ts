/**
 * Outcomes nobody may miss: a load whose rejected parent rows take their children
 * with them, or that rejects more than it was allowed, is `partial` (committed, loudly);
 * a load whose process was killed is `abandoned`, not `started` forever; data-quality
 * rules that hit a deadlock are run again, and a check that still cannot run is a
 * failure of the check; a dry run is shown as a dry run; old rejects are purged.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { history, health } from '../../loader/commands/execute';
import { renderOutcome } from '../../loader/commands/render';
import { folderSource, load } from '../../loader/engine';
import { freshDatabase, type TestDatabase } from '../support/database';
import { csvFor, folderWith, miniLeague, miniLeagueFiles } from '../support/fixtures';

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
});
afterAll(async () => t?.drop());

const dims = ['dim_player', 'dim_team', 'dim_schedule'];

beforeEach(async () => {
  const r = await load(t.db, {
    scope: { kind: 'tables', tables: [...dims, 'fact_events', 'fact_events_player'] },
    operation: 'replace',
    initiatedBy: 'test',
    source: folderSource(folderWith(miniLeagueFiles())),
  });
  expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
});

describe('a rejected parent row that takes its children with it', () => {
  it.each(['', 'nan', 'None'])('a team whose key is %j: partial, not succeeded, and says which rows went with it', async (badKey) => {
    const m = miniLeague();
    const teams = m.teams.map((x, i) => (i === 0 ? { ...x, team_id: badKey } : x));
    const r = await load(t.db, {
      scope: { kind: 'category', category: 'dims' },
      operation: 'replace',
      initiatedBy: 'test',
      source: folderSource(folderWith({ ...miniLeagueFiles(), 'dim_team.csv': csvFor('dim_team', teams) })),
    });
    expect(r.status).toBe('partial');
    expect(r.tables.find((x) => x.table === 'dim_team')!.rejected).toBe(1);
    const schedule = r.tables.find((x) => x.table === 'dim_schedule')!;
    expect(schedule.rejectedByReason.orphan).toBeGreaterThan(0);
    expect(r.warnings.join('\n')).toMatch(/dim_schedule: \d+ rows? rejected because the dim_team rows? they point to (was|were) rejected/);
    const h = await t.db.query<{ status: string }>('SELECT status FROM load_history WHERE id = $1', [r.historyId]);
    expect(h.rows[0]!.status).toBe('partial');
    expect(renderOutcome({ kind: 'load', ok: false, result: r })).toMatch(/^PARTIAL: /);
  });

  it('a file whose rows are rejected past the allowance (--max-rejects) is partial; within it, succeeded', async () => {
    const m = miniLeague();
    const events = m.events.map((e, i) => (i < 2 ? { ...e, game_id: 999999 } : e)); // 2 of 6 point nowhere
    const files = () => folderSource(folderWith({ 'fact_events.csv': csvFor('fact_events', events) }));
    const over = await load(t.db, {
      scope: { kind: 'tables', tables: ['fact_events'] },
      operation: 'replace',
      initiatedBy: 'test',
      source: files(),
      policy: { maxRejects: { ratio: 0.1 } },
    });
    expect(over.status).toBe('partial');
    expect(over.warnings.join('\n')).toMatch(/fact_events: 2 of 6 rows rejected, more than the 10% allowed/);
    const within = await load(t.db, {
      scope: { kind: 'tables', tables: ['fact_events'] },
      operation: 'replace',
      initiatedBy: 'test',
      source: files(),
      policy: { maxRejects: { count: 2 } },
    });
    expect(within.status).toBe('succeeded');
  });

  it('by default, a file whose every row is rejected is partial', async () => {
    const m = miniLeague();
    const events = m.events.map((e) => ({ ...e, game_id: 999999 }));
    const r = await load(t.db, {
      scope: { kind: 'tables', tables: ['fact_events'] },
      operation: 'upsert',
      initiatedBy: 'test',
      source: folderSource(folderWith({ 'fact_events.csv': csvFor('fact_events', events) })),
    });
    expect(r.status).toBe('partial');
    expect(r.tables[0]).toMatchObject({ inserted: 0, rejected: 6 });
  });
});

describe('a load whose process is killed', () => {
  it('is shown as abandoned in history and health, not started forever', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'load-child.ts')], {
      env: { ...process.env, DATABASE_URL: t.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    for (let i = 0; i < 400 && !out.includes('reading'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain('reading');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    // The server notices the connection is gone; the row then says what happened.
    let row: { status: string; error_message: string | null } | undefined;
    for (let i = 0; i < 100; i++) {
      const h = await history(t.db, undefined, 5);
      row = h.find((x) => x.initiated_by === 'test:child');
      if (row?.status !== 'started') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(row).toMatchObject({ status: 'abandoned' });
    expect(row!.error_message).toMatch(/ended before the load finished/);
    const tables = await t.db.query<{ status: string }>("SELECT status FROM load_history WHERE initiated_by = 'test:child' AND kind = 'table'");
    expect(tables.rows).toEqual([{ status: 'abandoned' }]);
    expect((await health(t.db)).lastLoad).toMatchObject({ status: 'abandoned' });
  }, 60_000);

  it('a load that is running is not called abandoned', async () => {
    const { slowSource } = await import('./slow-source');
    const base = miniLeague().events[0]!;
    const rows = Array.from({ length: 300 }, (_, i) => ({ ...base, event_key: `EV1001${String(i + 10).padStart(5, '0')}`, event_index: i + 10 }));
    const running = load(t.db, {
      scope: { kind: 'tables', tables: ['fact_events'] },
      operation: 'upsert',
      initiatedBy: 'test:alive',
      source: slowSource('fact_events', csvFor('fact_events', rows), { chunkBytes: 400, delayMs: 40 }),
    });
    await new Promise((r) => setTimeout(r, 500));
    const h = await history(t.db, undefined, 5);
    expect(h.find((x) => x.initiated_by === 'test:alive')).toMatchObject({ status: 'started' });
    expect((await running).status).toBe('succeeded');
  });
});

describe('a cancelled load', () => {
  it('whose file stalls (a network that stopped sending): rolls back at once, history says cancelled', async () => {
    const { Readable } = await import('node:stream');
    const { filesSource, streamFile } = await import('../../loader/engine');
    const m = miniLeague();
    const head = csvFor('fact_events', m.events).split('\n').slice(0, 3).join('\n');
    // The first rows arrive, then nothing more, ever.
    const stalled = () =>
      new Readable({ read() {} }).once('resume', function (this: InstanceType<typeof Readable>) {
        this.push(`${head}\n`);
      });
    const before = (await t.db.query('SELECT count(*)::int AS n FROM fact_events')).rows[0];
    const ac = new AbortController();
    const running = load(t.db, {
      scope: { kind: 'tables', tables: ['fact_events'] },
      operation: 'upsert',
      initiatedBy: 'test:cancel',
      signal: ac.signal,
      source: filesSource([streamFile('fact_events', 'fact_events.csv (stalled)', stalled)]),
      onProgress: (p) => p.phase === 'reading' && setTimeout(() => ac.abort(), 200),
    });
    const r = await running;
    expect(r.status).toBe('cancelled');
    expect(r.error!.message).toMatch(/cancelled while loading fact_events: nothing was changed/);
    expect((await t.db.query('SELECT count(*)::int AS n FROM fact_events')).rows[0]).toEqual(before);
    const h = await t.db.query<{ status: string; kind: string }>('SELECT status, kind FROM load_history WHERE request_id = $1 ORDER BY id', [r.requestId]);
    expect(h.rows).toEqual([
      { status: 'cancelled', kind: 'request' },
      { status: 'cancelled', kind: 'table' },
    ]);
  }, 30_000);
});

describe('the data-quality rules of a load', () => {
  async function deadlocking(times: number, fn: () => Promise<void>): Promise<void> {
    // The rules raise a deadlock the first `times` times they run (a sequence counts
    // them: it is not rolled back with the savepoint).
    await t.db.query(`ALTER FUNCTION quality_findings(integer[]) RENAME TO quality_findings_real;
      CREATE SEQUENCE bs_test_deadlocks;
      CREATE FUNCTION quality_findings(p integer[])
      RETURNS TABLE (rule text, severity text, game_id integer, level text, subject text, subject_id text, value numeric, expected numeric, message text)
      LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('bs_test_deadlocks') <= ${times} THEN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END IF;
        RETURN QUERY SELECT * FROM quality_findings_real(p);
      END $$;`);
    try {
      await fn();
    } finally {
      await t.db.query(`DROP FUNCTION quality_findings(integer[]); DROP SEQUENCE bs_test_deadlocks;
        ALTER FUNCTION quality_findings_real(integer[]) RENAME TO quality_findings;`);
    }
  }

  it('run again after a deadlock, and their findings come back', async () => {
    await deadlocking(1, async () => {
      const r = await load(t.db, {
        scope: { kind: 'tables', tables: ['fact_events'] },
        operation: 'replace',
        initiatedBy: 'test',
        source: folderSource(folderWith(miniLeagueFiles())),
      });
      expect(r.status).toBe('succeeded');
      expect(r.findings).toBeDefined();
      expect(r.warnings.join('\n')).not.toMatch(/could not run/);
    });
  });

  it('that still cannot run make the outcome a failed check, visibly: partial, not succeeded', async () => {
    await deadlocking(100, async () => {
      const r = await load(t.db, {
        scope: { kind: 'tables', tables: ['fact_events'] },
        operation: 'replace',
        initiatedBy: 'test',
        source: folderSource(folderWith(miniLeagueFiles())),
      });
      expect(r.status).toBe('partial');
      expect(r.warnings.join('\n')).toMatch(/the data-quality rules could not run \(3 tries\): deadlock detected/);
      expect(r.tables[0]!.inserted).toBe(6); // the load itself stands
    });
  });
});

describe('a dry run', () => {
  it('is shown as a dry run in history, and health reports the last real load', async () => {
    const real = await load(t.db, {
      scope: { kind: 'tables', tables: ['dim_team'] },
      operation: 'upsert',
      initiatedBy: 'test',
      source: folderSource(folderWith(miniLeagueFiles())),
    });
    const dry = await load(t.db, {
      scope: { kind: 'category', category: 'dims' },
      operation: 'replace',
      dryRun: true,
      initiatedBy: 'test:dry',
      source: folderSource(folderWith(miniLeagueFiles())),
    });
    expect(dry.status).toBe('succeeded');
    const h = await history(t.db, undefined, 3);
    const row = h.find((x) => x.initiated_by === 'test:dry')!;
    expect(row.status).toBe('dry run');
    expect(renderOutcome({ kind: 'history', ok: true, rows: h })).toMatch(/dry run\s+category dims\s+replace/);
    expect((await health(t.db)).lastLoad).toMatchObject({ id: real.historyId });
  });
});

describe('rejected rows', () => {
  it('are kept for the retention the database is set to (30 days by default), then purged by the next load', async () => {
    const old = await t.db.query<{ id: string }>(`INSERT INTO load_rejects (request_id, table_name, line, reason, detail, row_data, rejected_at)
      VALUES (gen_random_uuid(), 'dim_team', 2, 'orphan', 'old', '{}', now() - interval '31 days'),
             (gen_random_uuid(), 'dim_team', 3, 'orphan', 'recent', '{}', now() - interval '29 days') RETURNING id`);
    expect(old.rows).toHaveLength(2);
    expect((await t.db.query("SELECT value FROM bs_settings WHERE key = 'rejects_retention_days'")).rows).toEqual([{ value: '30' }]);
    await load(t.db, {
      scope: { kind: 'tables', tables: ['dim_team'] },
      operation: 'upsert',
      initiatedBy: 'test',
      source: folderSource(folderWith(miniLeagueFiles())),
    });
    const left = await t.db.query<{ detail: string }>("SELECT detail FROM load_rejects WHERE detail IN ('old', 'recent')");
    expect(left.rows).toEqual([{ detail: 'recent' }]);
  });
});
