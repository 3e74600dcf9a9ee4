/**
 * One table's rows as CSV bytes in memory: formatted (row-format.ts), UTF-8 encoded a
 * batch of lines at a time into chunks, and handed over with `take()` to be written
 * (csv-file.ts), in this thread or after crossing from a worker.
 */
import type { TableDecl } from '../warehouse';
import { rowFormatter, type FormatLine, type PreparedTexts, type RowFormatter } from './row-format';
import type { Row } from './value-style';

const CHUNK_BYTES = 256 * 1024;
const BATCH_LINES = 64;
/** Rows checked against the declaration at the start of each table (typos in a generator). */
const CHECKED_ROWS = 2_000;

/** Encoded rows of one table; each chunk owns its ArrayBuffer, so it can be transferred. */
export interface TableBytes {
  table: string;
  chunks: Uint8Array[];
  rows: number;
  bytes: number;
}

export class TableLines {
  readonly table: string;
  private readonly formatter: RowFormatter;
  private rows = 0;
  private checked = 0;
  private chunks: Uint8Array[] = [];
  private bytes = 0;
  private chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  private used = 0;
  private batch: string[] = [];

  constructor(table: TableDecl) {
    this.table = table.name;
    this.formatter = rowFormatter(table);
  }

  /** Writes `row`; columns it has no key for come from `base`, which this table prepared. */
  write(row: Row, base?: PreparedTexts): void {
    this.writeLine(this.formatter.format, row, base);
  }

  /** Formats values that several rows share once, for `write(row, base)`. */
  prepare(row: Row): PreparedTexts {
    if (this.checked < CHECKED_ROWS) this.formatter.check(row);
    return this.formatter.prepare(row);
  }

  /** A `write` for rows whose `base` the table `other` prepared (their shared columns must have the same styles). */
  sharing(other: TableLines): (row: Row, base: PreparedTexts) => void {
    const format = this.formatter.sharing(other.formatter);
    return (row, base) => this.writeLine(format, row, base);
  }

  /** Hands over the rows written since the last call. */
  take(): TableBytes {
    this.encodeBatch();
    if (this.used > CHUNK_BYTES / 2) {
      this.chunks.push(this.chunk.subarray(0, this.used));
      this.chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    } else if (this.used > 0) {
      // A copy of a small part (never from Node's shared pool, which must not be transferred); the chunk is reused.
      const part = Buffer.allocUnsafeSlow(this.used);
      this.chunk.copy(part, 0, 0, this.used);
      this.chunks.push(part);
    }
    this.used = 0;
    const out = { table: this.table, chunks: this.chunks, rows: this.rows, bytes: this.bytes };
    this.chunks = [];
    this.rows = 0;
    this.bytes = 0;
    return out;
  }

  private writeLine(format: FormatLine, row: Row, base: PreparedTexts | undefined): void {
    if (this.checked < CHECKED_ROWS) {
      this.formatter.check(row);
      this.checked++;
    }
    this.batch.push(format(row, base));
    this.rows++;
    if (this.batch.length >= BATCH_LINES) this.encodeBatch();
  }

  /** One native UTF-8 write per batch of lines rather than per line. */
  private encodeBatch(): void {
    if (this.batch.length === 0) return;
    this.batch.push('');
    const text = this.batch.join('\n');
    this.batch = [];
    // A UTF-16 unit never takes more than 3 bytes of UTF-8.
    if (this.used + text.length * 3 > this.chunk.length) {
      if (this.used > 0) this.chunks.push(this.chunk.subarray(0, this.used));
      this.chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, text.length * 3));
      this.used = 0;
    }
    const n = this.chunk.write(text, this.used, 'utf8');
    this.used += n;
    this.bytes += n;
  }
}
