/**
 * At-least-once, unordered S3 events made exactly-once and ordered: before a load, an
 * object is claimed in s3_objects (sql/migrations/000004, 000010).
 *
 * - A claim is a lease: the loader renews it while it works (holdClaim). A loader that
 *   dies stops renewing; once the lease has run out, a delivery of the event takes the
 *   claim over, marks the dead attempt's history `abandoned` and loads. A lease is a row,
 *   not a session lock, so it holds through a transaction-mode pooler.
 * - While a live loader holds the claim, another delivery is `busy`: it waits, and fails
 *   if it cannot proceed (so Lambda retries it), never reporting success for it.
 * - The claim turns 'loaded' inside the load's transaction (a trigger on load_history):
 *   a load whose claim was taken over does not commit.
 * - A delivery of an object that loaded is skipped; so is an upload older (by sequencer)
 *   than one of the same key that loaded or is loading, and an export whose key's date
 *   is older than a loaded export of the same table (per game for game-scoped files).
 */
import type { Database, Queryable } from '../db/database';
import { abandonLoaderAttempt } from '../history';
import { formatExportDate, type ExportDate } from './keys';

export interface S3ObjectEvent {
  bucket: string;
  key: string;
  versionId?: string;
  etag?: string;
  sequencer?: string;
  /** When the event carries neither version, ETag nor sequencer: the object's own, from a HEAD request. */
  head?: { etag?: string; versionId?: string; lastModified?: string };
}

export type Claim =
  | { claimed: true; id: number; holder: string; tookOver?: string }
  /**
   * done: nothing to do (loaded, or lost to a newer upload; firstSkip: this delivery
   * found it older, and records that); busy: a live loader holds it.
   */
  | { claimed: false; state: 'done' | 'busy'; why: string; firstSkip?: boolean };

/** One table an object loads, with its export date when the key gives one. */
export interface ExportEntry {
  table: string;
  gameId?: number;
  exportedAt?: ExportDate;
}

/** What a newer export that made this one stale is. */
export interface NewerExport {
  objectId: number;
  url: string;
  table: string;
  exportedAt: string;
  historyId: number | null;
}

export interface LeaseOptions {
  /** How long a claim lives without being renewed (default 60 s). */
  leaseMs: number;
}

export const DEFAULT_LEASE_MS = 60_000;

export function identityOf(o: S3ObjectEvent): string {
  if (o.versionId) return `v:${o.versionId}`;
  if (o.etag) return `e:${o.etag.replace(/"/g, '')}`;
  if (o.sequencer) return `s:${o.sequencer}`;
  if (o.head?.versionId) return `v:${o.head.versionId}`;
  // Same content uploaded twice is two uploads here: the time tells them apart.
  if (o.head?.etag) return `h:${o.head.etag.replace(/"/g, '')}@${o.head.lastModified ?? ''}`;
  throw new Error(`s3://${o.bucket}/${o.key}: the event has no version, ETag or sequencer, and the object answered none`);
}

const url = (o: { bucket: string; key: string }) => `s3://${o.bucket}/${o.key}`;

interface Prior {
  id: string;
  status: string;
  holder: string | null;
  live: boolean;
  lease_until: string | null;
  note: string | null;
}

