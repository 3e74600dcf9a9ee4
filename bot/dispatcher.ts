/**
 * Slow commands (loads, deletes, full refresh, etl run) are handed to a JobDispatcher so
 * that the Slack listener can answer within Slack's 3 seconds. The in-process one runs
 * the job in this process after the ack: right for the local HTTP server. On Lambda the
 * process may be frozen once the ack is returned, so there the dispatcher must put the
 * job on the queue (etl_queue) and wake the worker, which then calls runAndReport
 * (report.ts) with the same SlackJob.
 */
import type { Outcome } from '../loader/commands/execute';
import { runAndReport, type RunDeps, type SlackJob } from './report';
import { botLog } from './log';

export interface JobDispatcher {
  /** Accepts the job and returns at once; the job reports to Slack by itself. */
  submit(job: SlackJob): Promise<{ jobId: string | number }>;
}

export interface InProcessDispatcher extends JobDispatcher {
  /** Resolves when every job submitted so far has finished (shutdown, tests). */
  drain(): Promise<void>;
  /** Jobs running or waiting for their turn. */
  readonly pending: number;
}

export interface InProcessOptions extends RunDeps {
  /**
   * Jobs run at once (default 2). Loads of the same tables wait for each other's lock
   * anyway; running more at once only holds database connections that the acks need.
   */
  concurrency?: number;
  onFinished?: (job: SlackJob, outcome: Outcome) => void;
}

export function inProcessDispatcher(deps: InProcessOptions): InProcessDispatcher {
  const limit = Math.max(1, deps.concurrency ?? 2);
  const waiting: { job: SlackJob; jobId: string | number; done: () => void }[] = [];
  const finished = new Set<Promise<void>>();
  let running = 0;
  let next = 0;

  const pump = () => {
    while (running < limit && waiting.length) {
      const { job, jobId, done } = waiting.shift()!;
      running++;
      void runAndReport(job, deps)
        .then((outcome) => deps.onFinished?.(job, outcome))
        .catch((err: unknown) => (deps.log ?? botLog)(`job ${jobId}: ${(err as Error).stack ?? String(err)}`))
        .finally(() => {
          running--;
          done();
          pump();
        });
    }
  };

  return {
    async submit(job) {
      // The job's record id names it in history; without one, a number of this process.
      const jobId = job.auditId ?? `local-${++next}`;
      let done!: () => void;
      const over = new Promise<void>((resolve) => (done = resolve));
      finished.add(over);
      void over.then(() => finished.delete(over));
      waiting.push({ job, jobId, done });
      // After the ack has gone out, not before.
      setImmediate(pump);
      return { jobId };
    },
    async drain() {
      while (finished.size) await Promise.all([...finished]);
    },
    get pending() {
      return finished.size;
    },
  };
}
