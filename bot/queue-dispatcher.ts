/**
 * The dispatcher for AWS: a slow Slack command becomes a `command` job on the queue
 * (etl_queue) and the worker Lambda is woken with an async invoke; the worker runs it
 * with runAndReport (worker-jobs.ts), which answers at the job's response_url. The same
 * command asked again while it waits joins the pending job.
 */
import type { Database } from '../loader/db/database';
import { enqueue } from '../loader/queue';
import type { JobDispatcher } from './dispatcher';
import type { SlackJob } from './report';
import { COMMAND_JOB } from './worker-jobs';
import { botLog } from './log';

export function queueDispatcher(db: Database, wake: (jobId: number) => Promise<void>, log: (l: string) => void = botLog): JobDispatcher {
  return {
    async submit(job: SlackJob) {
      const gameId = 'gameId' in job.command ? (job.command.gameId ?? null) : null;
      const q = await enqueue(db, {
        operation: COMMAND_JOB,
        gameId,
        payload: { ...job, dedupe_key: JSON.stringify(job.command) } as unknown as Record<string, unknown>,
        requestedBy: job.userId,
        // A command is answered once: a failed load does not get better by retrying.
        maxAttempts: 1,
      });
      try {
        await wake(q.jobId);
      } catch (err) {
        // The schedule runs the worker anyway; the job only waits longer.
        log(`could not wake the worker for job ${q.jobId}: ${(err as Error).message}`);
      }
      return { jobId: q.jobId };
    },
  };
}