export async function claimObject(db: Database, o: S3ObjectEvent, kind: string, lease: LeaseOptions): Promise<Claim> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('s3:' || $1 || '/' || $2, 0))", [o.bucket, o.key]);
    const identity = identityOf(o);
    const name = `${url(o)} (${identity})`;
    // FOR UPDATE: a load committing this claim right now is waited for, then seen.
    const same = await tx.query<Prior>(
      `SELECT id, status, holder, note, lease_until::text,
              coalesce(lease_until, received_at + interval '20 minutes') > now() AS live
       FROM s3_objects WHERE bucket = $1 AND key = $2 AND identity = $3 FOR UPDATE`,
      [o.bucket, o.key, identity],
    );
    const prior = same.rows[0];
    if (prior?.status === 'loaded') return { claimed: false, state: 'done', why: `${name} was already loaded` };
    if (prior?.status === 'skipped') return { claimed: false, state: 'done', why: `${name} was skipped: ${prior.note ?? 'a newer upload won'}` };
    if (prior?.status === 'loading' && prior.live) {
      return { claimed: false, state: 'busy', why: `${name} is being loaded by another loader (its lease runs until ${prior.lease_until ?? '?'})` };
    }
    const tookOver = prior?.status === 'loading' && prior.holder ? prior.holder : undefined;
    // The dead attempt's history rows still `started` are marked abandoned.
    if (prior?.status === 'loading' && prior.holder) await abandonLoaderAttempt(tx, { holder: prior.holder, object: url(o) });

    if (o.sequencer) {
      const newer = await tx.query<{ sequencer: string; history_id: string | null }>(
        `SELECT sequencer, history_id FROM s3_objects WHERE bucket = $1 AND key = $2 AND identity <> $3 AND status IN ('loaded', 'loading')
           AND bs_sequencer_order(sequencer) > bs_sequencer_order($4)
         ORDER BY bs_sequencer_order(sequencer) DESC LIMIT 1`,
        [o.bucket, o.key, identity, o.sequencer],
      );
      const n = newer.rows[0];
      if (n) {
        await tx.query(
          `INSERT INTO s3_objects (bucket, key, version_id, etag, sequencer, identity, kind, status, note, completed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'skipped', 'a newer upload of this key was loaded first', now())
           ON CONFLICT (bucket, key, identity) DO UPDATE SET status = 'skipped', note = EXCLUDED.note, completed_at = now()`,
          [o.bucket, o.key, o.versionId ?? null, o.etag ?? null, o.sequencer, identity, kind],
        );
        return {
          claimed: false,
          state: 'done',
          firstSkip: true,
          why: `${name} is older than an upload of the same key (sequencer ${n.sequencer}) that ${n.history_id ? `already loaded (history #${n.history_id})` : 'is loading'}: newest wins, so it was skipped`,
        };
      }
    }
    const r = await tx.query<{ id: string; holder: string }>(
      `INSERT INTO s3_objects (bucket, key, version_id, etag, sequencer, identity, kind, status, holder, lease_until)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'loading', gen_random_uuid(), now() + make_interval(secs => $8))
       ON CONFLICT (bucket, key, identity) DO UPDATE SET status = 'loading', attempts = s3_objects.attempts + 1,
         holder = EXCLUDED.holder, lease_until = EXCLUDED.lease_until, received_at = now(), completed_at = NULL,
         note = CASE WHEN $9::uuid IS NULL THEN NULL ELSE 'taken over from loader ' || $9 || ', whose lease ran out' END
       RETURNING id, holder::text`,
      [
        o.bucket,
        o.key,
        o.versionId ?? o.head?.versionId ?? null,
        o.etag ?? o.head?.etag ?? null,
        o.sequencer ?? null,
        identity,
        kind,
        lease.leaseMs / 1000,
        tookOver ?? null,
      ],
    );
    return { claimed: true, id: Number(r.rows[0]!.id), holder: r.rows[0]!.holder, ...(tookOver ? { tookOver } : {}) };
  });
}

/**
 * Records the tables a claimed object loads and their export dates; if one of them has
 * a newer export that loaded (or is loading), the object is stale: its claim becomes
 * `skipped`, and the newer export is returned.
 */
