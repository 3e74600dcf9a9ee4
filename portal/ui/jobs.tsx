/**
 * Jobs started from this page, followed to their end: live progress (phase, table, rows,
 * MB/s) from server-sent events locally, else by polling GET /api/jobs/{id}; the outcome
 * with its rows, or its problem (file, line, column, value).
 */
import { useEffect, useState } from 'preact/hooks';
import { api, fmt, type Problem } from './api';

export interface Tracked {
  id: number;
  description: string;
}

interface JobView {
  id: number;
  command: string;
  state: string;
  durationMs: number | null;
  progress?: { phase?: string; table?: string; rows: number; bytes: number; totalBytes?: number; mbPerSec: number };
  load?: { status: string; tables: { table: string; inserted: number | null; updated: number | null; deleted: number | null; rejected: number | null }[] } | null;
  text?: string;
  problem?: Problem;
}

const FINAL = ['succeeded', 'partial', 'failed', 'cancelled', 'refused'];

export function ProblemBox({ problem }: { problem: Problem }) {
  return (
    <div class="problem" role="alert">
      <strong>{problem.title}</strong>
      <p>{problem.detail}</p>
      {(problem.file || problem.line !== undefined || problem.column || problem.value !== undefined) && (
        <dl class="where">
          {problem.file && (
            <>
              <dt>File</dt>
              <dd>{problem.file}</dd>
            </>
          )}
          {problem.line !== undefined && (
            <>
              <dt>Line</dt>
              <dd>{problem.line}</dd>
            </>
          )}
          {problem.column && (
            <>
              <dt>Column</dt>
              <dd>{problem.column}</dd>
            </>
          )}
          {problem.value !== undefined && (
            <>
              <dt>Value</dt>
              <dd>
                <code>{problem.value}</code>
              </dd>
            </>
          )}
        </dl>
      )}
    </div>
  );
}

function Job({ t, live, onDone }: { t: Tracked; live: boolean; onDone(): void }) {
  const [v, setV] = useState<JobView | null>(null);
  useEffect(() => {
    let stopped = false;
    let es: EventSource | undefined;
    const poll = async () => {
      while (!stopped) {
        const r = await api<JobView>(`/api/jobs/${t.id}`);
        if (r.ok) setV(r.body);
        if (r.ok && FINAL.includes(r.body.state)) return onDone();
        await new Promise((res) => setTimeout(res, 1000));
      }
    };
    if (live) {
      es = new EventSource(`/api/jobs/${t.id}/events`);
      es.addEventListener('progress', (e) => setV((old) => ({ ...(old ?? { id: t.id, command: t.description, state: 'running', durationMs: null }), state: 'running', progress: JSON.parse((e as MessageEvent).data) })));
      es.addEventListener('done', (e) => {
        setV(JSON.parse((e as MessageEvent).data));
        es?.close();
        onDone();
      });
      es.onerror = () => {
        es?.close();
        void poll();
      };
    } else void poll();
    return () => {
      stopped = true;
      es?.close();
    };
  }, [t.id]);
  const state = v?.state ?? 'queued';
  const p = v?.progress;
  const pct = p?.totalBytes ? Math.min(100, Math.round((100 * p.bytes) / p.totalBytes)) : undefined;
  const sum = (k: 'inserted' | 'updated' | 'deleted' | 'rejected') => v?.load?.tables.reduce((n, x) => n + (x[k] ?? 0), 0) ?? 0;
  return (
    <li class={`job state-${state}`} data-job={t.id}>
      <div class="job-head">
        <span class={`badge ${state}`}>{state}</span> <span>{t.description}</span>
        {state === 'running' && (
          <button type="button" class="link" onClick={() => void api(`/api/jobs/${t.id}`, { method: 'DELETE' })}>
            Stop
          </button>
        )}
      </div>
      {state === 'running' && p && (
        <div class="progress-line">
          <progress max={100} value={pct} aria-label={`progress of job ${t.id}`} />
          <span>
            {p.phase} {p.table} · {fmt.int(p.rows)} rows · {p.mbPerSec.toFixed(1)} MB/s
          </span>
        </div>
      )}
      {v?.load && FINAL.includes(state) && (
        <p class="job-rows">
          {fmt.int(sum('inserted'))} inserted, {fmt.int(sum('updated'))} updated, {fmt.int(sum('deleted'))} deleted, {fmt.int(sum('rejected'))} rejected in{' '}
          {fmt.ms(v.durationMs)}
        </p>
      )}
      {v?.text && state === 'succeeded' && <pre class="job-text">{v.text}</pre>}
      {v?.problem && <ProblemBox problem={v.problem} />}
    </li>
  );
}

export function Jobs({ jobs, live, onChange }: { jobs: Tracked[]; live: boolean; onChange(): void }) {
  if (!jobs.length) return null;
  return (
    <section class="card" aria-labelledby="jobs-title">
      <h2 id="jobs-title">Running and recent jobs</h2>
      <ul class="jobs" aria-live="polite">
        {jobs.map((t) => (
          <Job key={t.id} t={t} live={live} onDone={onChange} />
        ))}
      </ul>
    </section>
  );
}
