/**
 * What a drop-bucket key asks for. The convention (documented in loader/s3/README.md):
 *
 *   [any/folders/][op=<operation>/ | <operation>/][game=<id>/]<table>[_<date>].csv[.gz]
 *   batches/<name>/...csv + batches/<name>/_manifest.json   one request for the folder
 *   [any/folders/]benchsight_game_<...>.json                   a tracker export
 *
 * Keys under processed/, failed/ and refused/ are the loader's own copies and are ignored.
 * A name that is not exactly one table (optionally with a date suffix) is refused,
 * never guessed; so is a key that is not a plain path (`..` or `.` segments, empty
 * segments, backslashes): a file server behind the bucket would put it elsewhere.
 */
import { OPERATIONS, TABLE_NAMES, type Operation } from '../warehouse';

/** When the export was written, as its key says: a date, and a time of day when given. */
export interface ExportDate {
  /** YYYY-MM-DD */
  date: string;
  /** HH:MM:SS, when the key has a time of day. */
  time?: string;
}

export type KeyKind =
  | { kind: 'csv'; table: string; operation?: Operation; gameId?: number; exportedAt?: ExportDate }
  | { kind: 'batch-member'; batch: string; table?: string }
  | { kind: 'manifest'; folder: string; operation?: Operation; gameId?: number }
  | { kind: 'tracker' }
  | { kind: 'own-copy' }
  | { kind: 'unknown'; reason: string; unsafe?: boolean };

const DATE = '(\\d{4})-?(\\d{2})-?(\\d{2})(?:[T_-]?(\\d{2})[:-]?(\\d{2})(?:[:-]?(\\d{2}))?)?';
const DATE_SUFFIX = new RegExp(`^[_-]${DATE}$`);
/** A folder named by a date, or ending in one (`2025-12-29`, `export_20251229`). */
const DATED_FOLDER = new RegExp(`^(?:.*[_-])?${DATE}$`);
export const MANIFEST = '_manifest.json';
/** The object metadata (x-amz-meta-uploaded-by) in which `benchsight drop` says who dropped it; the loader records it. */
export const UPLOADED_BY = 'uploaded-by';
/**
 * The loader's own copies: loaded, failed, and refused by a drift policy (refused/: the
 * object stays loadable — `load ... --evolve` from the bucket's latest exports takes it).
 */
export const OWN_PREFIXES = ['processed/', 'failed/', 'refused/'];

/** S3 event keys are URL-encoded, with `+` for a space. */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/** Why a key is not a plain path the loader may read and copy, or null when it is. */
export function unsafeKey(key: string): string | null {
  if (key.includes('\\')) return `the key "${key}" has a backslash: use / between folders`;
  const segments = key.split('/');
  if (segments.some((s) => s === '..')) return `the key "${key}" has a ".." segment: a key may not climb out of its folder`;
  if (segments.some((s) => s === '.')) return `the key "${key}" has a "." segment: name the folders plainly`;
  if (segments.some((s) => s === '')) return `the key "${key}" has an empty segment (a leading, doubled or trailing /)`;
  return null;
}

function toExportDate(m: RegExpExecArray | null): ExportDate | undefined {
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  const date = `${y}-${mo}-${d}`;
  const t = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(t.getTime()) || t.toISOString().slice(0, 10) !== date) return undefined;
  if (h === undefined) return { date };
  if (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) return undefined;
  return { date, time: `${h}:${mi}:${s ?? '00'}` };
}

/**
 * The export's date in a key: the date suffix of the file name, else the nearest dated
 * folder (`exports/2025-12-29/fact_events.csv`, `batches/export_2025-12-29/...`).
 */
export function exportDateOf(key: string, stemAfterTable?: string): ExportDate | undefined {
  const inName = stemAfterTable !== undefined ? toExportDate(DATE_SUFFIX.exec(stemAfterTable)) : undefined;
  if (inName) return inName;
  const folders = key.split('/').slice(0, -1);
  for (let i = folders.length - 1; i >= 0; i--) {
    const d = toExportDate(DATED_FOLDER.exec(folders[i]!));
    if (d) return d;
  }
  return undefined;
}

/**
 * Newer (> 0) or older (< 0) by the date, then by the time of day when both have one;
 * 0 when neither is older (same date, a time missing on one side).
 */
export function compareExportDates(a: ExportDate, b: ExportDate): number {
  if (a.date !== b.date) return a.date < b.date ? -1 : 1;
  if (!a.time || !b.time || a.time === b.time) return 0;
  return a.time < b.time ? -1 : 1;
}

/** `2025-12-29` or `2025-12-29 18:30:00`, for messages. */
export function formatExportDate(d: ExportDate): string {
  return d.time ? `${d.date} ${d.time}` : d.date;
}

export function classifyKey(key: string): KeyKind {
  const unsafe = unsafeKey(key);
  if (unsafe) return { kind: 'unknown', reason: unsafe, unsafe: true };
  if (OWN_PREFIXES.some((p) => key.startsWith(p))) return { kind: 'own-copy' };
  const parts = key.split('/');
  const name = parts.pop() ?? '';
  const folders = parts;
  let operation: Operation | undefined;
  let gameId: number | undefined;
  for (const f of folders) {
    const op = f.startsWith('op=') ? f.slice(3) : f;
    if ((OPERATIONS as readonly string[]).includes(op)) operation = op as Operation;
    else if (f.startsWith('op=')) return { kind: 'unknown', reason: `"${f}" names no operation (operations: ${OPERATIONS.join(', ')})` };
    const g = /^game=(.*)$/.exec(f);
    if (g) {
      if (!/^\d{1,9}$/.test(g[1]!) || Number(g[1]) <= 0) return { kind: 'unknown', reason: `"${f}" does not hold a game id` };
      gameId = Number(g[1]);
    }
  }
  const batchAt = folders.indexOf('batches');
  if (name === MANIFEST) {
    if (batchAt < 0 || folders.length !== batchAt + 2) {
      return { kind: 'unknown', reason: `a ${MANIFEST} belongs directly in a batch folder, batches/<name>/${MANIFEST}, next to the files it loads` };
    }
    return { kind: 'manifest', folder: parts.join('/') + '/', operation, gameId };
  }
  if (batchAt >= 0 && folders.length > batchAt + 1) {
    const member = classifyKey(name);
    return { kind: 'batch-member', batch: folders.slice(0, batchAt + 2).join('/') + '/', ...(member.kind === 'csv' ? { table: member.table } : {}) };
  }
  if (/^benchsight_game_.*\.json$/i.test(name)) return { kind: 'tracker' };
  // A CSV export, plain or gzip-compressed (read through zlib as it streams).
  const ext = /\.(csv|csv\.gz)$/i.exec(name)?.[1];
  if (!ext) {
    return { kind: 'unknown', reason: `${name || key} is not a CSV export (.csv or .csv.gz), a tracker export (benchsight_game_*.json) or a ${MANIFEST}` };
  }
  const stem = name.slice(0, -(ext.length + 1));
  const table = [...TABLE_NAMES].sort((a, b) => b.length - a.length).find((t) => stem === t || (stem.startsWith(t) && DATE_SUFFIX.test(stem.slice(t.length))));
  if (!table) {
    return {
      kind: 'unknown',
      reason: `cannot tell which table "${name}" is for: name it <table>.csv or <table>_<YYYY-MM-DD>.csv (tables: ${TABLE_NAMES.join(', ')})`,
    };
  }
  const exportedAt = exportDateOf(key, stem.slice(table.length));
  return { kind: 'csv', table, operation, gameId, ...(exportedAt ? { exportedAt } : {}) };
}
