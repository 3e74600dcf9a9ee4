/**
 * Runs the team's ETL pipeline (pipeline-config.ts) for one game, as the queue's job:
 * each step a child process in its own process group (argv, no shell: the game id is a
 * whole number), its stdout and stderr stored line by line in the job's log (job-log.ts).
 * The first step that fails (exit code, signal, could not start, past its timeout: its
 * process group is killed) stops the job: the step, its exit code and last lines go to the
 * queue row (etl_queue.failed_step, error_message) and nothing is loaded. When every step
 * succeeded, the export the pipeline wrote is loaded through the command executor as one
 * request, `load game N replace` from the export folder, its history row linked to the job
 * (context.etl_job) and the job's result naming it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { executeCommand } from '../commands/execute';
import { parseCommand } from '../commands/grammar';
import type { Database } from '../db/database';
import { folderSource, formatError } from '../engine';
import { PermanentJobError, type Job } from '../queue/job';
import { jobLogWriter, type JobLogWriter, type LogStream } from './job-log';
import { checkGameId, fillPlaceholders, type Pipeline, type PipelineStep } from './pipeline-config';

/** Lines of a failed step kept in the queue row. */
export const LAST_LINES = 20;
/** After SIGTERM, a step's process group has this long before SIGKILL. */
export const KILL_GRACE_MS = 5000;

export interface StepOutcome {
  index: number;
  name: string;
  command: string[];
  cwd: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Set when the process could not start (no such program, no such folder). */
  startError?: string;
  durationMs: number;
  lastLines: string[];
}

/** What etl_queue.failed_step holds. */
export interface FailedStep {
  index: number;
  name: string;
  command: string[];
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  timeoutSeconds?: number;
  startError?: string;
  /** The load's error, when the steps succeeded and their export could not be loaded. */
  loadError?: string;
  lastLines: string[];
}

export interface PipelineResult {
  gameId: number;
  pipeline: string;
  exportDir: string;
  steps: { name: string; exitCode: number | null; durationMs: number }[];
  /** The load of the export: its history row (context.etl_job = this job) and what it did. */
  load: { historyId: number; status: string; inserted: number; deleted: number; rejected: number; tables: Record<string, number> };
  status: 'succeeded' | 'partial';
  warnings: string[];
  durationMs: number;
}

export class PipelineStepError extends PermanentJobError {
  constructor(
    message: string,
    readonly failedStep: FailedStep,
  ) {
    super(message);
  }
}

export async function runPipeline(
  db: Database,
  job: Job,
  pipeline: Pipeline,
  opts: { initiatedBy: string; workerId: string; log?: (line: string) => void },
): Promise<PipelineResult> {
  const started = Date.now();
  const gameId = checkGameId(job.gameId);
  const exportDir = fillPlaceholders(pipeline.exportDir, { gameId });
  await db.query('UPDATE etl_queue SET failed_step = NULL WHERE id = $1', [job.id]);
  const logw = await jobLogWriter(db, job.id, job.attempts);
  const system = (line: string, step: string | null = null) => {
    logw.write(step, 'system', line);
    opts.log?.(`job ${job.id}: ${line}`);
  };
  const fail = async (message: string, failed: FailedStep): Promise<never> => {
    system(message, failed.name);
    await logw.flush();
    await db.query('UPDATE etl_queue SET failed_step = $2 WHERE id = $1 AND locked_by = $3', [job.id, JSON.stringify(failed), opts.workerId]);
    throw new PipelineStepError(message, failed);
  };

  system(
    `the ETL pipeline ${pipeline.file} for game ${gameId}: ${pipeline.steps.length} step${pipeline.steps.length === 1 ? '' : 's'}, export folder ${exportDir}`,
  );
  mkdirSync(exportDir, { recursive: true });
  const done: PipelineResult['steps'] = [];
  for (const [i, step] of pipeline.steps.entries()) {
    const label = `step ${i + 1}/${pipeline.steps.length} "${step.name}"`;
    const argv = step.command.map((w) => fillPlaceholders(w, { gameId, exportDir }));
    const cwd = fillPlaceholders(step.cwd, { gameId, exportDir });
    system(`${label}: ${argv.map(quoted).join(' ')} (in ${cwd}, timeout ${step.timeoutSeconds} s)`, step.name);
    const o = await runStep(step, i, argv, cwd, { BENCHSIGHT_GAME_ID: String(gameId), BENCHSIGHT_EXPORT_DIR: exportDir }, gameId, logw);
    if (o.startError || o.timedOut || o.exitCode !== 0) {
      const why = o.startError
        ? `could not start: ${o.startError}`
        : o.timedOut
          ? `ran past its timeout of ${step.timeoutSeconds} s: its processes were killed${o.signal ? ` (${o.signal})` : ''}`
          : o.signal
            ? `was killed by ${o.signal}`
            : `exited with code ${o.exitCode}`;
      const tail = o.lastLines.length ? `; its last lines:\n  ${o.lastLines.join('\n  ')}` : '; it wrote nothing';
      await fail(`${label} ${why} after ${(o.durationMs / 1000).toFixed(1)} s; the later steps did not run and nothing was loaded${tail}`, {
        index: i + 1,
        name: step.name,
        command: argv,
        exitCode: o.exitCode,
        signal: o.signal,
        timedOut: o.timedOut,
        ...(o.timedOut ? { timeoutSeconds: step.timeoutSeconds } : {}),
        ...(o.startError ? { startError: o.startError } : {}),
        lastLines: o.lastLines,
      });
    }
    system(`${label} exited with code 0 after ${(o.durationMs / 1000).toFixed(1)} s`, step.name);
    done.push({ name: step.name, exitCode: o.exitCode, durationMs: o.durationMs });
  }

  // The export, loaded as one request through the one command executor and engine.
  const text = `load game ${gameId} replace`;
  const parsed = parseCommand(text);
  if (!parsed.ok) throw new Error(`"${text}": ${parsed.error}`);
  system(`${text} from ${exportDir}`, 'load');
  const outcome = await executeCommand(
    {
      db,
      initiatedBy: opts.initiatedBy,
      source: async () => folderSource(exportDir),
      loadOptions: { context: { etl_job: job.id, pipeline: pipeline.file, export_dir: exportDir } },
    },
    parsed.command,
  ).catch(async (err: unknown) => {
    // An error the load could not turn into its outcome (the database went away): in the log too; the job may retry.
    system(`the load of the export failed: ${(err as Error).message}`, 'load');
    await logw.flush().catch(() => undefined);
    throw err;
  });
  if (outcome.kind !== 'load') throw new Error(`"${text}" did not run as a load`);
  const r = outcome.result;
  const sum = (k: 'inserted' | 'deleted' | 'rejected') => r.tables.reduce((a, t) => a + t[k], 0);
  if (r.status === 'failed' || r.status === 'cancelled') {
    const err = r.error ? formatError(r.error) : `the load ended ${r.status}`;
    await fail(`the pipeline's steps succeeded, but their export in ${exportDir} was not loaded (history #${r.historyId}): ${err}`, {
      index: pipeline.steps.length + 1,
      name: 'load',
      command: ['load', 'game', String(gameId), 'replace'],
      exitCode: null,
      signal: null,
      timedOut: false,
      loadError: err,
      lastLines: [],
    });
  }
  const warnings = [...r.warnings, ...r.tables.flatMap((t) => t.warnings.map((w) => `${t.table}: ${w}`))];
  system(`loaded as history #${r.historyId} (${r.status}): ${sum('inserted')} rows inserted, ${sum('deleted')} deleted, ${sum('rejected')} rejected`, 'load');
  await logw.flush();
  return {
    gameId,
    pipeline: pipeline.file,
    exportDir,
    steps: done,
    load: {
      historyId: r.historyId,
      status: r.status,
      inserted: sum('inserted'),
      deleted: sum('deleted'),
      rejected: sum('rejected'),
      tables: Object.fromEntries(r.tables.map((t) => [t.table, t.inserted + t.updated])),
    },
    status: r.status === 'succeeded' ? 'succeeded' : 'partial',
    warnings,
    durationMs: Date.now() - started,
  };
}

