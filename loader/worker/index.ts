export { runWorker, runJob, newWorkerId, DEFAULT_LOCK_TIMEOUT_MS } from './run-worker';
export type { WorkerOptions, WorkerSummary, JobOutcome, RunJobResult } from './run-worker';
export { wakeWorker, type WakeEvent } from './wake';
