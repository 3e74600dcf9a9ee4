/** A file that arrives slowly, so a test can act while a load is in the middle of it. */
import { Readable } from 'node:stream';
import { filesSource, streamFile, type Source } from '../../loader/engine';

export function slowSource(table: string, csv: string, opts: { chunkBytes?: number; delayMs?: number; withSize?: boolean } = {}): Source {
  const chunk = opts.chunkBytes ?? 200;
  const delay = opts.delayMs ?? 20;
  return filesSource([
    streamFile(
      table,
      `${table}.csv (slow)`,
      () => {
        let pos = 0;
        return new Readable({
          read() {
            if (pos >= csv.length) return void this.push(null);
            const piece = csv.slice(pos, pos + chunk);
            pos += chunk;
            setTimeout(() => this.push(piece), delay);
          },
        });
      },
      opts.withSize ? Buffer.byteLength(csv) : undefined,
    ),
  ]);
}
