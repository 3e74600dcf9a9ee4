/**
 * S3 event → load engine. Every record of an event is handled in turn: its key says
 * what it is (keys.ts); a CSV loads into its table, a batch manifest loads its folder
 * as one request, a tracker export goes to tracker ingestion. Each object is claimed
 * first (tracking.ts: loaded once, never older over newer, a claim that dies with its
 * loader), copied afterwards to processed/ or failed/ (with the error beside it), and
 * the outcome is posted to Slack when a channel is configured. Failures — a load that
 * failed, an object another live loader holds past the wait — are thrown at the end,
 * so Lambda retries the event and finally hands it to the dead-letter queue; a retry
 * is safe.
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import type { Readable } from 'node:stream';
import type { Database } from '../db/database';
import { filesSource, formatError, load, type LoadResult, type SourceFile } from '../engine';
import { evolveCommandFor } from '../commands/grammar';
import { loadClass } from '../commands/outcome-class';
import { renderLoad } from '../commands/render';
import { classifyKey, decodeS3Key, formatExportDate, type KeyKind, UPLOADED_BY } from './keys';
import { BatchError, readBatch } from './manifest';
import type { SlackNotifier } from './notify';
import { afterwards, refuse } from './outcomes';
import { objectFile, s3Url } from './objects';
import {
  claimObject,
  claimState,
  DEFAULT_LEASE_MS,
  finishObject,
  holdClaim,
  newerExport,
  registerExport,
  skipStale,
  type Claim,
  type ExportEntry,
  type NewerExport,
  type S3ObjectEvent,
} from './tracking';

/** S3's own event shapes (@types/aws-lambda). */
export type { S3EventRecord };
/** What S3 sends once when a bucket notification is set up: no Records. */
export interface S3TestEvent {
  Event: 's3:TestEvent';
  Service?: string;
  Bucket?: string;
  Time?: string;
  RequestId?: string;
  HostId?: string;
  Records?: undefined;
}
export type S3EventLike = S3Event | S3TestEvent;

export type TrackerIngest = (input: Readable, ctx: { source: string; initiatedBy: string }) => Promise<{ ok: boolean; text: string; historyId?: number }>;

export interface LoaderDeps {
  db: Database;
  s3: S3Client;
  notifier?: SlackNotifier;
  ingestTracker?: TrackerIngest;
  log?: (line: string) => void;
  now?: () => Date;
  /**
   * leaseMs: how long a claim lives unrenewed (default 60 s: a dead loader's object is
   * loaded again by a delivery after that). waitMs: how long a delivery waits while a
   * live loader holds the object before it fails for a retry (default two leases).
   */
  claims?: { leaseMs?: number; waitMs?: number };
}

export type RecordStatus = 'loaded' | 'failed' | 'skipped' | 'ignored' | 'refused';
export interface RecordOutcome {
  key: string;
  status: RecordStatus;
  message: string;
  result?: LoadResult;
}

export class LoadFailedError extends Error {}

/** Another live loader holds the object: this delivery fails, so that it is delivered again. */
export class ObjectBusyError extends Error {}

export async function handleS3Event(event: S3EventLike, deps: LoaderDeps): Promise<RecordOutcome[]> {
  const log = deps.log ?? (() => undefined);
  if ('Event' in event || !event.Records) {
    log('s3:TestEvent (or an event without records): nothing to load');
    return [];
  }
  const outcomes: RecordOutcome[] = [];
  for (const record of event.Records) {
    const o = await handleRecord(record, deps).catch(
      (err: unknown): RecordOutcome => ({
        key: record.s3?.object?.key ?? '?',
        status: 'failed',
        message: (err as Error).message,
      }),
    );
    log(`${o.status}: ${o.key}: ${o.message.split('\n')[0]}`);
    outcomes.push(o);
  }
  const failed = outcomes.filter((o) => o.status === 'failed');
  if (failed.length) {
    throw new LoadFailedError(
      `${failed.length} of ${outcomes.length} objects failed to load: ${failed.map((f) => `${f.key}: ${f.message.split('\n')[0]}`).join(' | ')}`,
    );
  }
  return outcomes;
}

