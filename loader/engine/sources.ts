/**
 * Where a request's files come from. The engine asks a Source for one table's file;
 * a folder source looks for `<table>.csv`, or `<table>.csv.gz` (read through zlib as a
 * stream: the reader sees the CSV bytes), in UTF-8 or another encoding named (turned into
 * UTF-8 as it streams). (The S3 source lives with the S3 loader.)
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

/** The encoding named, as TextDecoder knows it, or a SourceError naming the choices. */
function checkEncoding(encoding: string): string {
  try {
    return new TextDecoder(encoding).encoding;
  } catch {
    throw new SourceError(`unknown encoding ${JSON.stringify(encoding)}: try utf-8 (the default), latin1, windows-1252 or utf-16le`);
  }
}

export function folderSource(dir: string, opts: { encoding?: string } = {}): Source {
  const root = path.resolve(dir);
  const encoding = opts.encoding ? checkEncoding(opts.encoding) : 'utf-8';
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
          return encoding === 'utf-8' ? bytes : transcoded(bytes, encoding);
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