export async function registerExport(db: Database, claim: { id: number; holder: string }, entries: ExportEntry[]): Promise<NewerExport | null> {
  return db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO s3_object_tables (object_id, table_name, game_id, export_date, export_time)
       SELECT $1, t.table_name, t.game_id, t.export_date, t.export_time
       FROM unnest($2::text[], $3::integer[], $4::date[], $5::time[]) AS t (table_name, game_id, export_date, export_time)
       ON CONFLICT (object_id, table_name) DO UPDATE SET game_id = EXCLUDED.game_id, export_date = EXCLUDED.export_date, export_time = EXCLUDED.export_time`,
      [
        claim.id,
        entries.map((e) => e.table),
        entries.map((e) => e.gameId ?? null),
        entries.map((e) => e.exportedAt?.date ?? null),
        entries.map((e) => e.exportedAt?.time ?? null),
      ],
    );
    const newer = await newerExport(tx, claim.id, false);
    if (!newer) return null;
    await tx.query(
      `UPDATE s3_objects SET status = 'skipped', lost_to = $3, lease_until = NULL, completed_at = now(), note = $4
       WHERE id = $1 AND holder = $2 AND status = 'loading'`,
      [claim.id, claim.holder, newer.objectId, `older than the export ${newer.url} (${newer.exportedAt}) of ${newer.table}`],
    );
    return newer;
  });
}

/** The newer export that makes object `id` stale, if any (bs_s3_newer_export). */
export async function newerExport(db: Queryable, id: number, committedOnly: boolean): Promise<NewerExport | null> {
  const r = await db.query<{
    object_id: string;
    bucket: string;
    key: string;
    table_name: string;
    export_date: string;
    export_time: string | null;
    history_id: string | null;
  }>('SELECT object_id, bucket, key, table_name, export_date::text, export_time::text, history_id FROM bs_s3_newer_export($1, $2)', [id, committedOnly]);
  const n = r.rows[0];
  if (!n) return null;
  return {
    objectId: Number(n.object_id),
    url: url(n),
    table: n.table_name,
    exportedAt: formatExportDate({ date: n.export_date, time: n.export_time ?? undefined }),
    historyId: n.history_id === null ? null : Number(n.history_id),
  };
}

/** Skips a claimed object that lost to a newer export found only when its load was refused at commit. */
export async function skipStale(db: Queryable, claim: { id: number; holder: string }, newer: NewerExport): Promise<void> {
  await db.query(
    `UPDATE s3_objects SET status = 'skipped', lost_to = $3, lease_until = NULL, completed_at = now(), note = $4
     WHERE id = $1 AND holder = $2 AND status = 'loading'`,
    [claim.id, claim.holder, newer.objectId, `older than the export ${newer.url} (${newer.exportedAt}) of ${newer.table}`],
  );
}

/** Ends a claim this loader holds. Returns false when the claim is no longer its own. */
export async function finishObject(
  db: Queryable,
  claim: { id: number; holder: string },
  status: 'loaded' | 'failed',
  info: { requestId?: string; historyId?: number; note?: string },
): Promise<boolean> {
  const r = await db.query(
    `UPDATE s3_objects SET status = $3, request_id = coalesce($4, request_id), history_id = coalesce($5, history_id), note = $6,
       completed_at = now(), lease_until = NULL
     WHERE id = $1 AND holder = $2 AND (status = 'loading' OR $3 = 'loaded')`,
    [claim.id, claim.holder, status, info.requestId ?? null, info.historyId ?? null, info.note ?? null],
  );
  return r.rowCount > 0;
}

/** Who holds claim `id` now, and in what state. */
export async function claimState(db: Queryable, id: number): Promise<{ status: string; holder: string | null } | null> {
  const r = await db.query<{ status: string; holder: string | null }>('SELECT status, holder::text FROM s3_objects WHERE id = $1', [id]);
  return r.rows[0] ?? null;
}

/**
 * Keeps a claim alive while its loader works: renews the lease every quarter of it. A
 * lease that ran out is lost, even if nobody took it over yet: the loader must stop
 * (`lost` aborts), as another may already be loading the object.
 */
export function holdClaim(db: Database, claim: { id: number; holder: string }, lease: LeaseOptions, log: (line: string) => void = () => undefined) {
  const lost = new AbortController();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const renew = async () => {
    try {
      const r = await db.query<{ status: string }>(
        `UPDATE s3_objects SET lease_until = now() + make_interval(secs => $3)
         WHERE id = $1 AND holder = $2 AND status = 'loading' AND lease_until > now()
         RETURNING status`,
        [claim.id, claim.holder, lease.leaseMs / 1000],
      );
      if (r.rowCount === 0 && !stopped) {
        const now = await claimState(db, claim.id);
        // Loaded by this loader (its commit turned the claim 'loaded'): nothing lost.
        if (!stopped && !(now?.holder === claim.holder && now.status !== 'loading')) {
          log(`lost the claim on object ${claim.id}: its lease ran out${now?.holder !== claim.holder ? ' and another loader took it over' : ''}; stopping`);
          lost.abort(new Error('the claim on the object lapsed'));
          return;
        }
      }
    } catch (err) {
      // The database is unreachable: try again; if the lease runs out meanwhile, the
      // commit refuses this load anyway.
      log(`could not renew the claim on object ${claim.id}: ${(err as Error).message}`);
    }
    if (!stopped) timer = setTimeout(() => void renew(), lease.leaseMs / 4);
  };
  timer = setTimeout(() => void renew(), lease.leaseMs / 4);
  return {
    signal: lost.signal,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** What the loader made of the latest upload of a key, or null while it has not seen it (the Portal follows an upload with it). */
export async function objectOutcome(
  db: Queryable,
  bucket: string,
  key: string,
): Promise<{ status: 'loading' | 'loaded' | 'failed' | 'skipped'; historyId: number | null; note: string | null; completedAt: string | null } | null> {
  const r = await db.query<{
    status: 'loading' | 'loaded' | 'failed' | 'skipped';
    history_id: string | null;
    note: string | null;
    completed_at: string | null;
  }>('SELECT status, history_id, note, completed_at FROM s3_objects WHERE bucket = $1 AND key = $2 ORDER BY id DESC LIMIT 1', [bucket, key]);
  const o = r.rows[0];
  return o ? { status: o.status, historyId: o.history_id === null ? null : Number(o.history_id), note: o.note, completedAt: o.completed_at } : null;
}
