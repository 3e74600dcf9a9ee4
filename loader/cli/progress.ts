/** Progress of long loads on stderr: rows and MB/s, at most twice a second. */
import type { Progress } from '../engine';

export function progressPrinter(stream: NodeJS.WritableStream & { isTTY?: boolean }): (p: Progress) => void {
  let last = 0;
  let shown = false;
  return (p) => {
    const now = Date.now();
    if (p.phase === 'reading' && now - last < 500) return;
    last = now;
    const mb = p.bytes / 1e6;
    const rate = p.elapsedMs > 0 ? mb / (p.elapsedMs / 1000) : 0;
    const pct = p.totalBytes ? ` ${Math.min(100, Math.round((p.bytes / p.totalBytes) * 100))}%` : '';
    const text =
      p.phase === 'reading'
        ? `${p.table}: ${p.rows.toLocaleString('en-US')} rows, ${mb.toFixed(1)} MB at ${rate.toFixed(1)} MB/s${pct}`
        : p.phase === 'applying'
          ? `${p.table}: applying ${p.rows.toLocaleString('en-US')} rows`
          : `${p.table}: done`;
    if (stream.isTTY) {
      stream.write(`\r\x1b[2K${text}${p.phase === 'done' ? '\n' : ''}`);
      shown = p.phase !== 'done';
    } else if (p.phase !== 'done' && p.elapsedMs > 2000) {
      stream.write(`${text}\n`);
    }
    void shown;
  };
}
