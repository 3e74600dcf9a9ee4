/**
 * The `etl queue|run|status|log` and `validate` commands as the command executor's plug-ins
 * (loader/commands/execute.ts `Extensions`): one line to wire them into the CLI and the bot,
 *   extensions: etlCommandExtensions(db, { handlers })
 */
import type { Extensions, Outcome } from '../commands/execute';
import type { Database } from '../db/database';
import type { Handlers } from '../queue/job';
import { formatFindings } from '../quality/findings';
import { validate } from '../quality/validate';
import type { WorkerOptions } from '../worker/run-worker';
import { EtlCommandError, etlLog, etlQueue, etlRun, etlStatus, formatEtlLog, formatEtlQueue, formatEtlRun, formatEtlStatus } from './commands';

async function asOutcome(fn: () => Promise<Outcome>): Promise<Outcome> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof EtlCommandError) return { kind: 'text', ok: false, text: err.message };
    throw err;
  }
}

export function etlCommandExtensions(
  db: Database,
  opts: {
    handlers: Handlers;
    /** The team's pipeline runs the ETL (loader/etl/pipeline-config.ts): a game need not come from the tracker to be queued. */
    pipeline?: boolean;
  } & Pick<WorkerOptions, 'onJobFinished' | 'log' | 'lockTimeoutMs' | 'backoff'>,
): Required<Extensions> {
  const { handlers, pipeline, ...worker } = opts;
  return {
    etlQueue: (gameId, priority, by, force) =>
      asOutcome(async () => {
        const r = await etlQueue(db, { gameId, priority, requestedBy: by, staged: !pipeline, force });
        return { kind: 'text', ok: true, text: formatEtlQueue(r), data: r };
      }),
    etlRun: (queueId, by, force) =>
      asOutcome(async () => {
        const r = await etlRun(db, { queueId, initiatedBy: by, handlers, force, ...worker });
        const ok = !r.notRun && r.outcomes.every((o) => o.status === 'succeeded');
        return { kind: 'text', ok, text: formatEtlRun(r), data: r };
      }),
    etlStatus: () =>
      asOutcome(async () => {
        const s = await etlStatus(db);
        return { kind: 'text', ok: true, text: formatEtlStatus(s), data: s };
      }),
    etlLog: (jobId, tail) =>
      asOutcome(async () => {
        const r = await etlLog(db, { jobId, tail });
        return { kind: 'text', ok: true, text: formatEtlLog(r), data: r };
      }),
    validate: (gameId) =>
      asOutcome(async () => {
        const findings = await validate(db, { gameIds: gameId === undefined ? null : [gameId] });
        const text = formatFindings(findings, { scope: gameId === undefined ? 'every game with facts' : `game ${gameId}` });
        return { kind: 'text', ok: !findings.some((f) => f.severity === 'ERROR'), text, data: findings };
      }),
  };
}
