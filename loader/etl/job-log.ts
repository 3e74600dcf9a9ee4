/**
 * A job's log (etl_job_log, sql/migrations/000016_etl_pipeline.sql): the lines its steps
 * wrote on stdout and stderr and what the runner did, in the order they were read.
 * `jobLogWriter` batches lines into few INSERTs (one at a time, in order); `jobLog` and
 * `formatJobLog` read and print it (`benchsight etl log <job>`).
 */
import type { Queryable } from '../db/database';

export type LogStream = 'stdout' | 'stderr' | 'system';

export interface JobLogLine {
  seq: number;
  attempt: number;
  step: string | null;
  stream: LogStream;
  line: string;
  at: string;
}

/** A line longer than this is cut (and says so); a job keeps at most MAX_LINES lines. */
export const MAX_LINE_CHARS = 8000;
export const MAX_LINES = 200_000;

export interface JobLogWriter {
  write(step: string | null, stream: LogStream, line: string): void;
  /** Resolves when every line written so far is stored; rejects with the first storing error. */
  flush(): Promise<void>;
}

export async function jobLogWriter(db: Queryable, jobId: number, attempt: number): Promise<JobLogWriter> {
  const r = await db.query<{ n: number }>('SELECT coalesce(max(seq), 0)::int AS n FROM etl_job_log WHERE job_id = $1', [jobId]);
  let seq = r.rows[0]!.n;
  let written = 0;
  let buffer: { seq: number; step: string | null; stream: LogStream; line: string }[] = [];
  let chain: Promise<void> = Promise.resolve();
  let failure: Error | undefined;
  let scheduled = false;

  const store = () => {
    scheduled = false;
    if (!buffer.length) return;
    const rows = buffer;
    buffer = [];
    chain = chain.then(async () => {
      if (failure) return;
      try {
        await db.query(
          `INSERT INTO etl_job_log (job_id, seq, attempt, step, stream, line)
           SELECT $1, s, $2, st, sm, l FROM unnest($3::int[], $4::text[], $5::text[], $6::text[]) AS u(s, st, sm, l)`,
          [jobId, attempt, rows.map((x) => x.seq), rows.map((x) => x.step), rows.map((x) => x.stream), rows.map((x) => x.line)],
        );
      } catch (err) {
        failure = err as Error;
      }
    });
  };

  return {
    write(step, stream, line) {
      if (written > MAX_LINES) return;
      written++;
      // PostgreSQL text holds no NUL: a step that prints one (binary output) shows it as \0.
      if (line.includes('\u0000')) line = line.replaceAll('\u0000', '\\0');
      const text =
        written > MAX_LINES
          ? `(the log is cut here: a job keeps ${MAX_LINES} lines)`
          : line.length > MAX_LINE_CHARS
            ? `${line.slice(0, MAX_LINE_CHARS)}… (${line.length} characters, cut)`
            : line;
      buffer.push({ seq: ++seq, step, stream: written > MAX_LINES ? 'system' : stream, line: text });
      // A batch goes as soon as the previous one is stored: lines arrive in order, few INSERTs.
      if (buffer.length >= 500) store();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(store);
      }
    },
    async flush() {
      store();
      await chain;
      if (failure) throw failure;
    },
  };
}

export async function jobLog(db: Queryable, jobId: number, opts: { attempt?: number; tail?: number } = {}): Promise<JobLogLine[]> {
  const r = await db.query<JobLogLine>(
    `SELECT seq, attempt, step, stream, line, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
     FROM (SELECT * FROM etl_job_log WHERE job_id = $1 AND ($2::int IS NULL OR attempt = $2)
           ORDER BY seq DESC LIMIT coalesce($3::int, 2147483647)) l
     ORDER BY seq`,
    [jobId, opts.attempt ?? null, opts.tail ?? null],
  );
  return r.rows;
}

/** `[step] line` for stdout, `[step!] line` for stderr, `-- line` for what the runner did. */
export function formatJobLog(jobId: number, lines: JobLogLine[], job?: { status: string; operation: string; gameId: number | null } | null): string {
  const head = job
    ? `etl log: job #${jobId} (${job.operation}${job.gameId !== null ? ` game ${job.gameId}` : ''}, ${job.status}), ${lines.length} line${lines.length === 1 ? '' : 's'}`
    : `etl log: job #${jobId}`;
  if (!lines.length) return `${head}\n(no lines: the job ran no pipeline step yet)`;
  let attempt = lines[0]!.attempt;
  // Slack shows the first screens of a long answer: say how to ask for the end.
  const out = lines.length > 100 && lines[0]!.seq === 1 ? [head, `(the last lines only: etl log ${jobId} tail 50)`] : [head];
  for (const l of lines) {
    if (l.attempt !== attempt) {
      attempt = l.attempt;
      out.push(`-- attempt ${attempt}`);
    }
    out.push(l.stream === 'system' ? `-- ${l.line}` : `[${l.step ?? '?'}${l.stream === 'stderr' ? '!' : ''}] ${l.line}`);
  }
  return out.join('\n');
}
