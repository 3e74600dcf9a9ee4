/**
 * Where a request's files come from. The engine asks a Source for one table's file;
 * a folder source looks for `<table>.csv`. (The S3 source lives with the S3 loader.)
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Source, SourceFile } from './request';

export function folderSource(dir: string): Source {
  const root = path.resolve(dir);
  return {
    describe: () => root,
    async fileFor(table: string): Promise<SourceFile | null> {
      const file = path.join(root, `${table}.csv`);
      if (!existsSync(file)) return null;
      const size = statSync(file).size;
      return { table, name: file, size, open: async () => createReadStream(file, { highWaterMark: 1 << 16 }) };
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