async function handleRecord(record: S3EventRecord, deps: LoaderDeps): Promise<RecordOutcome> {
  const bucket = record.s3.bucket.name;
  const key = decodeS3Key(record.s3.object.key);
  if (record.eventName && !record.eventName.startsWith('ObjectCreated')) return { key, status: 'ignored', message: `${record.eventName} is not an upload` };
  const kind = classifyKey(key);
  if (kind.kind === 'own-copy') return { key, status: 'ignored', message: 'a copy made by the loader itself' };
  if (kind.kind === 'batch-member') return { key, status: 'ignored', message: `part of batch ${kind.batch}: it loads with the batch's _manifest.json` };
  const o = record.s3.object;
  const obj: S3ObjectEvent = { bucket, key, versionId: o.versionId || undefined, etag: o.eTag || undefined, sequencer: o.sequencer || undefined };
  const by = await initiatorOf(deps.s3, obj);

  if (kind.kind === 'unknown') {
    const message = `not loaded: ${kind.reason}`;
    // An event with nothing to tell its uploads apart is refused each time it comes.
    const claim = identityKnown(obj) ? await claimFor(deps, obj, 'unknown') : undefined;
    if (claim && !claim.claimed) return { key, status: 'skipped', message: claim.why };
    await refuse(deps.db, obj, by, message);
    if (claim?.claimed) await finishObject(deps.db, claim, 'failed', { note: message });
    // A key that is not a plain path is not copied anywhere: a file server would put it outside its folder.
    await afterwards(deps, kind.unsafe ? [] : [obj], 'failed', message, {}, [obj]);
    return { key, status: 'refused', message };
  }

  if (!identityKnown(obj)) obj.head = await headOf(deps.s3, obj);
  const claim = await claimFor(deps, obj, kind.kind === 'csv' ? 'csv' : kind.kind === 'manifest' ? 'batch' : 'tracker');
  if (!claim.claimed) {
    // An older upload of a key said once, in history and on Slack; not copied: the key holds the newer one now.
    if (claim.firstSkip) {
      await refuse(deps.db, obj, by, `not loaded: ${claim.why}`);
      await afterwards(deps, [], 'failed', `not loaded: ${claim.why}`, {}, [obj], 'Skipped, an older upload');
    }
    return { key, status: 'skipped', message: claim.why };
  }
  const hold = holdClaim(deps.db, claim, lease(deps), deps.log);
  try {
    if (kind.kind === 'tracker') return await ingest(deps, obj, claim, by);
    return await loadObject(deps, record, kind, obj, claim, by, hold.signal);
  } finally {
    hold.stop();
  }
}

/**
 * Who the history names for a dropped object: the person `benchsight drop` wrote into its
 * metadata, with the key; else the key itself (an event's principal is an account id, or
 * a local server's random one: it names nobody).
 */
async function initiatorOf(s3: S3Client, obj: S3ObjectEvent): Promise<string> {
  const dropped = `s3:${obj.key}`.slice(0, 300);
  try {
    const h = await s3.send(new HeadObjectCommand({ Bucket: obj.bucket, Key: obj.key, VersionId: obj.versionId }));
    const who = h.Metadata?.[UPLOADED_BY]?.trim();
    return who ? `${who.slice(0, 100)} (${dropped})` : dropped;
  } catch {
    return dropped;
  }
}

const lease = (deps: LoaderDeps) => ({ leaseMs: deps.claims?.leaseMs ?? DEFAULT_LEASE_MS });

function identityKnown(o: S3ObjectEvent): boolean {
  return Boolean(o.versionId || o.etag || o.sequencer);
}

/** The object's own ETag, version and time, for an event that carries none of them. */
async function headOf(s3: S3Client, o: S3ObjectEvent): Promise<S3ObjectEvent['head']> {
  const h = await s3.send(new HeadObjectCommand({ Bucket: o.bucket, Key: o.key }));
  return { etag: h.ETag, versionId: h.VersionId, lastModified: h.LastModified?.toISOString() };
}

/**
 * Claims the object; while another live loader holds it, waits (it may finish, or die
 * and its lease run out) up to the wait, then fails: a delivery never reports success
 * for an object it did not see loaded.
 */
