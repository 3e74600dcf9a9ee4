/**
 * The local job runner: an accepted command runs in this process after the 202, two at a
 * time, through executeCommand (the one command executor), with its progress (phase,
 * table, rows, MB/s) kept for GET /api/jobs/{id} and pushed to subscribers (server-sent
 * events). When it ends, its command row (load_history, kind `command`) is finished with
 * the load's history id — the same record the deployed worker finishes for a queued job.
 */
import { EventEmitter } from 'node:events';
import { executeCommand, type Extensions, type Outcome } from '../../loader/commands/execute';
import type { Database } from '../../loader/db/database';
import { formatError, type Progress, type Source } from '../../loader/engine';
import { finishCommand } from '../../loader/history';
import type { JobRunner, PortalJob } from './deps';

export interface JobProgress {
  id: number;
  state: 'queued' | 'running' | 'finished';
  phase?: Progress['phase'];
  table?: string;
  rows: number;
  bytes: number;
  totalBytes?: number;
  mbPerSec: number;
  elapsedMs: number;
  /** The command's outcome, when finished. */
  ok?: boolean;
}

/** The message a failed outcome's record keeps. */
export function failureText(o: Outcome): string | undefined {
  if (o.ok) return undefined;
  if (o.kind === 'load') return o.result.error ? formatError(o.result.error) : `the load ended ${o.result.status}`;
  if (o.kind === 'text') return o.text;
  if (o.kind === 'health') return o.health.database.error ?? 'the database cannot be reached';
  return 'failed';
}

export interface LocalJobRunner extends JobRunner {
  progress(id: number): JobProgress | undefined;
  subscribe(id: number, listener: (p: JobProgress) => void): () => void;
  cancel(id: number): boolean;
  /** Resolves when every job submitted so far has ended (shutdown, tests). */
  drain(): Promise<void>;
}

export function localJobRunner(deps: {
  db: Database;
  source?: () => Promise<Source>;
  extensions?: Extensions;
  concurrency?: number;
  log?: (line: string) => void;
  /** Told when a job ends (the change feed). */
  onFinished?: (id: number) => void;
}): LocalJobRunner {
  const limit = Math.max(1, deps.concurrency ?? 2);
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const live = new Map<number, JobProgress>();
  const aborts = new Map<number, AbortController>();
  const waiting: PortalJob[] = [];
  const running = new Set<Promise<void>>();
  const log = deps.log ?? (() => undefined);

  const emit = (p: JobProgress) => {
    live.set(p.id, p);
    events.emit(String(p.id), p);
  };

  const run = async (job: PortalJob) => {
    const started = Date.now();
    const abort = new AbortController();
    aborts.set(job.auditId, abort);
    let last = 0;
    emit({ id: job.auditId, state: 'running', rows: 0, bytes: 0, mbPerSec: 0, elapsedMs: 0 });
    const onProgress = (p: Progress) => {
      const now = Date.now();
      // At most four updates a second, and every change of phase.
      const prev = live.get(job.auditId);
      if (now - last < 250 && prev?.phase === p.phase && prev?.table === p.table) return;
      last = now;
      emit({
        id: job.auditId,
        state: 'running',
        phase: p.phase,
        table: p.table,
        rows: p.rows,
        bytes: p.bytes,
        totalBytes: p.totalBytes,
        mbPerSec: p.elapsedMs > 0 ? p.bytes / 1e6 / (p.elapsedMs / 1000) : 0,
        elapsedMs: now - started,
      });
    };
    let outcome: Outcome;
    try {
      outcome = await executeCommand(
        { db: deps.db, initiatedBy: job.userId, source: deps.source, extensions: deps.extensions, loadOptions: { onProgress, signal: abort.signal } },
        job.command,
      );
    } catch (err) {
      outcome = { kind: 'text', ok: false, text: `${job.text} could not run: ${(err as Error).message}` };
    }
    await finishCommand(deps.db, job.auditId, {
      status: outcome.ok ? 'succeeded' : 'failed',
      errorMessage: failureText(outcome),
      durationMs: Date.now() - started,
      result:
        outcome.kind === 'load'
          ? { historyId: outcome.result.historyId, status: outcome.result.status }
          : { text: 'text' in outcome ? outcome.text : undefined, data: outcome.kind === 'text' ? outcome.data : undefined },
    }).catch((err: unknown) => log(`portal: could not finish the record #${job.auditId}: ${(err as Error).message}`));
    aborts.delete(job.auditId);
    const prev = live.get(job.auditId);
    emit({ ...(prev ?? { id: job.auditId, rows: 0, bytes: 0, mbPerSec: 0 }), state: 'finished', ok: outcome.ok, elapsedMs: Date.now() - started });
    deps.onFinished?.(job.auditId);
    // Kept a while for late readers; the record in load_history is what lasts.
    setTimeout(() => live.delete(job.auditId), 10 * 60_000).unref();
  };

  const pump = () => {
    while (running.size < limit && waiting.length) {
      const job = waiting.shift()!;
      const p = run(job)
        .catch((err: unknown) => log(`portal: job ${job.auditId}: ${(err as Error).stack ?? String(err)}`))
        .finally(() => {
          running.delete(p);
          pump();
        });
      running.add(p);
    }
  };

  return {
    async submit(job) {
      emit({ id: job.auditId, state: 'queued', rows: 0, bytes: 0, mbPerSec: 0, elapsedMs: 0 });
      waiting.push(job);
      setImmediate(pump);
    },
    progress: (id) => live.get(id),
    subscribe(id, listener) {
      events.on(String(id), listener);
      return () => events.off(String(id), listener);
    },
    cancel(id) {
      const queued = waiting.findIndex((j) => j.auditId === id);
      if (queued >= 0) {
        const [job] = waiting.splice(queued, 1);
        void finishCommand(deps.db, job!.auditId, {
          status: 'failed',
          errorMessage: 'cancelled before it started',
          durationMs: 0,
          result: { status: 'cancelled' },
        })
          .catch(() => undefined)
          .then(() => emit({ id, state: 'finished', ok: false, rows: 0, bytes: 0, mbPerSec: 0, elapsedMs: 0 }));
        return true;
      }
      const a = aborts.get(id);
      if (!a) return false;
      a.abort(new Error('cancelled from the Portal'));
      return true;
    },
    async drain() {
      while (running.size || waiting.length) {
        await Promise.all([...running]);
        if (waiting.length && !running.size) pump();
        await new Promise((r) => setImmediate(r));
      }
    },
  };
}
