/**
 * A worker thread of `generateExport`: renders the ranges of games it is sent and
 * sends their bytes back, transferring the buffers rather than copying them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GameRenderer, type RenderConfig } from './render';

const renderer = new GameRenderer(workerData as RenderConfig);

parentPort!.on('message', (job: { from: number; count: number }) => {
  try {
    const rendered = renderer.render(job.from, job.count);
    const buffers = rendered.tables.flatMap((t) => t.chunks.map((c) => c.buffer as ArrayBuffer));
    parentPort!.postMessage({ ok: true, rendered }, buffers);
  } catch (err) {
    parentPort!.postMessage({ ok: false, error: (err as Error)?.stack ?? String(err) });
  }
});