async function claimFor(deps: LoaderDeps, obj: S3ObjectEvent, kind: string): Promise<Claim & ({ claimed: true } | { claimed: false; state: 'done' })> {
  const l = lease(deps);
  const deadline = Date.now() + (deps.claims?.waitMs ?? 2 * l.leaseMs);
  for (;;) {
    const c = await claimObject(deps.db, obj, kind, l);
    if (c.claimed) {
      if (c.tookOver) deps.log?.(`${s3Url(obj)}: took over the claim of loader ${c.tookOver}, whose lease ran out`);
      return c;
    }
    if (c.state === 'done') return c as Claim & { claimed: false; state: 'done' };
    const left = deadline - Date.now();
    if (left <= 0) throw new ObjectBusyError(`${c.why}: not loaded by this delivery, which fails so that it is delivered again`);
    await new Promise((r) => setTimeout(r, Math.min(1000, l.leaseMs / 4, left)));
  }
}

async function ingest(deps: LoaderDeps, obj: S3ObjectEvent, claim: { id: number; holder: string }, by: string): Promise<RecordOutcome> {
  const key = obj.key;
  if (!deps.ingestTracker) {
    const message = 'not loaded: tracker exports are recognised but tracker ingestion is not available here';
    await refuse(deps.db, obj, by, message);
    await finishObject(deps.db, claim, 'failed', { note: message });
    await afterwards(deps, [obj], 'failed', message, {});
    return { key, status: 'refused', message };
  }
  const body = await objectFile(deps.s3, 'tracker', obj).open();
  const r = await deps.ingestTracker(body, { source: s3Url(obj), initiatedBy: by });
  await finishObject(deps.db, claim, r.ok ? 'loaded' : 'failed', { historyId: r.historyId, note: r.text.slice(0, 500) });
  await afterwards(deps, [obj], r.ok ? 'processed' : 'failed', r.text, { historyId: r.historyId });
  return { key, status: r.ok ? 'loaded' : 'failed', message: r.text };
}

async function loadObject(
  deps: LoaderDeps,
  record: S3EventRecord,
  kind: Extract<KeyKind, { kind: 'csv' | 'manifest' }>,
  obj: S3ObjectEvent,
  claim: { id: number; holder: string },
  by: string,
  signal: AbortSignal,
): Promise<RecordOutcome> {
  const { bucket, key } = obj;
  let files: SourceFile[];
  let members: S3ObjectEvent[] = [obj];
  let operation = kind.operation;
  let gameId = kind.gameId;
  let entries: ExportEntry[];
  if (kind.kind === 'csv') {
    files = [objectFile(deps.s3, kind.table, { ...obj, size: record.s3.object.size })];
    entries = [{ table: kind.table, gameId, exportedAt: kind.exportedAt }];
  } else {
    try {
      const batch = await readBatch(deps.s3, bucket, kind.folder, key, obj.versionId);
      files = batch.files.map((f) => objectFile(deps.s3, f.table, f));
      members = [...batch.files, obj];
      operation = batch.operation ?? operation;
      gameId = batch.gameId ?? gameId;
      entries = batch.files.map((f) => ({ table: f.table, gameId, exportedAt: f.exportedAt }));
    } catch (err) {
      if (!(err instanceof BatchError)) throw err;
      await refuse(deps.db, obj, by, err.message);
      await finishObject(deps.db, claim, 'failed', { note: err.message });
      await afterwards(deps, [obj], 'failed', err.message, {});
      // A file listed but not there yet may arrive: let Lambda retry.
      return { key, status: /not in the bucket/.test(err.message) ? 'failed' : 'refused', message: err.message };
    }
  }

  const newer = await registerExport(deps.db, claim, entries);
  if (newer) return stale(deps, obj, members, entries, newer, by, true);

  const result = await load(deps.db, {
    scope: { kind: 'tables', tables: files.map((f) => f.table) },
    operation,
    gameId,
    source: filesSource(files, kind.kind === 'csv' ? s3Url(obj) : `s3://${bucket}/${kind.folder}`),
    initiatedBy: by,
    context: { bucket, key, etag: obj.etag ?? obj.head?.etag, versionId: obj.versionId ?? obj.head?.versionId, sequencer: obj.sequencer, s3_claim: claim },
    signal,
  });
  const text = renderLoad(result, { width: SLACK_WIDTH });
  // The claim turned 'loaded' in the load's transaction (000010) exactly when the load committed.
  const now = await claimState(deps.db, claim.id);
  if (now?.holder !== claim.holder) {
    const message = `another loader took ${s3Url(obj)} over after this one's claim lapsed; that one loads it (this attempt: history #${result.historyId})`;
    return { key, status: 'skipped', message, result };
  }
  // (A load that succeeded with its claim still 'loading' was not seen by the trigger:
  // its success stands, and the claim is ended here.)
  if (now.status === 'loaded' || (result.status === 'succeeded' && now.status === 'loading')) {
    await finishObject(deps.db, claim, 'loaded', { requestId: result.requestId, historyId: result.historyId });
    await afterwards(deps, members, 'processed', text, { historyId: result.historyId, requestId: result.requestId }, members, loadedTitle(result));
    return { key, status: 'loaded', message: `loaded${result.status === 'partial' ? ', partial' : ''} (history #${result.historyId})`, result };
  }
  const lostTo = await newerExport(deps.db, claim.id, true);
  if (lostTo) {
    await skipStale(deps.db, claim, lostTo);
    return stale(deps, obj, members, entries, lostTo, by, false, result);
  }
  const error = result.error ? formatError(result.error) : `the load ended ${result.status}`;
  await finishObject(deps.db, claim, 'failed', { requestId: result.requestId, historyId: result.historyId, note: result.error?.message ?? error });
  if (result.drift?.some((t) => t.refused)) {
    // Refused by a drift policy: kept loadable (refused/, not failed/), with the plan and a
    // button that applies the evolution and loads it again (an admin's, confirmed).
    const command = evolveCommandFor({ tables: files.map((f) => f.table), operation, gameId });
    await afterwards(
      deps,
      members,
      'refused',
      `${text}\nThe file is kept and stays loadable: \`${command}\` applies these changes (each recorded) and loads it.`,
      { historyId: result.historyId, requestId: result.requestId, error, drift: result.drift },
      members,
      'Not loaded, refused by the drift policy',
      { label: 'Apply the changes and reload', value: command },
    );
    return { key, status: 'refused', message: error, result };
  }
  await afterwards(deps, members, 'failed', text, { historyId: result.historyId, requestId: result.requestId, error });
  return { key, status: 'failed', message: error, result };
}

