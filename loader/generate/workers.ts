/**
 * Renders ranges of games in worker threads, a few ranges ahead of the writer, and
 * yields them in order. With no workers, renders them in this thread.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { GameRenderer, type RenderConfig, type RenderedGames } from './render';

export interface GameRange {
  from: number;
  count: number;
}

/** Workers are worth starting (each loads the code again) only for bigger runs. */
export function defaultWorkers(games: number): number {
  return games < 16 ? 0 : Math.min(8, availableParallelism());
}

export async function* renderInOrder(config: RenderConfig, ranges: GameRange[], workers: number): AsyncGenerator<RenderedGames> {
  if (workers <= 0) {
    const renderer = new GameRenderer(config);
    for (const r of ranges) yield renderer.render(r.from, r.count);
    return;
  }
  const pool = Array.from({ length: Math.min(workers, ranges.length) }, () => new RenderWorker(config));
  const ahead = pool.length * 2;
  const pending = new Map<number, Promise<RenderedGames>>();
  let sent = 0;
  try {
    for (let i = 0; i < ranges.length; i++) {
      while (sent < ranges.length && sent < i + ahead) {
        const p = pool[sent % pool.length]!.render(ranges[sent]!);
        p.catch(() => undefined); // awaited in order below; do not report it twice
        pending.set(sent++, p);
      }
      const rendered = await pending.get(i)!;
      pending.delete(i);
      yield rendered;
    }
  } finally {
    await Promise.all(pool.map((w) => w.stop()));
  }
}

class RenderWorker {
  private readonly worker: Worker;
  private readonly waiting: { resolve: (r: RenderedGames) => void; reject: (e: Error) => void }[] = [];
  private stopping = false;

  constructor(config: RenderConfig) {
    this.worker = startWorker(config);
    this.worker.on('message', (m: { ok: true; rendered: RenderedGames } | { ok: false; error: string }) => {
      const w = this.waiting.shift();
      if (m.ok) w?.resolve(m.rendered);
      else w?.reject(new Error(`a generator worker failed: ${m.error}`));
    });
    this.worker.on('error', (err) => this.failAll(new Error(`a generator worker failed: ${err.stack ?? err.message}`)));
    this.worker.on('exit', (code) => {
      if (!this.stopping) this.failAll(new Error(`a generator worker stopped (exit code ${code})`));
    });
  }

  render(range: GameRange): Promise<RenderedGames> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(range);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.worker.terminate();
  }

  private failAll(err: Error): void {
    for (const w of this.waiting.splice(0)) w.reject(err);
  }
}

/** The compiled CLI's folder (dist/cli), defined by its build; undeclared when running from the sources. */
declare const BENCHSIGHT_CLI_DIR: string | undefined;

/**
 * Running from TypeScript sources, the worker first registers tsx's require hook: a
 * worker does not inherit it (tsx's `--import` loader does not reach worker threads,
 * privatenumber/tsx#354), and vitest does not pass one on at all.
 */
function startWorker(config: RenderConfig): Worker {
  // The compiled CLI (bin/build-cli.js) builds the worker as an entry of its own.
  if (typeof BENCHSIGHT_CLI_DIR === 'string') return new Worker(path.join(BENCHSIGHT_CLI_DIR, 'generate-worker.mjs'), { workerData: config });
  const file = path.join(__dirname, `worker${path.extname(__filename)}`);
  if (path.extname(file) !== '.ts') return new Worker(file, { workerData: config });
  const boot = `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register(); require(${JSON.stringify(file)});`;
  return new Worker(boot, { eval: true, workerData: config });
}
