/**
 * Every request to the bot, before Bolt sees it (both receivers: server.ts and lambda.ts):
 *
 *   - the timestamp must be within five minutes of now, in either direction (Bolt refuses
 *     only old ones; a request signed for the future could otherwise be kept and sent later);
 *   - the Slack signature must match (v0 = HMAC-SHA256 of `v0:<timestamp>:<body>`);
 *   - the signature must never have been seen before: it is claimed in the database
 *     (audit.ts claimSignature), so a replay is refused in every process and container.
 *
 * 401 for the first two, 409 for a replay, 503 when the database cannot say. Each refusal
 * is recorded (audit.ts), at most `perMinute` a minute per process: a refused request is
 * not trusted, and an unlimited record would let anyone who finds the URL fill
 * load_history.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../loader/db/database';
import { claimSignature, recordReplay, recordUnverified } from './audit';
import { botLog } from './log';

/** How far a request's timestamp may be from now, either way. */
export const MAX_SKEW_S = 5 * 60;
/** A claimed signature is kept this long past its timestamp: it is refused as stale by then anyway. */
const KEEP_PAST_SKEW_S = 60;

export interface IncomingRequest {
  rawBody: string;
  contentType?: string;
  /** X-Slack-Request-Timestamp, as sent. */
  timestamp?: string;
  /** X-Slack-Signature, as sent. */
  signature?: string;
  remote?: string;
  path?: string;
}

export type Verdict = { ok: true } | { ok: false; status: 401 | 409 | 503; text: string };
export type RequestGuard = (r: IncomingRequest) => Promise<Verdict>;

export function requestGuard(
  db: Queryable,
  opts: { signingSecret: string; perMinute?: number; now?: () => number; log?: (line: string) => void },
): RequestGuard {
  const now = opts.now ?? Date.now;
  const log = opts.log ?? ((l: string) => botLog(l));
  const limit = rateLimit(opts.perMinute ?? 20, now);
  const unverified = async (r: IncomingRequest, reason: string): Promise<Verdict> => {
    log(`slack: ${reason}${r.remote ? ` from ${r.remote}` : ''}`);
    const dropped = limit();
    if (dropped !== null) {
      await recordUnverified(db, { reason, details: { remote: r.remote, path: r.path, ...(dropped ? { notRecordedBefore: dropped } : {}) } }).catch(
        (err: unknown) => log(`slack: could not record a refused request: ${(err as Error).message}`),
      );
    }
    return { ok: false, status: 401, text: 'the request is not signed by Slack, or not now' };
  };

  return async (r) => {
    if (isSslCheck(r)) return { ok: true }; // unsigned by design; Bolt answers it and drops anything else in it
    const ts = Number(r.timestamp);
    const nowS = Math.floor(now() / 1000);
    if (!r.timestamp || !Number.isInteger(ts)) return unverified(r, 'refused a request with no timestamp: 401');
    if (ts < nowS - MAX_SKEW_S) return unverified(r, `refused a request with a stale timestamp (${r.timestamp}, older than 5 minutes): 401`);
    if (ts > nowS + MAX_SKEW_S) return unverified(r, `refused a request with a timestamp in the future (${r.timestamp}, more than 5 minutes ahead): 401`);
    if (!r.signature || !signatureMatches(opts.signingSecret, r.timestamp, r.rawBody, r.signature)) {
      return unverified(r, 'refused a request whose Slack signature does not match: 401');
    }

    let first: boolean;
    try {
      first = await claimSignature(db, r.signature, new Date((ts + MAX_SKEW_S + KEEP_PAST_SKEW_S) * 1000));
    } catch (err) {
      log(`slack: could not check a request for a replay, so it was not run: ${(err as Error).message}`);
      return { ok: false, status: 503, text: 'the bot cannot reach its database right now; nothing was run' };
    }
    if (first) return { ok: true };

    const what = whatItAsked(r);
    const reason = `refused a replay: this signed request (timestamp ${r.timestamp}) was already received; it is not run twice`;
    log(`slack: ${reason}${r.remote ? ` from ${r.remote}` : ''}`);
    const dropped = limit();
    if (dropped !== null) {
      await recordReplay(db, {
        reason,
        text: what.text,
        details: { slack: what.slack, remote: r.remote, path: r.path, ...(dropped ? { notRecordedBefore: dropped } : {}) },
      }).catch((err: unknown) => log(`slack: could not record a replay: ${(err as Error).message}`));
    }
    return { ok: false, status: 409, text: 'this request was already received; it is not run twice' };
  };
}

function signatureMatches(secret: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(`v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function isSslCheck(r: IncomingRequest): boolean {
  return r.contentType === 'application/x-www-form-urlencoded' && new URLSearchParams(r.rawBody).get('ssl_check') === '1';
}

/** What a (signed, so authentic) request asked for: the command text or the button, and who first sent it. */
function whatItAsked(r: IncomingRequest): { text: string; slack: Record<string, unknown> } {
  const form = new URLSearchParams(r.rawBody);
  const payload = form.get('payload');
  if (payload) {
    try {
      const p = JSON.parse(payload) as { user?: { id?: string }; team?: { id?: string }; channel?: { id?: string }; actions?: { action_id?: string }[] };
      return { text: `(${p.actions?.[0]?.action_id ?? 'interaction'})`, slack: { user: p.user?.id, team: p.team?.id, channel: p.channel?.id } };
    } catch {
      return { text: '(interaction)', slack: {} };
    }
  }
  return { text: form.get('text') ?? '(request)', slack: { user: form.get('user_id'), team: form.get('team_id'), channel: form.get('channel_id') } };
}

/**
 * Allows `perMinute` records a minute. Returns null when this one is over the limit, else
 * how many were dropped since the last one recorded.
 */
function rateLimit(perMinute: number, now: () => number): () => number | null {
  let windowStart = 0;
  let inWindow = 0;
  let dropped = 0;
  return () => {
    if (now() - windowStart > 60_000) {
      windowStart = now();
      inWindow = 0;
    }
    if (++inWindow > perMinute) {
      dropped++;
      return null;
    }
    const before = dropped;
    dropped = 0;
    return before;
  };
}
