/**
 * The status board (row counts, the ETL queue, health, data-quality errors) and Recent
 * operations (status, what, operation, rows, duration, who; open one for its tables, its
 * error, its rejects with line and reason, its findings). Both refresh whenever the
 * warehouse's activity changes (refreshKey, from the app's change feed).
 */
import { useEffect, useLayoutEffect, useState } from 'preact/hooks';
import { api, fmt } from './api';
import { ProblemBox } from './jobs';

export function StatusBoard({ refreshKey }: { refreshKey: number }) {
  const [counts, setCounts] = useState<{ table: string; rows: number }[]>([]);
  const [health, setHealth] = useState<any>(null);
  const [quality, setQuality] = useState<{ errors: number; warnings: number } | null>(null);
  // (A layout effect: the requests leave as the board is put on the page, not a frame later.)
  useLayoutEffect(() => {
    void api('/api/tables/counts').then((r) => r.ok && setCounts(r.body.outcome.rows));
    void api('/api/health').then((r) => r.ok && setHealth(r.body.outcome.health));
    void api('/api/quality/findings').then((r) => {
      const f = r.body?.outcome?.data as { severity: string }[] | undefined;
      if (Array.isArray(f)) setQuality({ errors: f.filter((x) => x.severity === 'ERROR').length, warnings: f.filter((x) => x.severity !== 'ERROR').length });
    });
  }, [refreshKey]);
  const total = counts.reduce((n, c) => n + c.rows, 0);
  return (
    <section class="card board" aria-labelledby="board-title">
      <h2 id="board-title">Status</h2>
      <div class="tiles">
        <div class="tile">
          <span class="tile-label">Database</span>
          <span class={`tile-value ${health?.database.reachable ? 'good' : 'bad'}`}>{health ? (health.database.reachable ? 'up' : 'down') : '…'}</span>
          <span class="muted">schema {health?.schemaVersion ?? '…'}</span>
        </div>
        <div class="tile">
          <span class="tile-label">ETL queue</span>
          <span class="tile-value" data-testid="queue">
            {health?.queue ? `${health.queue.pending} pending` : '…'}
          </span>
          <span class="muted">
            {health?.queue ? `${health.queue.running} running, ${health.queue.failed} failed` : ''}
          </span>
        </div>
        <div class="tile">
          <span class="tile-label">Data quality</span>
          <span class={`tile-value ${quality && quality.errors > 0 ? 'bad' : 'good'}`}>{quality ? `${quality.errors} errors` : '…'}</span>
          <span class="muted">{quality ? `${quality.warnings} warnings` : ''}</span>
        </div>
        <div class="tile">
          <span class="tile-label">Rows</span>
          <span class="tile-value" data-testid="total-rows">
            {fmt.int(total)}
          </span>
          <span class="muted">in {counts.length} tables</span>
        </div>
      </div>
      <table class="counts">
        <caption class="sr-only">Rows per table</caption>
        <thead>
          <tr>
            <th scope="col">Table</th>
            <th scope="col" class="num">
              Rows
            </th>
          </tr>
        </thead>
        <tbody>
          {counts.map((c) => (
            <tr key={c.table} data-table={c.table}>
              <td>{c.table}</td>
              <td class="num">{fmt.int(c.rows)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

interface HistoryRow {
  id: number;
  started_at: string;
  status: string;
  scope: string | null;
  operation: string;
  game_id: number | null;
  rows_inserted: number | null;
  rows_updated: number | null;
  rows_deleted: number | null;
  rows_rejected: number | null;
  duration_ms: number | null;
  initiated_by: string;
  error_message: string | null;
}

const ICON: Record<string, string> = { succeeded: '✓', failed: '✗', partial: '!', refused: '⊘', cancelled: '⊘', started: '…', abandoned: '✗' };

export function RecentOperations({ refreshKey }: { refreshKey: number }) {
  const [rows, setRows] = useState<HistoryRow[]>([]);
  const [limit, setLimit] = useState(10);
  const [open, setOpen] = useState<number | null>(null);
  useLayoutEffect(() => {
    void api(`/api/load/history?limit=${limit}`).then((r) => r.ok && setRows(r.body.outcome.rows));
  }, [refreshKey, limit]);
  return (
    <section class="card" aria-labelledby="recent-title">
      <div class="card-head">
        <h2 id="recent-title">Recent operations</h2>
        <button type="button" class="link" onClick={() => setLimit(limit === 10 ? 100 : 10)}>
          {limit === 10 ? 'View all' : 'Fewer'}
        </button>
      </div>
      <div class="scroll">
      <table class="history">
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col" class="hide-narrow">
              Time
            </th>
            <th scope="col">What</th>
            <th scope="col" class="hide-narrow">
              Operation
            </th>
            <th scope="col" class="num hide-narrow">
              Rows
            </th>
            <th scope="col" class="num hide-narrow">
              Duration
            </th>
            <th scope="col" class="hide-narrow">
              Who
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            // A command's own row counts nothing (the load it ran is a row of its own): '–', not 0.
            const counted = r.rows_inserted !== null || r.rows_updated !== null || r.rows_deleted !== null;
            const n = (r.rows_inserted ?? 0) + (r.rows_updated ?? 0) + (r.rows_deleted ?? 0);
            const rowsText = r.status === 'failed' || !counted ? '–' : fmt.int(n);
            return (
              <tr key={r.id} class={`status-${r.status.replace(/\s+/g, '-')}`} data-history={r.id}>
                <td>
                  <span class={`badge ${r.status.replace(/\s+/g, '-')}`} title={r.status}>
                    <span aria-hidden="true">{ICON[r.status] ?? '·'}</span> <span class="status-word">{r.status}</span>
                  </span>
                </td>
                <td class="hide-narrow">{fmt.time(r.started_at)}</td>
                <td class="what-cell">
                  <button type="button" class="link what" title={r.scope ?? r.operation} onClick={() => setOpen(r.id)} aria-label={`open operation ${r.id}: ${r.scope ?? r.operation}`}>
                    {r.scope ?? r.operation}
                    {r.game_id && !(r.scope ?? '').includes(String(r.game_id)) ? ` (game ${r.game_id})` : ''}
                  </button>
                  {/* Narrow screens: the columns hidden there, in one line under it. */}
                  <span class="muted narrow-only">
                    {fmt.time(r.started_at)} · {r.operation}
                    {rowsText === '–' ? '' : ` · ${rowsText} rows`} · {fmt.ms(r.duration_ms)} · {r.initiated_by}
                  </span>
                </td>
                <td class="hide-narrow">{r.operation}</td>
                <td class="num hide-narrow">{rowsText}</td>
                <td class="num hide-narrow">{fmt.ms(r.duration_ms)}</td>
                <td class="hide-narrow who-cell" title={r.initiated_by}>
                  {r.initiated_by}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      </div>
      {open !== null && <OperationDetail id={open} onClose={() => setOpen(null)} />}
    </section>
  );
}

function OperationDetail({ id, onClose }: { id: number; onClose(): void }) {
  const [d, setD] = useState<any>(null);
  const [rejects, setRejects] = useState<{ total: number; rows: { table: string; line: number | null; reason: string; detail: string }[] } | null>(null);
  useEffect(() => {
    void api(`/api/load/history/${id}`).then(async (r) => {
      setD(r.ok ? r.body : { error: r.problem });
      const load = r.body?.load;
      if (load?.rejected) {
        const rj = await api(`/api/load/history/${load.id}/rejects?limit=50`);
        if (rj.ok) setRejects(rj.body);
      }
    });
  }, [id]);
  const load = d?.load;
  const problem = d?.problem ?? (load?.status === 'failed' && load?.error ? { type: '', title: 'The load failed; nothing was changed', status: 422, ...load.error, detail: load.errorMessage } : undefined);
  return (
    <div class="detail" role="region" aria-labelledby="detail-title">
      <div class="card-head">
        <h3 id="detail-title">
          Operation #{id}
          {d?.command ? `: ${d.command.text}` : load ? `: ${load.scope ?? load.operation}` : ''}
        </h3>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      {!d && <p>Loading…</p>}
      {d?.command && (
        <p>
          {d.command.status} · by {d.command.initiatedBy} · {fmt.ms(d.command.durationMs)}
          {d.command.errorMessage ? ` · ${d.command.errorMessage}` : ''}
        </p>
      )}
      {load && (
        <>
          <p>
            {load.status}
            {load.dryRun ? ' (dry run)' : ''} · {load.operation} · by {load.initiatedBy} · {fmt.ms(load.durationMs)} · {load.source}
          </p>
          {problem && <ProblemBox problem={problem} />}
          <ul class="table-results narrow-only">
            {load.tables.map((t: any) => (
              <li key={t.id}>
                <strong>{t.table}</strong> <span class={`badge ${t.status}`}>{t.status}</span>
                <br />
                <span class="muted">
                  {fmt.int(t.rowsInFile)} in file: {fmt.int(t.inserted)} inserted, {fmt.int(t.updated)} updated, {fmt.int(t.deleted)} deleted, {fmt.int(t.rejected)} rejected
                </span>
              </li>
            ))}
          </ul>
          <div class="scroll hide-narrow">
          <table class="tables">
            <thead>
              <tr>
                <th scope="col">Table</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  In file
                </th>
                <th scope="col" class="num">
                  Inserted
                </th>
                <th scope="col" class="num">
                  Updated
                </th>
                <th scope="col" class="num">
                  Deleted
                </th>
                <th scope="col" class="num">
                  Rejected
                </th>
              </tr>
            </thead>
            <tbody>
              {load.tables.map((t: any) => (
                <tr key={t.id}>
                  <td>{t.table}</td>
                  <td>{t.status}</td>
                  <td class="num">{fmt.int(t.rowsInFile)}</td>
                  <td class="num">{fmt.int(t.inserted)}</td>
                  <td class="num">{fmt.int(t.updated)}</td>
                  <td class="num">{fmt.int(t.deleted)}</td>
                  <td class="num">{fmt.int(t.rejected)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          </div>
          {load.warnings?.length > 0 && (
            <ul class="warnings">
              {load.warnings.map((w: string) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
          {load.findings && (
            <p>
              Data quality: {load.findings.errors} errors, {load.findings.warnings} warnings
            </p>
          )}
          {load.findings?.items?.length > 0 && (
            <ul class="findings">
              {load.findings.items.map((f: any, i: number) => (
                <li key={i} class={f.severity === 'ERROR' ? 'bad' : ''}>
                  [{f.rule}] {f.message}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      {rejects && rejects.total > 0 && (
        <>
          <h4>
            Rejected rows ({fmt.int(rejects.total)}
            {rejects.total > rejects.rows.length ? `, first ${rejects.rows.length}` : ''})
          </h4>
          <div class="scroll">
          <table class="rejects">
            <thead>
              <tr>
                <th scope="col" class="hide-narrow">
                  Table
                </th>
                <th scope="col" class="num">
                  Line
                </th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {rejects.rows.map((r, i) => (
                <tr key={i}>
                  <td class="hide-narrow">{r.table}</td>
                  <td class="num">{r.line ?? '–'}</td>
                  <td>
                    {r.reason}
                    {r.detail && <span class="muted reject-detail">{r.detail}</span>}
                    <span class="muted narrow-only">{r.table}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          </div>
        </>
      )}
    </div>
  );
}
