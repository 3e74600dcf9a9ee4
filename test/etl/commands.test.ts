/** etl queue / etl run / etl status, as the CLI and the bot call them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtlCommandError, etlCommandExtensions, etlQueue, etlRun, etlStatus, formatEtlQueue, formatEtlRun, formatEtlStatus } from '../../loader/etl';
import { ingestTrackerExport } from '../../loader/tracker';
import { jobHandlers } from '../../loader/entry/context';
import { freshDatabase, type TestDatabase } from '../support/database';
import { syntheticExport } from '../tracker/synthetic-export';

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  for (const g of [94001, 94002, 94003]) {
    await ingestTrackerExport(t.db, syntheticExport({ gameId: g, gameEnd: false }), { source: 'test', initiatedBy: 'tracker' });
  }
});
afterAll(async () => t?.drop());

describe('etl commands', () => {
  it('etl queue: queues a received game, joins a repeated request, refuses an unknown game', async () => {
    const a = await etlQueue(t.db, { gameId: 94001, requestedBy: 'slack:U1' });
    expect(a).toEqual({ jobId: expect.any(Number), joined: false, gameId: 94001, priority: 5 });
    expect(formatEtlQueue(a)).toBe(`etl queue: game 94001 queued as job #${a.jobId} (priority 5)`);
    const again = await etlQueue(t.db, { gameId: 94001, priority: 8, requestedBy: 'slack:U2' });
    expect(again).toEqual({ jobId: a.jobId, joined: true, gameId: 94001, priority: 8 });
    expect(formatEtlQueue(again)).toContain('was already queued as job');
    await etlQueue(t.db, { gameId: 94002, priority: 9, requestedBy: 'cli' });

    await expect(etlQueue(t.db, { gameId: 5, requestedBy: 'cli' })).rejects.toThrow(
      new EtlCommandError('game 5 has not been received from the tracker, so there is nothing to process; send its tracker export first'),
    );
    await expect(etlQueue(t.db, { gameId: -3, requestedBy: 'cli' })).rejects.toThrow(/not a positive whole number/);
  });

  it('etl status: counts and the next jobs in the order they will run', async () => {
    const s = await etlStatus(t.db);
    expect(s.counts).toEqual({ pending: 2, running: 0, succeeded: 0, failed: 0 });
    expect(s.next.map((j) => [j.gameId, j.priority])).toEqual([
      [94002, 9],
      [94001, 8],
    ]);
    const text = formatEtlStatus(s);
    expect(text).toMatch(
      /^etl status: 2 pending, 0 running, 0 succeeded, 0 failed\nnext \(priority, then oldest\):\n {2}#\d+ process_game game 94002 priority 9/,
    );
  });

  it('etl run <id>: runs just that job', async () => {
    const q = await etlQueue(t.db, { gameId: 94003, priority: 1, requestedBy: 'cli' });
    const r = await etlRun(t.db, { queueId: q.jobId, initiatedBy: 'alice', handlers: jobHandlers() });
    expect(r.outcomes.map((o) => [o.job.gameId, o.status])).toEqual([[94003, 'succeeded']]);
    expect(formatEtlRun(r)).toMatch(
      new RegExp(
        `^etl run: 1 job\\n#${q.jobId} process_game game 94003: succeeded in [\\d.]+ s \\(rows: fact_shifts 18, fact_events \\d+, .*\\); data quality: \\d+ errors, \\d+ warnings$`,
      ),
    );
    expect((await etlStatus(t.db)).counts.pending).toBe(2);
    const twice = await etlRun(t.db, { queueId: q.jobId, initiatedBy: 'alice', handlers: jobHandlers() });
    expect(formatEtlRun(twice)).toMatch(new RegExp(`^etl run: job ${q.jobId} already succeeded`));
  });

  it('etl run: works through the queue until it is empty', async () => {
    const r = await etlRun(t.db, { initiatedBy: 'alice', handlers: jobHandlers() });
    expect(r.outcomes.map((o) => [o.job.gameId, o.status])).toEqual([
      [94002, 'succeeded'],
      [94001, 'succeeded'],
    ]);
    expect(formatEtlRun(await etlRun(t.db, { initiatedBy: 'alice', handlers: jobHandlers() }))).toBe('etl run: the queue has no job to run now');
    const s = await etlStatus(t.db);
    expect(s.counts).toEqual({ pending: 0, running: 0, succeeded: 3, failed: 0 });
    expect(formatEtlStatus(s)).toContain('recent:');
    const facts = await t.db.query<{ n: string }>('SELECT count(DISTINCT game_id) AS n FROM fact_events');
    expect(facts.rows[0]!.n).toBe('3');
  });

  it('plugs into the command executor as its extensions', async () => {
    const ext = etlCommandExtensions(t.db, { handlers: jobHandlers() });
    expect(await ext.etlQueue(5, undefined, 'cli')).toEqual({ kind: 'text', ok: false, text: expect.stringContaining('game 5 has not been received') });
    const q = await ext.etlQueue(94001, 3, 'cli');
    expect(q).toMatchObject({ kind: 'text', ok: true, text: expect.stringMatching(/^etl queue: game 94001 queued as job #\d+ \(priority 3\)$/) });
    expect(await ext.etlRun(undefined, 'cli')).toMatchObject({ ok: true, text: expect.stringMatching(/^etl run: 1 job\n/) });
    expect(await ext.etlStatus()).toMatchObject({ ok: true, text: expect.stringMatching(/^etl status: 0 pending/) });
    const v = await ext.validate(94001, 'cli');
    expect(v).toMatchObject({ kind: 'text', ok: true, text: expect.stringMatching(/^validate: 0 errors, \d+ warnings for game 94001\n/) });
  });
});