/**
 * The process groups of the steps running now. A step runs in a group of its own (so that
 * a timeout kills what it started too), which a terminal's Ctrl-C does not reach: when this
 * process exits, it takes them with it.
 */
const running = new Set<number>();
let exitHook = false;
function track(pid: number): void {
  running.add(pid);
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const g of running) {
      try {
        process.kill(-g, 'SIGTERM');
      } catch {
        // gone already
      }
    }
  });
}

const quoted = (w: string) => (/^[\w@%+=:,./{}-]+$/.test(w) ? w : JSON.stringify(w));

/** One step as a child process in its own process group; resolves when it ended and its output was read. */
function runStep(
  step: PipelineStep,
  index: number,
  argv: string[],
  cwd: string,
  extraEnv: Record<string, string>,
  gameId: number,
  logw: JobLogWriter,
): Promise<StepOutcome> {
  const started = Date.now();
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  for (const [k, v] of Object.entries(step.env)) env[k] = fillPlaceholders(v, { gameId, exportDir: extraEnv.BENCHSIGHT_EXPORT_DIR });
  const last: string[] = [];
  const line = (stream: LogStream) => (raw: string) => {
    // PostgreSQL text and jsonb hold no NUL: a step that prints one (binary output) shows it as \0.
    const l = raw.replaceAll('\u0000', '\\0');
    logw.write(step.name, stream, l);
    last.push(stream === 'stderr' ? `[stderr] ${l}` : l);
    if (last.length > LAST_LINES) last.shift();
  };
  return new Promise((resolve) => {
    let child: ChildProcess;
    let timedOut = false;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const finish = (o: Partial<StepOutcome>) => {
      if (settled) return;
      settled = true;
      if (child?.pid) running.delete(child.pid);
      clearTimeout(timer);
      clearTimeout(killTimer);
      resolve({
        index,
        name: step.name,
        command: argv,
        cwd,
        exitCode: null,
        signal: null,
        timedOut,
        durationMs: Date.now() - started,
        lastLines: last.slice(),
        ...o,
      });
    };
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // the group is gone already
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    }, step.timeoutSeconds * 1000);
    try {
      child = spawn(argv[0]!, argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      finish({ startError: (err as Error).message });
      return;
    }
    if (child.pid) track(child.pid);
    createInterface({ input: child.stdout!, crlfDelay: Number.POSITIVE_INFINITY }).on('line', line('stdout'));
    createInterface({ input: child.stderr!, crlfDelay: Number.POSITIVE_INFINITY }).on('line', line('stderr'));
    child.on('error', (err) => {
      // Could not start (ENOENT, EACCES, a missing cwd): there is no process to wait for.
      if (!child.pid) finish({ startError: err.message });
    });
    // 'close': the process exited and its stdout and stderr are read to the end.
    child.on('close', (code, signal) => finish({ exitCode: code, signal }));
  });
}
