/**
 * S3 objects as the load engine's sources: one object, the files of a batch folder,
 * or the latest loadable export in the drop bucket (what Slack and CLI commands load
 * from).
 */
import type { S3Client, _Object } from '@aws-sdk/client-s3';
import type { Source } from '../engine';
import { TABLE_NAMES } from '../warehouse';
import { classifyKey, compareExportDates, exportDateOf, MANIFEST, OWN_PREFIXES, type ExportDate } from './keys';
import { BatchError, readBatch } from './manifest';
import { listAll, objectFile, type ObjectRef } from './objects';

/**
 * "The latest export" of the bucket, that Slack and CLI commands load from. An export is
 * a batch folder (complete: its _manifest.json is there, for no single game, and every
 * file it names), or a single drop of one table's file (not for a single game); for a
 * load of one game (`want.gameId`), a drop or batch for that game counts too. Left
 * out: objects that did not load (the loader's latest copy of them is in failed/: a
 * failed load, a refusal, an older export skipped; one in refused/ — refused by a drift
 * policy — stays in, so that its `--evolve` loads it), and a file whose key's export date
 * is older than another file of its table. The newest export (by upload time) gives
 * every table it has; only a table it lacks comes from the next newest that has it. So
 * one request never mixes two batches unless the newest lacks a table, and its
 * description names the files taken (each table's history row names its own file).
 */
export async function latestExportsSource(s3: S3Client, bucket: string, want: { gameId?: number } = {}): Promise<Source> {
  const chosen = await latestExports(s3, bucket, want.gameId);
  const units = [...new Set([...chosen.values()].map((c) => c.unit))];
  const taken = units.map(
    (u) =>
      `${u} for ${[...chosen]
        .filter(([, c]) => c.unit === u)
        .map(([t]) => t)
        .join(', ')}`,
  );
  return {
    describe: () => `s3://${bucket}/ (latest exports: ${taken.length ? taken.join('; ') : 'none loadable'})`,
    async fileFor(table) {
      const c = chosen.get(table);
      return c ? objectFile(s3, table, c.ref) : null;
    },
  };
}

interface Unit {
  label: string;
  time: number;
  batch?: { folder: string; manifest: string };
  files?: Map<string, { ref: ObjectRef; exportedAt?: ExportDate }>;
}

async function latestExports(s3: S3Client, bucket: string, gameId?: number): Promise<Map<string, { unit: string; ref: ObjectRef }>> {
  const objects = await listAll(s3, bucket, '');
  const didNotLoad = notLoaded(objects);
  const units: Unit[] = [];
  const newest = new Map<string, ExportDate>();
  const consider = (table: string, d?: ExportDate) => {
    const cur = newest.get(table);
    if (d && (!cur || compareExportDates(d, cur) > 0)) newest.set(table, d);
  };
  const manifests = new Set(objects.filter((o) => classifyKey(o.Key ?? '').kind === 'manifest' && !didNotLoad(o)).map((o) => o.Key!));
  for (const o of objects) {
    const key = o.Key ?? '';
    const k = classifyKey(key);
    const time = o.LastModified?.getTime() ?? 0;
    // (A drop for one game, `game=<id>/<table>.csv`, is an export of that game: for a load of that game only.)
    if (k.kind === 'csv' && (k.gameId === undefined || k.gameId === gameId) && !didNotLoad(o)) {
      units.push({ label: key, time, files: new Map([[k.table, { ref: { bucket, key, size: o.Size }, exportedAt: k.exportedAt }]]) });
      consider(k.table, k.exportedAt);
    } else if (k.kind === 'manifest' && manifests.has(key)) {
      units.push({ label: k.folder, time, batch: { folder: k.folder, manifest: key } });
    } else if (k.kind === 'batch-member' && k.table && manifests.has(`${k.batch}${MANIFEST}`)) {
      const name = classifyKey(key.slice(k.batch.length));
      consider(k.table, name.kind === 'csv' ? (name.exportedAt ?? exportDateOf(key)) : undefined);
    }
  }
  // Newest first; at the same time (S3 keeps seconds), a batch before a single file.
  units.sort((a, b) => b.time - a.time || Number(Boolean(b.batch)) - Number(Boolean(a.batch)) || (a.label < b.label ? 1 : -1));
  const chosen = new Map<string, { unit: string; ref: ObjectRef }>();
  for (const u of units) {
    if (chosen.size === TABLE_NAMES.length) break;
    const files = u.files ?? (await batchFiles(s3, bucket, u.batch!, gameId));
    for (const [table, f] of files ?? []) {
      const best = newest.get(table);
      const stale = f.exportedAt !== undefined && best !== undefined && compareExportDates(f.exportedAt, best) < 0;
      if (!chosen.has(table) && !stale) chosen.set(table, { unit: u.label, ref: f.ref });
    }
  }
  return chosen;
}

/** A complete batch's files (null when it is not one to load from: unreadable, or for another game than the load's). */
async function batchFiles(s3: S3Client, bucket: string, b: { folder: string; manifest: string }, gameId?: number) {
  try {
    const batch = await readBatch(s3, bucket, b.folder, b.manifest);
    if (batch.gameId !== undefined && batch.gameId !== gameId) return null;
    return new Map(batch.files.map((f) => [f.table, { ref: { bucket, key: f.key, size: f.size }, exportedAt: f.exportedAt }]));
  } catch (err) {
    if (err instanceof BatchError) return null;
    throw err;
  }
}

/**
 * Which objects did not load, by the loader's own copies (`processed|failed|refused/<day>/<id>/<key>`):
 * the latest copy of the object (same ETag, made after its upload) is in failed/. A copy
 * in refused/ (a drift policy refused the file) leaves it loadable: that is what the
 * refusal's `--evolve` loads.
 */
function notLoaded(objects: _Object[]): (o: _Object) => boolean {
  const copies = new Map<string, { failed: boolean; time: number; etag?: string }[]>();
  for (const o of objects) {
    const parts = (o.Key ?? '').split('/');
    if (!OWN_PREFIXES.includes(`${parts[0]}/`) || parts.length < 4) continue;
    const original = parts.slice(3).join('/');
    const list = copies.get(original) ?? [];
    list.push({ failed: parts[0] === 'failed', time: o.LastModified?.getTime() ?? 0, etag: o.ETag });
    copies.set(original, list);
  }
  const sameContent = (a?: string, b?: string) => !a || !b || a.includes('-') || b.includes('-') || a === b;
  return (o) => {
    const time = o.LastModified?.getTime() ?? 0;
    const after = (copies.get(o.Key ?? '') ?? []).filter((c) => c.time >= time && sameContent(c.etag, o.ETag));
    // The latest copy says; a load and a failure in the same second: it loaded.
    const last = after.sort((a, b) => b.time - a.time || Number(a.failed) - Number(b.failed))[0];
    return Boolean(last?.failed);
  };
}
