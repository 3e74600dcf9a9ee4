/**
 * Where a request's files come from. The engine asks a Source for one table's file;
 * a folder source looks for `<table>.csv`, or `<table>.csv.gz` (read through zlib as a
 * stream: the reader sees the CSV bytes), in UTF-8 or another encoding named (turned into
 * UTF-8 as it streams), separated by commas or by the delimiter named (turned into
 * commas as it streams). (The S3 source lives with the S3 loader.)
 */
import { closeSync, createReadStream, existsSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, pipeline, type Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Source, SourceFile } from './request';

export class SourceError extends Error {}

/** A gzip file ends with the size of its content (mod 4 GiB): the size the reader will see, for progress and plans. */
function gzipContentSize(file: string, compressed: number): number | undefined {
  if (compressed < 18) return undefined;
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, compressed - 4);
    const size = b.readUInt32LE(0);
    return size >= compressed ? size : undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * A compressed stream (a name ending in `.gz`) decompressed as it is read; its errors name
 * the file (a file that is not gzip, or cut short, is refused, never read as CSV).
 */
export function decompressedIfGzip(name: string, raw: Readable): Readable {
  if (!/\.gz$/i.test(name)) return raw;
  const gunzip = createGunzip();
  const out = new PassThrough();
  pipeline(raw, gunzip, (e) => {
    if (!e) return;
    const z = e as Error & { code?: string };
    out.destroy(z.code?.startsWith('Z_') ? new SourceError(`not a readable gzip file (${z.message}): compress it with gzip, or give the plain .csv`) : z);
  });
  gunzip.pipe(out);
  // The reader stopped (a bad row, a cancel): stop reading the file too.
  out.on('close', () => raw.destroy());
  return out;
}

/**
 * Text in another encoding (latin1, windows-1252, utf-16le, …: what TextDecoder knows)
 * turned into UTF-8 as it streams, for the reader, which reads UTF-8.
 */
export function transcoded(raw: Readable, encoding: string): Readable {
  const decoder = new TextDecoder(encoding);
  const utf8 = new Transform({
    transform(chunk: Buffer, _e, done) {
      done(null, Buffer.from(decoder.decode(chunk, { stream: true }), 'utf8'));
    },
    flush(done) {
      const rest = decoder.decode();
      done(null, rest ? Buffer.from(rest, 'utf8') : undefined);
    },
  });
  pipeline(raw, utf8, () => undefined);
  utf8.on('close', () => raw.destroy());
  return utf8;
}

