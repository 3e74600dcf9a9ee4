/**
 * The reader: a CSV byte stream on its way to PostgreSQL's COPY. This scanner strips a
 * UTF-8 BOM, takes the header record off, checks that the bytes are UTF-8, finds where
 * each record starts (newlines inside quotes do not end one), and writes every record
 * prefixed with the CSV line it starts on — so COPY errors, rejects and bad values can
 * all name the line a person sees in an editor. (Into a table without a line column, the
 * records go without it, and `recordLines` says which record starts on which line.)
 * Given the file's typed columns (or keys and relations to look at), each whole record
 * goes through csv-record.ts: its fields split and their values written as PostgreSQL
 * reads them (values.ts): `1730.0` → `1730`, `nan` → NULL, a bad value refused with its
 * line, column and value before it reaches the database; the key watched on the way
 * (key-watch.ts), the relations' distinct values gathered (distinct-values.ts).
 * Memory stays flat: a chunk in, a chunk out (plus the one record that spans chunks).
 *
 * The last record needs no newline after it. A last line without one that has fewer
 * values than the header, or that ends inside a quoted field, is a file cut short (an
 * interrupted copy or upload) and is refused with its line. A cut that leaves every
 * value cannot be told from a complete row: it loads, unless the cut value is invalid.
 * Excel's first line `sep=,` is skipped with a warning (the line numbers count it); a
 * UTF-16 file is named as such.
 */
import { isUtf8 } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';
import { countFields, RecordSyntaxError, RecordWriter, splitRecord, type ReleaseOptions } from './csv-record';
import { LoadError } from './errors';
import { MAX_KEY_LINES } from './key-watch';
import type { FieldRule } from './values';

export type { ReleaseOptions } from './csv-record';

// (Module constants, not imports: an imported binding is read through a getter, and these
// are read for every byte that matters.)
const NL = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const NEWLINE = Buffer.from([NL]);
const MAX_HEADER_BYTES = 1 << 20;
/** How much of the file's start is kept, to tell a UTF-16 file when its bytes are refused. */
const HEAD_BYTES = 256;

export class CsvRecords extends Transform {
  /** Resolves with the header's fields once the header record has been read. */
  readonly header: Promise<string[]>;
  rows = 0;
  bytes = 0;
  /** What a person should know about the file that did not stop it (Excel's sep line). */
  readonly warnings: string[] = [];
  private resolveHeader!: (h: string[]) => void;
  private rejectHeader!: (e: Error) => void;
  private headerDone = false;
  private headerBuf: Buffer[] = [];
  private headerLen = 0;
  private line = 1;
  private inQuote = false;
  private quoteLine = 0;
  private atRecordStart = true;
  private first = true;
  private utf8Carry: Buffer = Buffer.alloc(0);
  /** The file's first bytes (HEAD_BYTES), for the message about an encoding. */
  private head: Buffer = Buffer.alloc(0);
  private lastRecordLine = 0;
  /** Lines before the header: Excel's `sep=,` line. */
  private linesBeforeHeader = 0;
  private headerLines = 1;
  /** File lines of blank lines that were skipped (rare): maps COPY's line numbers back. */
  private skipped: number[] = [];
  /** The byte before the current chunk (a quote's neighbour may sit in the last chunk). */
  private prevByte = NL;
  /** A quote closed a field at the very end of the last chunk: check the next byte. */
  private closeAtChunkEnd = false;
  /** The start of a record that began in an earlier chunk. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Splits, normalizes and watches fields, once released with something to do per field. */
  private writer: RecordWriter | undefined;
  /** The header's fields (to count a last record's values). */
  private headers: string[] = [];
  /** Each record goes out with its line first (`<line>,`), for a staging table's _line. */
  private linePrefix = true;
  /** Record k starts on line k + shift; the shift changes after a multi-line record. */
  private lineShift = 1;
  /** Flat [record, shift, record, shift, ...]; null past MAX_LINE_BREAKS (see recordLines). */
  private lineBreaks: number[] | null = [];
  /** Rows wait (with the rest of the chunk the header ended in) until release(). */
  private released = false;
  private held: { chunk: Buffer; done: TransformCallback } | undefined;

  constructor(
    private readonly fileName: string,
    private readonly maxLineBreaks = MAX_LINE_BREAKS,
    private readonly maxKeyLines = MAX_KEY_LINES,
  ) {
    super({ readableHighWaterMark: 1 << 16 });
    this.header = new Promise((resolve, reject) => {
      this.resolveHeader = resolve;
      this.rejectHeader = reject;
    });
    this.header.catch(() => undefined);
  }

