/**
 * What a drop-bucket key asks for. The convention (documented in loader/s3/README.md):
 *
 *   [any/folders/][op=<operation>/ | <operation>/][game=<id>/]<table>[_<date>].csv
 *   batches/<name>/...csv + batches/<name>/_manifest.json   one request for the folder
 *   [any/folders/]benchsight_game_<...>.json                   a tracker export
 *
 * Keys under processed/ and failed/ are the loader's own copies and are ignored.
 * A name that is not exactly one table (optionally with a date suffix) is refused,
 * never guessed.
 */
import { OPERATIONS, TABLE_NAMES, type Operation } from '../warehouse';

export type KeyKind =
  | { kind: 'csv'; table: string; operation?: Operation; gameId?: number }
  | { kind: 'batch-member'; batch: string; table?: string }
  | { kind: 'manifest'; folder: string; operation?: Operation; gameId?: number }
  | { kind: 'tracker' }
  | { kind: 'own-copy' }
  | { kind: 'unknown'; reason: string };

const DATE_SUFFIX = /^[_-]\d{4}-?\d{2}-?\d{2}(?:[T_-]?\d{2}[:-]?\d{2}(?:[:-]?\d{2})?)?$/;
export const MANIFEST = '_manifest.json';
export const OWN_PREFIXES = ['processed/', 'failed/'];

/** S3 event keys are URL-encoded, with `+` for a space. */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

export function classifyKey(key: string): KeyKind {
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
  const ext = /\.([^.]+)$/.exec(name)?.[1]?.toLowerCase();
  if (ext !== 'csv') {
    return { kind: 'unknown', reason: `${name || key} is not a CSV export (.csv), a tracker export (benchsight_game_*.json) or a ${MANIFEST}` };
  }
  const stem = name.slice(0, -4);
  const table = [...TABLE_NAMES].sort((a, b) => b.length - a.length).find((t) => stem === t || (stem.startsWith(t) && DATE_SUFFIX.test(stem.slice(t.length))));
  if (!table) {
    return { kind: 'unknown', reason: `cannot tell which table "${name}" is for: name it <table>.csv or <table>_<YYYY-MM-DD>.csv (tables: ${TABLE_NAMES.join(', ')})` };
  }
  return { kind: 'csv', table, operation, gameId };
}
