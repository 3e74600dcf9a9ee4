/**
 * Upload CSV files: drop them on the zone (or browse), see the table each one goes to —
 * detected by the API with the drop bucket's own rule, changeable per file —, choose the
 * operation, Upload & Process. Files are sent as they are read (locally streamed through
 * the Portal; deployed, straight to the bucket with presigned URLs), each with its
 * progress, then followed to the S3 loader's outcome: rows loaded, or the problem.
 */
import { useRef, useState } from 'preact/hooks';
import { api, fmt, headers, problemText, type Problem } from './api';
import type { Confirmer } from './confirm';
import { ProblemBox } from './jobs';

interface Item {
  file: File;
  detected: string | null;
  reason?: string;
  table: string;
  sent: number;
  state: 'ready' | 'sending' | 'loading' | 'loaded' | 'failed' | 'skipped';
  outcome?: string;
  problem?: Problem;
}

/** XHR, not fetch: only XHR reports upload progress. */
function send(method: string, url: string, body: Document | XMLHttpRequestBodyInit, hdrs: Record<string, string>, onProgress: (loaded: number) => void): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open(method, url);
    for (const [k, v] of Object.entries(hdrs)) x.setRequestHeader(k, v);
    x.upload.onprogress = (e) => onProgress(e.loaded);
    x.onload = () => {
      let b: any = null;
      try {
        b = x.responseText ? JSON.parse(x.responseText) : null;
      } catch {
        b = { detail: x.responseText };
      }
      resolve({ status: x.status, body: b });
    };
    x.onerror = () => reject(new Error(`the upload to ${url} failed (network)`));
    x.send(body);
  });
}

