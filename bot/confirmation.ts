/**
 * A destructive command's confirmation travels in the button itself: the button's value
 * holds the command text, who asked, the workspace, when it expires and a random nonce,
 * signed with an HMAC whose key is derived from the Slack signing secret. Nobody but
 * this bot can make or alter one; what makes it one-shot is in audit.ts (README.md).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export interface Confirmation {
  /** The command as the user typed it (re-parsed with the grammar on confirm). */
  text: string;
  userId: string;
  teamId: string;
  issuedAt: number;
  expiresAt: number;
  nonce: string;
}

const Claims = z.object({
  c: z.string().max(500),
  u: z.string().max(40),
  t: z.string().max(40),
  iat: z.number().int(),
  exp: z.number().int(),
  n: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
});

const VERSION = 'v1';

/** A key for confirmations only, so that no other HMAC made with the signing secret can pass for one. */
function keyFrom(signingSecret: string): Buffer {
  return createHmac('sha256', signingSecret).update('benchsight/confirmation/v1').digest();
}

function mac(signingSecret: string, body: string): Buffer {
  return createHmac('sha256', keyFrom(signingSecret)).update(`${VERSION}.${body}`).digest();
}

export function newConfirmation(a: { text: string; userId: string; teamId: string; now: number; ttlMs: number }): Confirmation {
  return { text: a.text, userId: a.userId, teamId: a.teamId, issuedAt: a.now, expiresAt: a.now + a.ttlMs, nonce: randomBytes(16).toString('base64url') };
}

/** The button value: `v1.<claims>.<mac>` (well under Slack's 2,000 characters). */
export function signConfirmation(c: Confirmation, signingSecret: string): string {
  const body = Buffer.from(JSON.stringify({ c: c.text, u: c.userId, t: c.teamId, iat: c.issuedAt, exp: c.expiresAt, n: c.nonce })).toString('base64url');
  return `${VERSION}.${body}.${mac(signingSecret, body).toString('base64url')}`;
}

/** The confirmation a button value carries, or null when it was not made by this bot (or was altered). */
export function verifyConfirmation(value: string, signingSecret: string): Confirmation | null {
  const [version, body, sig, ...rest] = value.split('.');
  if (version !== VERSION || !body || !sig || rest.length) return null;
  const expected = mac(signingSecret, body);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const claims = Claims.safeParse(json);
  if (!claims.success) return null;
  const k = claims.data;
  return { text: k.c, userId: k.u, teamId: k.t, issuedAt: k.iat, expiresAt: k.exp, nonce: k.n };
}
