/**
 * Progress of long work on stderr, drawn by cli-progress: on a terminal a bar with the
 * overall percentage, ETA and what is happening (reading a file, applying it, with its
 * elapsed time); elsewhere the same line every 2 seconds; with --json, JSON lines
 * (`{"event":"progress",...}`) for scripts. Loads (the engine's Progress events) and
 * uploads (`drop`) use it.
 */
import type { SingleBar } from 'cli-progress';
import type { Progress, Source, SourceFile } from '../engine';

type Stream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface ProgressEvent {
  event: 'progress';
  /** What is being worked on: a table, a file. */
  item: string;
  phase: string;
  done: number;
  total: number;
  percent: number;
  etaSeconds: number | null;
  elapsedMs: number;
  rows?: number;
}

const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

function seconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  return s < 60 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** A bar of bytes (or any amount) done out of a total, with a line of detail. */
export class ProgressView {
  private bar?: SingleBar;
  private readonly started = Date.now();
  private lastJson = 0;
  private state = { item: '', phase: '', detail: '', phaseStarted: Date.now(), done: 0, total: 0, rows: undefined as number | undefined };

  constructor(
    private readonly stream: Stream,
    private readonly opts: { json?: boolean; unit?: 'bytes' | 'items' } = {},
  ) {}

  private eta(): number | null {
    const { done, total } = this.state;
    const elapsed = (Date.now() - this.started) / 1000;
    if (!total || done <= 0 || elapsed <= 0) return null;
    return Math.max(0, (total - done) / (done / elapsed));
  }

  private line(bar: string): string {
    const s = this.state;
    const pct = s.total ? Math.min(100, Math.floor((s.done / s.total) * 100)) : 0;
    const phaseFor = Math.round((Date.now() - s.phaseStarted) / 1000);
    const eta = this.eta();
    return [
      `${bar} ${String(pct).padStart(3)}%`,
      `${s.item} ${s.phase}${phaseFor >= 2 ? ` ${phaseFor} s` : ''}`,
      s.detail,
      eta !== null && pct < 100 ? `ETA ${seconds(eta)}` : `${seconds((Date.now() - this.started) / 1000)}`,
    ]
      .filter(Boolean)
      .join(' | ');
  }

  update(u: { item: string; phase: string; done: number; total: number; detail?: string; rows?: number }): void {
    if (u.item !== this.state.item || u.phase !== this.state.phase) this.state.phaseStarted = Date.now();
    this.state = { ...this.state, ...u, detail: u.detail ?? '' };
    if (this.opts.json && !this.stream.isTTY) return this.json(u.phase === 'done');
    // Off a terminal, a line every 2 seconds, from 2 seconds on: quick work prints nothing.
    if (!this.stream.isTTY && Date.now() - this.started < 2000) return;
    if (!this.bar) {
      // Loaded with the first bar: a command that draws none (counts, history) does not load it.
      const { SingleBar } = require('cli-progress') as typeof import('cli-progress');
      this.bar = new SingleBar({
        stream: this.stream,
        format: (options) => {
          const size = options.barsize ?? 20;
          const filled = this.state.total ? Math.min(size, Math.round((this.state.done / this.state.total) * size)) : 0;
          return this.line(`[${'='.repeat(filled)}${' '.repeat(size - filled)}]`);
        },
        barsize: 20,
        barCompleteChar: '=',
        barIncompleteChar: ' ',
        hideCursor: null,
        clearOnComplete: true,
        noTTYOutput: true,
        notTTYSchedule: 2000,
        linewrap: false,
        fps: 5,
        etaBuffer: 50,
      });
      this.bar.start(Math.max(1, u.total), 0);
    }
    this.bar.setTotal(Math.max(1, u.total));
    this.bar.update(u.done);
  }

  private json(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastJson < 1000) return;
    this.lastJson = now;
    const s = this.state;
    const e: ProgressEvent = {
      event: 'progress',
      item: s.item,
      phase: s.phase,
      done: s.done,
      total: s.total,
      percent: s.total ? Math.min(100, Math.round((s.done / s.total) * 1000) / 10) : 0,
      etaSeconds: this.eta() === null ? null : Math.round(this.eta()!),
      elapsedMs: now - this.started,
      ...(s.rows !== undefined ? { rows: s.rows } : {}),
    };
    this.stream.write(`${JSON.stringify(e)}\n`);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

/**
 * A load's progress: the source is watched so that every file's size is known before the
 * first byte is read (the engine asks for all of a request's files first). A load reads
 * every file, then applies them in SQL, so the bar's whole is twice the bytes: each
 * byte read, then each file applied, moves it.
 */
export function loadProgress(stream: Stream, opts: { json?: boolean } = {}) {
  const view = new ProgressView(stream, opts);
  const sizes = new Map<string, number>();
  const read = new Map<string, number>();
  const applied = new Set<string>();
  const sum = (xs: Iterable<number>) => [...xs].reduce((a, b) => a + b, 0);
  return {
    watch(source: Source): Source {
      return {
        describe: () => source.describe(),
        async fileFor(table: string): Promise<SourceFile | null> {
          const f = await source.fileFor(table);
          if (f) sizes.set(table, f.size ?? 0);
          return f;
        },
      };
    },
    onProgress(p: Progress): void {
      if (!sizes.has(p.table)) sizes.set(p.table, p.totalBytes ?? p.bytes);
      const size = sizes.get(p.table)!;
      if (p.phase === 'reading') read.set(p.table, Math.min(p.bytes, size));
      else read.set(p.table, size);
      if (p.phase === 'done') applied.add(p.table);
      const done = sum(read.values()) + sum([...applied].map((t) => sizes.get(t) ?? 0));
      view.update({
        item: p.table,
        phase: p.phase === 'reading' ? 'reading' : p.phase === 'applying' ? 'applying' : 'done',
        done,
        total: Math.max(2 * sum(sizes.values()), done),
        rows: p.rows,
        detail: `${p.rows.toLocaleString('en-US')} rows${p.phase === 'reading' ? `, ${mb(p.bytes)} of ${mb(size)}` : ''}`,
      });
    },
    stop: () => view.stop(),
  };
}