/** Slack's code blocks read well up to about this many characters a line. */
const SLACK_WIDTH = 90;

/** The Slack title of a load that committed, by its outcome class (commands/outcome-class.ts). */
function loadedTitle(r: LoadResult): string {
  const cls = loadClass(r);
  if (cls === 'nothing to do') return 'Nothing to load (every row was already there)';
  if (cls !== 'partial') return 'Loaded';
  const loaded = r.tables.reduce((a, t) => a + t.inserted + t.updated, 0);
  return loaded === 0
    ? 'Not loaded, PARTIAL: every row was rejected'
    : 'Loaded, PARTIAL (rows rejected, data-quality errors or checks that did not run: see the warnings)';
}

/**
 * An export older (by the date in its key) than one of the same table that loaded: not
 * loaded, and said so — in history (unless its refused load already says it), on
 * Slack, and with a failed/ copy whose error names the newer export.
 */
async function stale(
  deps: LoaderDeps,
  obj: S3ObjectEvent,
  members: S3ObjectEvent[],
  entries: ExportEntry[],
  newer: NewerExport,
  by: string,
  record: boolean,
  result?: LoadResult,
): Promise<RecordOutcome> {
  const mine = entries.find((e) => e.table === newer.table)?.exportedAt;
  const message =
    `not loaded: ${s3Url(obj)} is an older export of ${newer.table}${mine ? ` (${formatExportDate(mine)})` : ''} than ${newer.url} (${newer.exportedAt})` +
    `, loaded ${record ? 'first' : 'while this one was loading'}${newer.historyId ? ` (history #${newer.historyId})` : ''}: newest wins, so it was skipped`;
  if (record) await refuse(deps.db, obj, by, message);
  await afterwards(deps, members, 'failed', message, { historyId: result?.historyId, requestId: result?.requestId }, undefined, 'Skipped, an older export');
  return { key: obj.key, status: 'skipped', message, result };
}
