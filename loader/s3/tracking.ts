/**
 * At-least-once, unordered S3 events made exactly-once and ordered per key: before a
 * load, an object is claimed in s3_objects. A second delivery of an object that loaded
 * (or is loading) is skipped; so is an upload older (by sequencer) than one of the same
 * key that loaded or is loading. A failed object may be claimed again (a retry).
 */
import type { Database } from '../db/database';

export interface S3ObjectEvent {
  bucket: string;
  key: string;
  versionId?: string;
  etag?: string;
  sequencer?: string;
}

export type Claim = { claimed: true; id: number } | { claimed: false; why: string };

/** A claim older than this is from a loader that died: it may be taken over. */
const STALE_MINUTES = 20;

export function identityOf(o: S3ObjectEvent): string {
  return o.versionId ? `v:${o.versionId}` : o.etag ? `e:${o.etag.replace(/"/g, '')}` : `s:${o.sequencer ?? 'none'}`;
}

export async function claimObject(db: Database, o: S3ObjectEvent, kind: string): Promise<Claim> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('s3:' || $1 || '/' || $2, 0))", [o.bucket, o.key]);
    const identity = identityOf(o);
    const same = await tx.query<{ id: string; status: string; stale: boolean }>(
      `SELECT id, status, received_at < now() - make_interval(mins => $4) AS stale FROM s3_objects WHERE bucket = $1 AND key = $2 AND identity = $3`,
      [o.bucket, o.key, identity, STALE_MINUTES],
    );
    const prior = same.rows[0];
    if (prior && prior.status === 'loaded') return { claimed: false, why: `s3://${o.bucket}/${o.key} (${identity}) was already loaded` };
    if (prior && prior.status === 'loading' && !prior.stale) return { claimed: false, why: `s3://${o.bucket}/${o.key} (${identity}) is being loaded right now` };
    if (o.sequencer) {
      const newer = await tx.query<{ n: string }>(
        `SELECT count(*) AS n FROM s3_objects WHERE bucket = $1 AND key = $2 AND identity <> $3 AND status IN ('loaded', 'loading')
           AND bs_sequencer_order(sequencer) > bs_sequencer_order($4)`,
        [o.bucket, o.key, identity, o.sequencer],
      );
      if (Number(newer.rows[0]!.n) > 0) {
        await tx.query(
          `INSERT INTO s3_objects (bucket, key, version_id, etag, sequencer, identity, kind, status, note, completed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'skipped', 'a newer upload of this key was loaded first', now())
           ON CONFLICT (bucket, key, identity) DO UPDATE SET status = 'skipped', note = EXCLUDED.note, completed_at = now()`,
          [o.bucket, o.key, o.versionId ?? null, o.etag ?? null, o.sequencer, identity, kind],
        );
        return { claimed: false, why: `s3://${o.bucket}/${o.key} (${identity}) is older than an upload of the same key that already loaded` };
      }
    }
    const r = await tx.query<{ id: string }>(
      `INSERT INTO s3_objects (bucket, key, version_id, etag, sequencer, identity, kind, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'loading')
       ON CONFLICT (bucket, key, identity) DO UPDATE SET status = 'loading', attempts = s3_objects.attempts + 1,
         received_at = now(), completed_at = NULL, note = NULL
       RETURNING id`,
      [o.bucket, o.key, o.versionId ?? null, o.etag ?? null, o.sequencer ?? null, identity, kind],
    );
    return { claimed: true, id: Number(r.rows[0]!.id) };
  });
}

export async function finishObject(
  db: Database,
  id: number,
  status: 'loaded' | 'failed',
  info: { requestId?: string; historyId?: number; note?: string },
): Promise<void> {
  await db.query(
    `UPDATE s3_objects SET status = $2, request_id = $3, history_id = $4, note = $5, completed_at = now() WHERE id = $1`,
    [id, status, info.requestId ?? null, info.historyId ?? null, info.note ?? null],
  );
}
