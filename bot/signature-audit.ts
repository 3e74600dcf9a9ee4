/**
 * Requests Bolt refused with 401 (signature does not match, or timestamp older than five
 * minutes) are recorded too, but rate-limited: their body is unauthenticated, and an
 * unlimited record would let anyone who finds the URL fill load_history.
 */
import type { Queryable } from '../loader/db/database';
import { recordUnverified } from './audit';

const FIVE_MINUTES_S = 5 * 60;

export interface RefusedRequest {
  /** The X-Slack-Request-Timestamp header, as sent. */
  timestamp?: string;
  remote?: string;
  path?: string;
}

export type SignatureAuditor = (r: RefusedRequest) => Promise<void>;

export function signatureFailureAuditor(
  db: Queryable,
  opts: { perMinute?: number; now?: () => number; log?: (line: string) => void } = {},
): SignatureAuditor {
  const perMinute = opts.perMinute ?? 20;
  const now = opts.now ?? Date.now;
  const log = opts.log ?? ((l: string) => console.error(l));
  let windowStart = 0;
  let inWindow = 0;
  let dropped = 0;
  return async (r) => {
    const ts = Number(r.timestamp);
    const stale = !r.timestamp || !Number.isFinite(ts) || ts < Math.floor(now() / 1000) - FIVE_MINUTES_S;
    const reason = stale
      ? `refused a request with ${r.timestamp ? `a stale timestamp (${r.timestamp}, older than 5 minutes)` : 'no timestamp'}: 401`
      : 'refused a request whose Slack signature does not match: 401';
    log(`slack: ${reason}${r.remote ? ` from ${r.remote}` : ''}`);
    if (now() - windowStart > 60_000) {
      windowStart = now();
      inWindow = 0;
    }
    if (++inWindow > perMinute) {
      dropped++;
      return;
    }
    const details = { remote: r.remote, path: r.path, ...(dropped ? { notRecordedBefore: dropped } : {}) };
    dropped = 0;
    await recordUnverified(db, { reason, details }).catch((err: unknown) => log(`slack: could not record a refused request: ${(err as Error).message}`));
  };
}
