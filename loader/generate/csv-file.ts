/**
 * Streams one table's CSV bytes to `<dir>/<table>.csv`, honouring the stream's
 * backpressure, and counts rows and bytes. Only the parts not yet written are held in
 * memory, never the file.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { TableDecl } from '../warehouse';
import { csvHeader } from './row-format';
import type { TableBytes } from './table-lines';

export class CsvFile {
  readonly table: string;
  readonly path: string;
  rows = 0;
  bytes = 0;
  private readonly out: WriteStream;
  private blocked = false;
  private failure: Error | null = null;

  /** Opens (truncates) the file and writes the header line. */
  constructor(table: TableDecl, path: string) {
    this.table = table.name;
    this.path = path;
    this.out = createWriteStream(path, { highWaterMark: 1 << 20 });
    this.out.on('error', (err) => {
      this.failure ??= new Error(`cannot write ${path}: ${err.message}`);
    });
    // Kept up to date even while nobody waits, so a drain is never missed.
    this.out.on('drain', () => {
      this.blocked = false;
    });
    this.writeBytes(Buffer.from(`${csvHeader(table)}\n`, 'utf8'));
  }

  append(part: TableBytes): void {
    if (part.table !== this.table) throw new Error(`generator bug: ${part.table} rows sent to ${this.path}`);
    for (const chunk of part.chunks) this.writeBytes(chunk);
    this.rows += part.rows;
  }

  /** Waits while the file is behind; call between batches of rows. */
  async settle(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.blocked) await this.firstOf('drain');
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.out.destroyed) throw new Error(`${this.path} was closed before all rows were written`);
    const finished = this.firstOf('close');
    this.out.end();
    await finished;
    if (this.failure) throw this.failure;
  }

  /** Stops writing after a failure elsewhere, without waiting for this file. */
  abort(): void {
    this.out.destroy();
  }

  private writeBytes(chunk: Uint8Array): void {
    this.bytes += chunk.byteLength;
    if (!this.out.write(chunk)) this.blocked = true;
  }

  /** Resolves on `event` or on an error (kept in `failure`), whichever comes first. */
  private firstOf(event: 'drain' | 'close'): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.out.off(event, done);
        this.out.off('error', done);
        resolve();
      };
      this.out.on(event, done);
      this.out.on('error', done);
    });
  }
}