/** The separator named (`;`, `|`, `tab` or `\t`, …) as the one byte it is, or a SourceError saying what can be. */
export function checkDelimiter(d: string): string {
  const named: Record<string, string> = { tab: '\t', '\\t': '\t', semicolon: ';', pipe: '|', comma: ',' };
  const c = named[d.toLowerCase()] ?? d;
  if (c.length !== 1 || c.charCodeAt(0) > 0x7f || c === '"' || c === '\n' || c === '\r') {
    throw new SourceError(
      `the delimiter ${JSON.stringify(d)} is not one a CSV can use: give one ASCII character other than a quote or a line break (";", "|", "tab")`,
    );
  }
  return c;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const NL = 0x0a;
const CR = 0x0d;

/**
 * A CSV separated by another character, turned into the comma-separated CSV the reader
 * reads as it streams: outside quotes the delimiter becomes a comma, and a field that
 * holds a comma is quoted (a quoted field is kept as it is). Line breaks stay where
 * they are, so every line and column an error names is the file's own.
 */
export function delimited(raw: Readable, delimiter: string): Readable {
  const sep = delimiter.charCodeAt(0);
  let inQuote = false;
  /** A quote met inside a quoted field: its end, or the first of two (""). */
  let quoteSeen = false;
  /** The field being read (it may span chunks): its bytes, whether it began with a quote or holds a comma. */
  let field = Buffer.alloc(256);
  let len = 0;
  let quoted = false;
  let hasComma = false;
  const push = (b: number) => {
    if (len === field.length) {
      const bigger = Buffer.allocUnsafe(field.length * 2);
      field.copy(bigger, 0, 0, len);
      field = bigger;
    }
    field[len++] = b;
  };
  let out = Buffer.alloc(0);
  let o = 0;
  const endField = (after: number) => {
    const wrap = hasComma && !quoted;
    if (out.length - o < len + 3) {
      const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, o + len + 3));
      out.copy(bigger, 0, 0, o);
      out = bigger;
    }
    if (wrap) out[o++] = QUOTE;
    field.copy(out, o, 0, len);
    o += len;
    if (wrap) out[o++] = QUOTE;
    if (after >= 0) out[o++] = after;
    len = 0;
    quoted = false;
    hasComma = false;
  };
  const take = () => {
    const b = Buffer.from(out.subarray(0, o));
    o = 0;
    return b.length ? b : undefined;
  };
  const t = new Transform({
    transform(chunk: Buffer, _e, done) {
      if (out.length < chunk.length + 64) out = Buffer.allocUnsafe(chunk.length * 2 + 64);
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i]!;
        if (inQuote) {
          if (!quoteSeen) {
            push(b);
            if (b === QUOTE) quoteSeen = true;
            continue;
          }
          quoteSeen = false;
          if (b === QUOTE) {
            push(b); // "" : a quote inside the field
            continue;
          }
          inQuote = false; // that quote closed the field: this byte comes after it
        }
        if (b === sep) endField(COMMA);
        else if (b === NL || b === CR) endField(b);
        else {
          if (b === QUOTE && len === 0 && !quoted) inQuote = quoted = true;
          else if (b === COMMA) hasComma = true;
          push(b);
        }
      }
      done(null, take());
    },
    flush(done) {
      if (len > 0 || quoted) endField(-1);
      done(null, take());
    },
  });
  pipeline(raw, t, () => undefined);
  t.on('close', () => raw.destroy());
  return t;
}

/** The encoding named, as TextDecoder knows it, or a SourceError naming the choices. */
function checkEncoding(encoding: string): string {
  try {
    return new TextDecoder(encoding).encoding;
  } catch {
    throw new SourceError(`unknown encoding ${JSON.stringify(encoding)}: try utf-8 (the default), latin1, windows-1252 or utf-16le`);
  }
}

export function folderSource(dir: string, opts: { encoding?: string; delimiter?: string } = {}): Source {
  const root = path.resolve(dir);
  const encoding = opts.encoding ? checkEncoding(opts.encoding) : 'utf-8';
  const delimiter = opts.delimiter ? checkDelimiter(opts.delimiter) : ',';
  if (!existsSync(root)) throw new SourceError(`folder not found: ${root}`);
  if (!statSync(root).isDirectory()) throw new SourceError(`not a folder: ${root} (--from takes the folder that holds the <table>.csv files)`);
  return {
    describe: () => root,
    async fileFor(table: string): Promise<SourceFile | null> {
      const plain = path.join(root, `${table}.csv`);
      const gz = `${plain}.gz`;
      const hasPlain = existsSync(plain);
      const hasGz = existsSync(gz);
      if (hasPlain && hasGz) throw new SourceError(`both ${table}.csv and ${table}.csv.gz are in ${root}: keep the one to load`);
      if (!hasPlain && !hasGz) return null;
      const file = hasPlain ? plain : gz;
      const compressed = statSync(file).size;
      const size = hasPlain ? compressed : gzipContentSize(file, compressed);
      return {
        table,
        name: file,
        size,
        open: async () => {
          const bytes = decompressedIfGzip(file, createReadStream(file, { highWaterMark: 1 << 16 }));
          const utf8 = encoding === 'utf-8' ? bytes : transcoded(bytes, encoding);
          return delimiter === ',' ? utf8 : delimited(utf8, delimiter);
        },
      };
    },
  };
}

/** Files given directly, e.g. one uploaded stream per table. */
export function filesSource(files: SourceFile[], description = 'the given files'): Source {
  return {
    describe: () => description,
    async fileFor(table: string) {
      return files.find((f) => f.table === table) ?? null;
    },
  };
}

export function streamFile(table: string, name: string, open: () => Readable | Promise<Readable>, size?: number): SourceFile {
  return { table, name, size, open: async () => open() };
}