export function Upload(p: { confirm: Confirmer; uploads: 'stream' | 'presigned'; tables: string[]; operations: string[]; onChange(): void }) {
  const [items, setItems] = useState<Item[]>([]);
  const [operation, setOperation] = useState('upsert');
  const [over, setOver] = useState(false);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ text: string; problem?: Problem } | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const update = (i: number, patch: Partial<Item>) => setItems((all) => all.map((x, n) => (n === i ? { ...x, ...patch } : x)));

  const add = async (files: FileList | File[]) => {
    const list = [...files];
    if (!list.length) return;
    const r = await api('/api/upload/detect', { method: 'POST', json: { files: list.map((f) => ({ name: f.name })) } });
    const found = (r.body?.files ?? []) as { table: string | null; reason?: string }[];
    setItems((old) => [
      ...old,
      ...list.map((f, i) => ({ file: f, detected: found[i]?.table ?? null, reason: found[i]?.reason, table: found[i]?.table ?? '', sent: 0, state: 'ready' as const })),
    ]);
    setMessage(null);
  };

  const follow = async (id: number, indexes: number[]) => {
    for (;;) {
      const r = await api(`/api/uploads/${id}`);
      const s = r.body?.state as string;
      if (['loaded', 'failed', 'skipped'].includes(s)) {
        const load = r.body.load;
        for (const i of indexes) {
          const t = load?.tables?.find((x: any) => x.table === items[i]?.table);
          update(i, {
            state: s as Item['state'],
            outcome: t ? `${fmt.int(t.inserted)} inserted, ${fmt.int(t.updated)} updated, ${fmt.int(t.deleted)} deleted, ${fmt.int(t.rejected)} rejected` : r.body.note,
            problem: r.body.problem,
          });
        }
        p.onChange();
        return;
      }
      await new Promise((res) => setTimeout(res, 400));
    }
  };

  const submit = async () => {
    const ready = items.map((x, i) => ({ x, i })).filter(({ x }) => x.state === 'ready');
    if (!ready.length) return;
    if (ready.some(({ x }) => !x.table)) return setMessage({ text: 'choose the table of every file whose name does not say it' });
    setBusy(true);
    try {
      const files = ready.map(({ x }) => ({ name: x.file.name, table: x.table, size: x.file.size }));
      const op = operation === 'default' ? undefined : operation;
      const plan = await api('/api/upload/detect', { method: 'POST', json: { files, ...(op ? { operation: op } : {}), ask: true } });
      if (!plan.body?.ok) return setMessage({ text: problemText(plan.body?.problem) || 'these files cannot be uploaded', problem: plan.body?.problem });
      let confirmation: string | undefined;
      if (plan.body.confirmation) {
        const yes = await p.confirm({ type: '', title: '', status: 428, detail: `${plan.body.text} deletes rows the files do not put back.`, confirmation: plan.body.confirmation });
        if (!yes) {
          await api(plan.body.confirmation.cancel, { method: 'DELETE' });
          return setMessage({ text: 'cancelled: nothing was uploaded' });
        }
        confirmation = plan.body.confirmation.token;
      }
      for (const { i } of ready) update(i, { state: 'sending' });
      if (p.uploads === 'stream') {
        const form = new FormData();
        if (op) form.append('operation', op);
        if (confirmation) form.append('confirmation', confirmation);
        const bulk = ready.length > 1;
        if (bulk) {
          form.append('names', ready.map(({ x }) => x.file.name).join('\n'));
          form.append('tables', JSON.stringify(Object.fromEntries(ready.map(({ x }) => [x.file.name, x.table]))));
        } else form.append('table', ready[0]!.x.table);
        for (const { x } of ready) form.append(bulk ? 'files' : 'file', x.file, x.file.name);
        const sizes = ready.map(({ x }) => x.file.size);
        const r = await send('POST', bulk ? '/api/upload/bulk' : '/api/upload/csv', form, headers({}, 'POST'), (loaded) => {
          // One request carries the files one after another: each file's share of the bytes.
          let left = loaded;
          ready.forEach(({ i }, n) => {
            update(i, { sent: Math.max(0, Math.min(sizes[n]!, left)) });
            left -= sizes[n]!;
          });
        });
        if (r.status !== 202) {
          for (const { i } of ready) update(i, { state: 'failed', problem: r.body });
          return;
        }
        for (const { i, x } of ready) update(i, { state: 'loading', sent: x.file.size });
        await follow(r.body.upload.id, ready.map(({ i }) => i));
      } else {
        const r = await api('/api/upload/presign', { method: 'POST', json: { files, ...(op ? { operation: op } : {}), ...(confirmation ? { confirmation } : {}) } });
        if (r.status !== 201) {
          for (const { i } of ready) update(i, { state: 'failed', problem: r.problem });
          return;
        }
        await Promise.all(
          r.body.upload.files.map((f: { url: string; contentType: string }, n: number) =>
            send('PUT', f.url, ready[n]!.x.file, { 'content-type': f.contentType }, (loaded) => update(ready[n]!.i, { sent: loaded })),
          ),
        );
        await api(r.body.upload.complete, { method: 'POST' });
        for (const { i, x } of ready) update(i, { state: 'loading', sent: x.file.size });
        await follow(r.body.upload.id, ready.map(({ i }) => i));
      }
    } catch (err) {
      setMessage({ text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" aria-labelledby="upload-title">
      <h2 id="upload-title">Upload CSV files</h2>
      <div
        class={`dropzone${over ? ' over' : ''}`}
        role="button"
        tabIndex={0}
        aria-label="Drop CSV files here, or press Enter to browse"
        onClick={() => input.current?.click()}
        onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), input.current?.click())}
        onDragOver={(e) => (e.preventDefault(), setOver(true))}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          if (e.dataTransfer?.files) void add(e.dataTransfer.files);
        }}
      >
        <p>Drop CSV files here or click to browse</p>
        <input ref={input} type="file" accept=".csv,.json" multiple hidden onChange={(e) => void add((e.target as HTMLInputElement).files ?? [])} />
      </div>
      {items.length > 0 && (
        <ul class="files" aria-live="polite">
          {items.map((x, i) => (
            <li key={`${x.file.name}-${i}`} class={`file state-${x.state}`} data-file={x.file.name}>
              <div class="file-head">
                <span class="file-name">
                  {x.file.name} <span class="muted">{fmt.size(x.file.size)}</span>
                </span>
                <span class={`badge ${x.state}`}>{x.state}</span>
              </div>
              <label class="file-table">
                <span>Table</span>
                <select
                  aria-label={`Table for ${x.file.name}`}
                  value={x.table}
                  disabled={x.state !== 'ready'}
                  onChange={(e) => update(i, { table: (e.target as HTMLSelectElement).value })}
                >
                  <option value="">{x.detected ? '' : 'choose a table…'}</option>
                  {p.tables.map((t) => (
                    <option key={t} value={t}>
                      {t}
                      {t === x.detected ? ' (detected)' : ''}
                    </option>
                  ))}
                </select>
              </label>
              {!x.detected && x.state === 'ready' && <p class="muted">{x.reason}</p>}
              {(x.state === 'sending' || x.state === 'loading') && <progress max={x.file.size || 1} value={x.sent} aria-label={`upload of ${x.file.name}`} />}
              {x.outcome && <p class="job-rows">{x.outcome}</p>}
              {x.problem && <ProblemBox problem={x.problem} />}
            </li>
          ))}
        </ul>
      )}
      <div class="row">
        <div class="field">
          <label for="upload-operation">Operation</label>
          <select id="upload-operation" value={operation} onChange={(e) => setOperation((e.target as HTMLSelectElement).value)}>
            {p.operations.map((o) => (
              <option key={o} value={o}>
                {o[0]!.toUpperCase() + o.slice(1)}
              </option>
            ))}
            <option value="default">Each table's default</option>
          </select>
        </div>
        <button type="button" class="primary" disabled={busy || !items.some((x) => x.state === 'ready')} onClick={() => void submit()}>
          Upload &amp; Process
        </button>
        {items.some((x) => x.state !== 'ready' && x.state !== 'sending' && x.state !== 'loading') && (
          <button type="button" class="link" onClick={() => setItems((all) => all.filter((x) => x.state === 'ready' || x.state === 'sending' || x.state === 'loading'))}>
            Clear finished
          </button>
        )}
      </div>
      {message && (message.problem ? <ProblemBox problem={message.problem} /> : <p class="note error">{message.text}</p>)}
    </section>
  );
}
