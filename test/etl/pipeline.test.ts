/**
 * The team's ETL pipeline run as a job, for real: each step a child process written for the
 * test (the first one writes the game's export with the generator, as the team's etl.py
 * would), its output in the job's log, a failing step, a step past its timeout, and the
 * export loaded through the engine as one `load game N replace` linked to the job.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeCommand, type Outcome } from '../../loader/commands/execute';
import { parseCommand, requiredRole } from '../../loader/commands/grammar';
import { folderSource } from '../../loader/engine';
import { commandExtensions, jobHandlers } from '../../loader/entry/context';
import { etlCommandExtensions, etlQueue, etlStatus, formatEtlRun, formatEtlStatus, PipelineConfigError, readPipeline, type FailedStep } from '../../loader/etl';
import { pipelineHandler, processGameHandler } from '../../loader/etl/process-game-job';
import { generateExport } from '../../loader/generate';
import { getJob } from '../../loader/queue/queue';
import { runWorker } from '../../loader/worker/run-worker';
import { freshDatabase, type TestDatabase } from '../support/database';

const ROOT = path.resolve(__dirname, '../..');
const NODE = process.execPath;
const scratch = mkdtempSync(path.join(tmpdir(), 'benchsight-pipeline-'));
let t: TestDatabase;

/** A pipeline file in the scratch folder; its steps are node scripts (argv, no shell). */
function pipelineFile(name: string, steps: object[], extra: object = {}): string {
  const file = path.join(scratch, `${name}.json`);
  writeFileSync(file, JSON.stringify({ exportDir: `exports/${name}/{game_id}`, steps, ...extra }, null, 2));
  return file;
}
const nodeStep = (name: string, script: string, more: object = {}) => ({ name, command: [NODE, '-e', script], ...more });
/** The generator, as the team's `python etl.py --game-id {game_id}` writes a game's export. */
const exportStep = {
  name: 'etl',
  command: [NODE, path.join(ROOT, 'bin/benchsight.js'), 'generate', '--games', '1', '--first-game', '{game_id}', '--out', '{export_dir}'],
  cwd: ROOT,
  timeoutSeconds: 120,
};

async function run(text: string, ext = commandExtensions(t.db, undefined, {})): Promise<Outcome> {
  const p = parseCommand(text);
  if (!p.ok) throw new Error(p.error);
  return executeCommand({ db: t.db, initiatedBy: 'test', extensions: ext }, p.command);
}
const textOf = (o: Outcome) => (o.kind === 'text' ? o.text : JSON.stringify(o));
const factRows = async (gameId: number) =>
  Number((await t.db.query<{ n: string }>('SELECT count(*) AS n FROM fact_events WHERE game_id = $1', [gameId])).rows[0]!.n);

beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  // The league's dims, as an earlier full load put them there (the pipeline's load is the game's facts).
  const dims = path.join(scratch, 'dims');
  await generateExport({ games: 1, firstGameId: 71001, outDir: dims, workers: 0 });
  const p = parseCommand('load category dims upsert');
  if (!p.ok) throw new Error(p.error);
  const o = await executeCommand({ db: t.db, initiatedBy: 'test', source: async () => folderSource(dims) }, p.command);
  expect(o.ok).toBe(true);
}, 60_000);
afterAll(async () => {
  await t?.drop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the ETL pipeline as a job', () => {
  it('runs every step, loads the export as one `load game N replace` linked to the job, and keeps the log (etl log)', async () => {
    const file = pipelineFile('ok', [
      exportStep,
      nodeStep('fix data integrity', 'console.log("fixing game " + process.env.BENCHSIGHT_GAME_ID); console.error("2 rows fixed")'),
      nodeStep(
        'validation',
        'const fs = require("fs"); const f = process.env.BENCHSIGHT_EXPORT_DIR + "/fact_events.csv"; console.log(fs.existsSync(f) ? "fact_events.csv ok, mode " + process.env.FIX_MODE : "missing"); process.exit(fs.existsSync(f) ? 0 : 1)',
        { env: { FIX_MODE: 'game-{game_id}' } },
      ),
    ]);
    // Configured the way the entry points read it: BENCHSIGHT_ETL_PIPELINE.
    const env = { BENCHSIGHT_ETL_PIPELINE: file };
    const ext = commandExtensions(t.db, undefined, env);
    // A game the tracker never sent: the team's pipeline reads its own data.
    const q = await run('etl queue 71001', ext);
    expect(q).toMatchObject({ ok: true, text: expect.stringMatching(/^etl queue: game 71001 queued as job #\d+/) });
    const jobId = (q as { data: { jobId: number } }).data.jobId;

    // The queue worker runs it.
    const w = await runWorker(t.db, { handlers: jobHandlers(env), until: 'empty' });
    expect(w.outcomes.map((o) => [o.job.id, o.status, o.error])).toEqual([[jobId, 'succeeded', undefined]]);
    const job = (await getJob(t.db, jobId))!;
    const result = job.result as { load: { historyId: number; status: string; inserted: number }; steps: { name: string }[]; status: string };
    expect(result.status).toBe('succeeded');
    expect(result.steps.map((s) => s.name)).toEqual(['etl', 'fix data integrity', 'validation']);

    // The export is in the tables, loaded by one request recorded in the history with the job.
    expect(await factRows(71001)).toBe(readFileSync(path.join(scratch, 'exports/ok/71001/fact_events.csv'), 'utf8').trim().split('\n').length - 1);
    const h = await t.db.query<{ id: number; kind: string; scope: string; operation: string; status: string; game_id: number; job: string }>(
      `SELECT id::int, kind, scope, operation, status, game_id, warnings->'context'->>'etl_job' AS job FROM load_history WHERE warnings->'context'->>'etl_job' = $1`,
      [String(jobId)],
    );
    expect(h.rows).toEqual([
      {
        id: result.load.historyId,
        kind: 'request',
        scope: expect.stringContaining('all_facts'),
        operation: 'replace',
        status: 'succeeded',
        game_id: 71001,
        job: String(jobId),
      },
    ]);
    expect(result.load.inserted).toBeGreaterThan(1000);
    expect(formatEtlRun({ outcomes: w.outcomes })).toMatch(
      new RegExp(
        `^etl run: 1 job\\n#${jobId} process_game game 71001: succeeded in [\\d.]+ s \\(the ETL pipeline's 3 steps, then its export loaded as history #${result.load.historyId}: \\d+ rows inserted, 0 deleted, 0 rejected; etl log ${jobId}\\)$`,
      ),
    );

    // The log, as `benchsight etl log <job>` and Slack print it.
    const log = textOf(await run(`etl log ${jobId}`, ext));
    expect(log).toMatch(new RegExp(`^etl log: job #${jobId} \\(process_game game 71001, succeeded\\), \\d+ lines\\n`));
    expect(log).toContain('[etl] generated 1 games (ids 71001–71001');
    expect(log).toContain('[fix data integrity] fixing game 71001');
    expect(log).toContain('[fix data integrity!] 2 rows fixed');
    expect(log).toContain('[validation] fact_events.csv ok, mode game-71001');
    expect(log).toContain(`-- loaded as history #${result.load.historyId} (succeeded)`);
    expect(textOf(await run(`etl log ${jobId} tail 1`, ext))).toMatch(/\n-- loaded as history #\d+ \(succeeded\)/);
    const parsed = parseCommand(`etl log ${jobId}`);
    expect(parsed.ok && requiredRole(parsed.command)).toBe('viewer');
  }, 120_000);

  it('stops at the first failing step: the job fails with its exit code and last lines, later steps do not run, nothing is loaded', async () => {
    const marker = path.join(scratch, 'validation-ran');
    const file = pipelineFile('fails', [
      exportStep,
      nodeStep(
        'fix data integrity',
        'console.log("reading game " + process.env.BENCHSIGHT_GAME_ID + "\\u0000"); console.error("fix_data_integrity: no roster for game " + process.env.BENCHSIGHT_GAME_ID); process.exit(3)',
      ),
      nodeStep('validation', `require("fs").writeFileSync(${JSON.stringify(marker)}, "ran")`),
    ]);
    const ext = etlCommandExtensions(t.db, { handlers: { process_game: pipelineHandler(readPipeline(file)) }, pipeline: true });
    const q = await etlQueue(t.db, { gameId: 71002, requestedBy: 'test', staged: false });
    const r = await ext.etlRun(q.jobId, 'test');
    expect(r.ok).toBe(false);

    const job = (await getJob(t.db, q.jobId))!;
    expect(job.status).toBe('failed');
    expect(job.attempts).toBe(1); // not retried: `etl run <job>` runs it again
    const step = job.failedStep as FailedStep;
    expect(step).toMatchObject({ index: 2, name: 'fix data integrity', exitCode: 3, signal: null, timedOut: false });
    // A NUL byte (binary output) is shown as \0: PostgreSQL text could not hold it.
    expect(step.lastLines).toEqual(['reading game 71002\\0', '[stderr] fix_data_integrity: no roster for game 71002']);
    expect(job.errorMessage).toMatch(
      /^step 2\/3 "fix data integrity" exited with code 3 after [\d.]+ s; the later steps did not run and nothing was loaded; its last lines:\n {2}reading game 71002\\0\n {2}\[stderr\] fix_data_integrity: no roster for game 71002$/,
    );
    expect(existsSync(marker)).toBe(false);
    expect(await factRows(71002)).toBe(0);
    expect((await t.db.query(`SELECT 1 FROM load_history WHERE warnings->'context'->>'etl_job' = $1`, [String(q.jobId)])).rows).toEqual([]);

    expect(formatEtlStatus(await etlStatus(t.db))).toContain(`#${q.jobId} process_game game 71002 failed`);
    expect(formatEtlStatus(await etlStatus(t.db))).toContain(
      `at step 2 "fix data integrity" (exit code 3): [stderr] fix_data_integrity: no roster for game 71002 (etl log ${q.jobId})`,
    );
    const log = textOf(await ext.etlLog(q.jobId, undefined));
    expect(log).toContain('[fix data integrity!] fix_data_integrity: no roster for game 71002');
    expect(log).toContain('-- step 2/3 "fix data integrity" exited with code 3');
    expect(log).not.toContain('[validation]');

    // Fixed, the failed job runs again (`etl run <job>`): its failed step is cleared, the export loaded, the log keeps both attempts.
    const fixed = pipelineFile('fails', [exportStep, nodeStep('fix data integrity', 'console.log("roster found")')]);
    const again = etlCommandExtensions(t.db, { handlers: { process_game: pipelineHandler(readPipeline(fixed)) }, pipeline: true });
    expect((await again.etlRun(q.jobId, 'test')).ok).toBe(true);
    expect(await getJob(t.db, q.jobId)).toMatchObject({ status: 'succeeded', attempts: 2, failedStep: null });
    expect(await factRows(71002)).toBeGreaterThan(1000);
    const both = textOf(await again.etlLog(q.jobId, undefined));
    expect(both).toMatch(
      /no roster for game 71002[\s\S]*\n-- attempt 2\n[\s\S]*\[fix data integrity\] roster found[\s\S]*-- loaded as history #\d+ \(succeeded\)/,
    );
  }, 120_000);

  it('kills a step that runs past its timeout (its whole process group) and records it as timed out', async () => {
    // The step starts a process of its own (as a script's subprocess would) and never ends.
    const file = pipelineFile('slow', [
      nodeStep(
        'etl',
        'const c = require("child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" }); console.log("child " + c.pid); setInterval(() => {}, 1000)',
        { timeoutSeconds: 1 },
      ),
      nodeStep('validation', 'console.log("not reached")'),
    ]);
    const ext = etlCommandExtensions(t.db, { handlers: { process_game: pipelineHandler(readPipeline(file)) }, pipeline: true });
    const q = await etlQueue(t.db, { gameId: 71003, requestedBy: 'test', staged: false });
    expect((await ext.etlRun(q.jobId, 'test')).ok).toBe(false);
    const job = (await getJob(t.db, q.jobId))!;
    const step = job.failedStep as FailedStep;
    expect(step).toMatchObject({ index: 1, name: 'etl', timedOut: true, timeoutSeconds: 1, exitCode: null, signal: 'SIGTERM' });
    expect(job.errorMessage).toMatch(/^step 1\/2 "etl" ran past its timeout of 1 s: its processes were killed \(SIGTERM\)/);
    const grandchild = Number(/^child (\d+)$/.exec(step.lastLines[0]!)![1]);
    expect(alive(grandchild), `the step's own child ${grandchild} was killed with it`).toBe(false);
    expect(formatEtlStatus(await etlStatus(t.db))).toContain(`at step 1 "etl" (timed out after 1 s, killed)`);
    expect(textOf(await ext.etlLog(q.jobId, undefined))).not.toContain('not reached');
  }, 60_000);

  it('keeps every line of a chatty step, in order, and `benchsight etl log` prints them all through a pipe', async () => {
    const file = pipelineFile('chatty', [
      nodeStep('etl', 'for (let i = 1; i <= 20000; i++) (i % 2 ? process.stdout : process.stderr).write("row " + i + " done\\n"); process.exitCode = 2'),
    ]);
    const ext = etlCommandExtensions(t.db, { handlers: { process_game: pipelineHandler(readPipeline(file)) }, pipeline: true });
    const q = await etlQueue(t.db, { gameId: 71006, requestedBy: 'test', staged: false });
    await ext.etlRun(q.jobId, 'test');
    const rows = await t.db.query<{ stream: string; line: string }>(
      `SELECT stream, line FROM etl_job_log WHERE job_id = $1 AND stream <> 'system' ORDER BY seq`,
      [q.jobId],
    );
    // Each stream in its own order (the two pipes are read side by side).
    const of = (stream: string) => rows.rows.filter((r) => r.stream === stream).map((r) => r.line);
    expect(of('stdout')).toEqual(Array.from({ length: 10000 }, (_, i) => `row ${2 * i + 1} done`));
    expect(of('stderr')).toEqual(Array.from({ length: 10000 }, (_, i) => `row ${2 * i + 2} done`));

    const printed = await new Promise<string>((resolve, reject) => {
      const cli = spawn(NODE, [path.join(ROOT, 'bin/benchsight.js'), 'etl', 'log', String(q.jobId)], {
        env: { ...process.env, DATABASE_URL: t.url },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      cli.stdout.on('data', (d) => (out += String(d)));
      cli.on('error', reject);
      cli.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`benchsight etl log exited ${code}`))));
    });
    const lines = printed.trimEnd().split('\n');
    expect(lines[0]).toBe(`etl log: job #${q.jobId} (process_game game 71006, failed), 20003 lines`);
    expect(lines.filter((l) => /^\[etl!?\] row \d+ done$/.test(l))).toHaveLength(20000);
    // The failure ends the log with the step's last lines (the last ones read from its two pipes).
    for (const l of lines.slice(-20)) expect(Number(/^ {2}(?:\[stderr\] )?row (\d+) done$/.exec(l)?.[1])).toBeGreaterThan(19000);
  }, 120_000);

  it('a step that cannot start fails the job saying why', async () => {
    const file = pipelineFile('missing', [{ name: 'etl', command: ['/no/such/python', 'etl.py', '--game-id', '{game_id}'] }]);
    const ext = etlCommandExtensions(t.db, { handlers: { process_game: pipelineHandler(readPipeline(file)) }, pipeline: true });
    const q = await etlQueue(t.db, { gameId: 71004, requestedBy: 'test', staged: false });
    await ext.etlRun(q.jobId, 'test');
    const job = (await getJob(t.db, q.jobId))!;
    expect(job.status).toBe('failed');
    expect(job.errorMessage).toMatch(/^step 1\/1 "etl" could not start: spawn \/no\/such\/python ENOENT/);
  }, 30_000);
});

describe('the pipeline configuration', () => {
  it('with none configured, process_game is the SQL live ETL, and etl queue still needs the tracker export', async () => {
    expect(jobHandlers({}).process_game).toBe(processGameHandler);
    // Deployed with the pipeline's ECS task (infra/etl-task.ts), the worker Lambda leaves process_game to the task.
    expect(jobHandlers({ BENCHSIGHT_ETL_TASK: 'bs-etl' })).toEqual({});
    expect(textOf(await run('etl queue 71005'))).toContain('game 71005 has not been received from the tracker');
  });

  it('the design notes example reads; a bad file is refused naming the file, the place and the value', () => {
    const example = readPipeline(path.join(ROOT, 'loader/etl/etl-pipeline.example.json'));
    expect(example.steps.map((s) => s.command.join(' '))).toEqual([
      'python etl.py --game-id {game_id}',
      'python scripts/fix_data_integrity.py',
      'python scripts/fix_final_data.py',
      'python scripts/etl_validation.py',
    ]);
    const bad = path.join(scratch, 'bad.json');
    writeFileSync(bad, '{\n  "exportDir": "out",\n  "steps": [ { "command": "python etl.py" } ]\n}');
    expect(() => readPipeline(bad)).toThrow(
      new PipelineConfigError(`the ETL pipeline ${bad} is not valid:\n  steps.0.command: Invalid input: expected array, received string`),
    );
    writeFileSync(bad, '{\n  "exportDir": "out",\n  "steps": [ }\n}');
    expect(() => readPipeline(bad)).toThrow(/^the ETL pipeline \/.*\/bad\.json is not JSON( \(line 3, column 13\))?: Unexpected token '}'/);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (killed, not yet reaped by init) is no longer running.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