  /**
   * Lets the rows through, once the header has been matched to the table: `rules` are
   * the file's columns whose values are normalized, by field position (undefined: as
   * written). Until then the stream holds everything after the header.
   */
  release(rules: (FieldRule | undefined)[] = [], headers: string[] = [], opts: ReleaseOptions = {}): void {
    if (this.released) return;
    this.released = true;
    this.linePrefix = opts.linePrefix ?? true;
    this.headers = headers;
    // Fields are split only when something is to be done with one of them.
    const perField = rules.some((r) => r !== undefined) || opts.watch?.length || (opts.keyLines ?? -1) >= 0 || opts.missingAsNull?.some((f) => f >= 0);
    this.writer = perField ? new RecordWriter(this.fileName, rules, headers, opts, this.maxKeyLines) : undefined;
    const held = this.held;
    this.held = undefined;
    if (held) this.passRecords(held.chunk, held.done);
  }

  private passRecords(chunk: Buffer, done: TransformCallback): void {
    try {
      const out = this.prefixRecords(chunk);
      if (out.length) this.push(out);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private fail(line: number | undefined, message: string, hint?: string): LoadError {
    return new LoadError({ file: this.fileName, line, message, hint });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      if (this.first) {
        this.first = false;
        if (chunk.subarray(0, 3).equals(BOM)) chunk = chunk.subarray(3);
      }
      if (this.head.length < HEAD_BYTES) this.head = Buffer.concat([this.head, chunk.subarray(0, HEAD_BYTES - this.head.length)]);
      this.bytes += chunk.length;
      const nul = chunk.indexOf(0);
      if (nul !== -1) {
        throw this.notText(this.line + countNewlines(chunk, 0, nul), 'this line contains a NUL byte: is this a binary file rather than a CSV export?');
      }
      this.checkUtf8(chunk);
      if (!this.headerDone) {
        chunk = this.takeHeader(chunk);
        if (!this.headerDone) return done();
      }
      if (!this.released) {
        this.held = { chunk, done };
        return;
      }
    } catch (err) {
      this.rejectHeader(err as Error);
      return done(err as Error);
    }
    this.passRecords(chunk, done);
  }

  /**
   * The file's stream failed (a gzip that is not one, a network that broke) or was closed
   * before the header was read: whoever waits for the header hears why, instead of waiting.
   */
  override _destroy(err: Error | null, done: (e: Error | null) => void): void {
    this.rejectHeader(err ?? new Error(`${this.fileName} was closed before its header was read`));
    done(err);
  }

  override _flush(done: TransformCallback): void {
    try {
      if (this.utf8Carry.length) throw this.notText(this.line, 'the file ends in the middle of a UTF-8 character');
      if (!this.headerDone) {
        const all = Buffer.concat(this.headerBuf);
        if (this.headerLen === 0 || isSepLine(all)) throw this.fail(undefined, 'the file is empty', 'an export has a header line and at least one row');
        if (all.includes(CR))
          throw this.fail(
            this.headerLine,
            'the lines of this file end with a carriage return only (old Mac line endings)',
            'save it with LF or CRLF line endings',
          );
        this.finishHeader(all);
      }
      if (this.inQuote) {
        throw this.fail(
          this.quoteLine,
          'a quoted field starts on this line and is never closed: the file ends inside it',
          'every " that opens a field needs a closing "; if the file was cut short (an interrupted copy or upload), export it again',
        );
      }
      if (!this.atRecordStart) this.endLastRecord();
      done();
    } catch (err) {
      this.rejectHeader(err as Error);
      done(err as Error);
    }
  }

  /** The header record ends at the first newline outside quotes. */
  private takeHeader(chunk: Buffer): Buffer {
    let inQuote = this.inQuote;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === QUOTE) inQuote = !inQuote;
      else if (b === CR && !inQuote && i + 1 < chunk.length && chunk[i + 1] !== NL) {
        throw this.fail(
          this.headerLine,
          'the lines of this file end with a carriage return only (old Mac line endings)',
          'save it with LF or CRLF line endings',
        );
      } else if (b === NL && !inQuote) {
        const header = Buffer.concat([...this.headerBuf, chunk.subarray(0, i + 1)]);
        this.headerBuf = [];
        this.headerLen = 0;
        if (this.linesBeforeHeader === 0 && isSepLine(header)) {
          this.skipSepLine(header);
          return this.takeHeader(chunk.subarray(i + 1));
        }
        this.finishHeader(header);
        this.headerLines = this.linesBeforeHeader + countNewlines(header, 0, header.length);
        this.line = 1 + this.headerLines;
        this.lineShift = this.headerLines;
        return chunk.subarray(i + 1);
      }
    }
    this.inQuote = inQuote;
    this.headerBuf.push(chunk);
    this.headerLen += chunk.length;
    if (this.headerLen > MAX_HEADER_BYTES) throw this.fail(this.headerLine, 'the header line is longer than 1 MB', 'is this a CSV file with a header line?');
    return Buffer.alloc(0);
  }

  /**
   * Excel's first line `sep=,` says which separator the file uses. A comma: the line is
   * skipped (and counted: the header is line 2); any other separator is refused.
   */
  private skipSepLine(line: Buffer): void {
    const sep = String.fromCharCode(line[4]!);
    if (sep !== ',') {
      const shown = sep === '\t' ? 'tabs' : JSON.stringify(sep);
      throw this.fail(
        1,
        `the file's values are separated by ${shown} (Excel's "sep=${sep === '\t' ? '\\t' : sep}" line), not by commas`,
        `load it with --delimiter ${sep === '\t' ? 'tab' : `"${sep}"`} (the command line's --from), or save it as a comma-separated file (in Excel: Save As "CSV UTF-8 (Comma delimited)")`,
      );
    }
    this.linesBeforeHeader = 1;
    this.warnings.push(`${this.fileName}: line 1 is Excel's separator line "sep=,": skipped, the header is line 2`);
  }

  private finishHeader(buf: Buffer): void {
    this.headerDone = true;
    this.inQuote = false;
    this.headerLen = 0;
    this.headerBuf = [];
    let end = buf.length;
    if (end > 0 && buf[end - 1] === NL) end--;
    if (end > 0 && buf[end - 1] === CR) end--;
    let header: string[];
    try {
      header = splitRecord(buf, 0, end);
    } catch (err) {
      if (!(err instanceof RecordSyntaxError)) throw err;
      throw this.fail(this.headerLine, `the header line cannot be read: ${err.message}`, err.hint);
    }
    if (header.every((h) => h.trim() === '')) throw this.fail(this.headerLine, 'the header line is empty');
    this.resolveHeader(header);
  }

  /** The file line the header is on (2 after Excel's sep line). */
  get headerLine(): number {
    return this.linesBeforeHeader + 1;
  }

  /**
   * The file ended without a newline after its last record: that record is whole only
   * if it has a value for every column of the header (else the file was cut short).
   */
  private endLastRecord(): void {
    const record = Buffer.concat([...this.pending, NEWLINE]);
    this.pending = [];
    this.pendingBytes = 0;
    this.atRecordStart = true;
    const fields = countFields(record, 0, record.length - 1);
    if (fields < this.headers.length) {
      throw this.fail(
        this.lastRecordLine,
        `the file ends in the middle of this row: it has ${fields} of the header's ${this.headers.length} values, and no newline at its end`,
        'the file was probably cut short (an interrupted copy or upload): export or copy it again',
      );
    }
    if (this.writer === undefined) {
      this.push(NEWLINE); // (the record itself went out as it came)
      return;
    }
    const out = Buffer.allocUnsafe(record.length + 16);
    this.push(out.subarray(0, this.writer.write(record, 0, record.length, out, 0, this.lastRecordLine)));
  }

  private prefixRecords(chunk: Buffer): Buffer {
    // The output is the chunk with a `<line>,` prefix before each record: written into
    // one buffer per chunk (the largest a prefix can be is 16 bytes), no garbage per row.
    // When values are normalized, whole records are written as they end (normalizing
    // only shortens a field), and the start of a record that goes on in the next chunk
    // waits in `pending`.
    const writer = this.writer;
    const normalizing = writer !== undefined;
    const out = Buffer.allocUnsafe(chunk.length + this.pendingBytes + 16 * (countNewlines(chunk, 0, chunk.length) + 1));
    let o = 0;
    let pos = 0;
    let recStart = 0;
    if (this.closeAtChunkEnd && chunk.length) {
      this.closeAtChunkEnd = false;
      this.checkAfterClose(chunk[0]!);
    }
    let nextQuote = chunk.indexOf(QUOTE, 0);
    while (pos < chunk.length) {
      if (this.atRecordStart) {
        // A blank line between records is not a row: skip it.
        if (!this.inQuote && (chunk[pos] === NL || (chunk[pos] === CR && chunk[pos + 1] === NL))) {
          this.skipped.push(this.line);
          pos += chunk[pos] === CR ? 2 : 1;
          this.line++;
          continue;
        }
        if (!normalizing && this.linePrefix) o += out.write(`${this.line},`, o, 'latin1');
        this.rows++;
        this.lastRecordLine = this.line;
        if (this.line - this.rows !== this.lineShift && !this.linePrefix) {
          this.lineShift = this.line - this.rows;
          if (this.lineBreaks && this.lineBreaks.length >= 2 * this.maxLineBreaks) this.lineBreaks = null;
          this.lineBreaks?.push(this.rows, this.lineShift);
        }
        this.atRecordStart = false;
        recStart = pos;
      }
      const nl = chunk.indexOf(NL, pos);
      const end = nl === -1 ? chunk.length : nl;
      while (nextQuote !== -1 && nextQuote < end) {
        const before = nextQuote > 0 ? chunk[nextQuote - 1]! : this.prevByte;
        if (!this.inQuote) {
          // A quote opens a field only at its start (or doubles a quote inside one).
          if (before !== COMMA && before !== NL && before !== QUOTE) {
            throw this.fail(
              this.line,
              'a quote in the middle of a field',
              'a field with quotes in it must be quoted as a whole, and each " inside written twice ("")',
            );
          }
          this.inQuote = true;
          this.quoteLine = this.line;
        } else {
          this.inQuote = false;
          if (nextQuote + 1 < chunk.length) this.checkAfterClose(chunk[nextQuote + 1]!);
          else this.closeAtChunkEnd = true;
        }
        nextQuote = chunk.indexOf(QUOTE, nextQuote + 1);
      }
      if (nl === -1) {
        if (!normalizing) o += chunk.copy(out, o, pos);
        break;
      }
      if (!normalizing) o += chunk.copy(out, o, pos, nl + 1);
      this.line++;
      if (!this.inQuote) {
        this.atRecordStart = true;
        if (!normalizing) {
          if (this.pendingBytes) {
            this.pending = [];
            this.pendingBytes = 0;
          }
        } else {
          if (this.pendingBytes) {
            const record = Buffer.concat([...this.pending, chunk.subarray(recStart, nl + 1)]);
            this.pending = [];
            this.pendingBytes = 0;
            o = writer.write(record, 0, record.length, out, o, this.lastRecordLine);
          } else {
            o = writer.write(chunk, recStart, nl + 1, out, o, this.lastRecordLine);
          }
        }
      }
      pos = nl + 1;
    }
    if (!this.atRecordStart && recStart < chunk.length) {
      // The record goes on in the next chunk: keep its start (a copy: the chunk's
      // memory belongs to the stream that read it). Written as it came, it is still kept:
      // if the file ends there, its values are counted (endLastRecord).
      const rest = Buffer.from(chunk.subarray(recStart));
      this.pending.push(rest);
      this.pendingBytes += rest.length;
    }
    if (chunk.length) this.prevByte = chunk[chunk.length - 1]!;
    return out.subarray(0, o);
  }

  /** Every key so far is greater (in byte order) than the one before: no key repeats (a text key, watched). */
  get keysIncreasing(): boolean {
    return this.writer?.keys?.increasing ?? false;
  }

  /** Records whose key field is empty (or one of pandas' missing-value spellings). */
  get keysMissing(): number {
    return this.writer?.keys?.missing ?? 0;
  }

  /**
   * Each key's line, for a table loaded without line numbers whose keys cannot repeat;
   * null when not kept (more than MAX_KEY_LINES keys).
   */
  get linesByKey(): Record<string, number> | null {
    return this.writer?.keyLines?.byKey ?? null;
  }

  /** After a closing quote comes the next field, the end of the line, or a doubled quote. */
  private checkAfterClose(next: number): void {
    if (next === COMMA || next === NL || next === CR || next === QUOTE) return;
    if (this.quoteLine < this.line) {
      throw this.fail(
        this.quoteLine,
        `the quoted field that starts on this line does not end where it should (a quote on line ${this.line} closes it)`,
        'a closing " is probably missing on this line',
      );
    }
    throw this.fail(
      this.line,
      'text follows the closing quote of a field',
      'a field with quotes in it must be quoted as a whole, and each " inside written twice ("")',
    );
  }

  /**
   * The distinct values of each watched field, as the database stores them (typed fields
   * normalized), by field position; null for a field with too many, or quoted, values.
   */
  distinctValues(field: number): string[] | null {
    return this.writer?.distinctValues(field) ?? null;
  }

  /**
   * Where records start, for a table loaded without line numbers: record k (1 = the
   * first row) starts on line k + base, except after a break [k', shift]: k + shift.
   */
  get recordLines(): { base: number; breaks: [number, number][] } | null {
    const b = this.lineBreaks;
    if (!b) return null; // too many multi-line records to keep track of: memory stays flat
    const breaks: [number, number][] = [];
    for (let i = 0; i < b.length; i += 2) breaks.push([b[i]!, b[i + 1]!]);
    return { base: this.headerLines, breaks };
  }

  /** The file line of line `n` of what was sent to COPY (COPY counts its own lines). */
  fileLineOf(n: number): number {
    let line = n + this.headerLines;
    for (const b of this.skipped) if (b <= line) line++;
    return line;
  }

  private checkUtf8(chunk: Buffer): void {
    const data = this.utf8Carry.length ? Buffer.concat([this.utf8Carry, chunk]) : chunk;
    // Hold back an incomplete character at the end for the next chunk.
    let cut = data.length;
    for (let i = data.length - 1; i >= Math.max(0, data.length - 3); i--) {
      const b = data[i]!;
      if ((b & 0xc0) === 0x80) continue;
      if (b >= 0xc0) {
        const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
        if (data.length - i < need) cut = i;
      }
      break;
    }
    const whole = data.subarray(0, cut);
    this.utf8Carry = Buffer.from(data.subarray(cut));
    if (isUtf8(whole)) return;
    // Error path only: find the line that holds the bad bytes.
    let line = this.line;
    let start = 0;
    for (;;) {
      const nl = whole.indexOf(NL, start);
      const end = nl === -1 ? whole.length : nl;
      if (!isUtf8(whole.subarray(start, end))) break;
      if (nl === -1) break;
      line++;
      start = nl + 1;
    }
    throw this.notText(line, 'this line has bytes that are not UTF-8 text', 'save the file as UTF-8');
  }

  /** Bytes that are not UTF-8 text: a UTF-16 file is named as such, anything else as `message` says. */
  private notText(line: number, message: string, hint?: string): LoadError {
    if (looksUtf16(this.head)) {
      return this.fail(
        1,
        'the file is UTF-16 text, not UTF-8 (as Excel\'s "Unicode Text" and Windows PowerShell write it)',
        'save it as UTF-8: in Excel, Save As "CSV UTF-8 (Comma delimited)"; in an editor, choose the encoding UTF-8',
      );
    }
    return this.fail(line, message, hint);
  }
}

/** Beyond this many records that start on another line than their number says (multi-line
 * records), the reader stops keeping track: the engine then reads the file the staged way. */
export const MAX_LINE_BREAKS = 100_000;

/** Excel's first line naming the separator: `sep=,` (any one character), then the line end. */
function isSepLine(line: Buffer): boolean {
  let n = line.length;
  if (n > 0 && line[n - 1] === NL) n--;
  if (n > 0 && line[n - 1] === CR) n--;
  return n === 5 && line.toString('latin1', 0, 4).toLowerCase() === 'sep=';
}

/**
 * The start of a file in UTF-16: its byte-order mark, or text whose every other byte is
 * NUL (ASCII in UTF-16, little- or big-endian). A binary file rarely has that shape.
 */
function looksUtf16(head: Buffer): boolean {
  if (head.length >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))) return true;
  const pairs = head.length >> 1;
  if (pairs === 0) return false;
  let le = 0;
  let be = 0;
  for (let i = 0; i < 2 * pairs; i += 2) {
    if (head[i] !== 0 && head[i + 1] === 0) le++;
    else if (head[i] === 0 && head[i + 1] !== 0) be++;
  }
  return le >= 0.8 * pairs || be >= 0.8 * pairs;
}

function countNewlines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  let i = buf.indexOf(NL, from);
  while (i !== -1 && i < to) {
    n++;
    i = buf.indexOf(NL, i + 1);
  }
  return n;
}
