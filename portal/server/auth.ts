/**
 * Who is asking. Locally: a one-time sign-in link (printed by `npm start`) opens a cookie
 * session on 127.0.0.1; the cookie is HttpOnly and SameSite=Strict, and every request
 * that changes something must also carry the session's CSRF token (a header the page
 * reads from GET /api/session) and, when the browser sends one, the Portal's own Origin.
 * Deployed: a Supabase Auth access token in `Authorization: Bearer`, verified with jose
 * against the project's JWKS or its legacy JWT secret; no cookies at all.
 * Either way the person's role comes from the one roles setting (config.ts).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Role } from '../../loader/commands/grammar';
import { roleOf } from '../../bot/roles';
import type { AuthConfig, PortalRoles } from './config';
import { PROBLEM, problemResponse } from './problems';

export interface PortalUser {
  id: string;
  email?: string;
  role: Role | null;
  /** How the history names them: `portal:<e-mail or id>`. */
  historyName: string;
  via: 'local' | 'supabase';
  /** Local sessions: the token unsafe requests must echo in `x-csrf-token`. */
  csrf?: string;
}

export type PortalEnv = { Variables: { user: PortalUser } };

export const SESSION_COOKIE = 'bs_session';
const SESSION_MS = 12 * 3600_000;
const digest = (s: string) => createHash('sha256').update(s).digest();
const same = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

interface Session {
  userId: string;
  csrf: string;
  expiresAt: number;
}

/** One-time sign-in links and the sessions they open, in this process (the local server). */
export class LocalSignIn {
  private readonly links = new Map<string, { userId: string; expiresAt: number }>();
  private readonly sessions = new Map<string, Session>();

  /** A token for `/auth/local?token=…`: it opens one session, once, before it expires. */
  mintLink(userId: string, ttlMs = 24 * 3600_000): string {
    const token = randomBytes(24).toString('base64url');
    this.links.set(token, { userId, expiresAt: Date.now() + ttlMs });
    return token;
  }

  redeem(token: string): { id: string; session: Session } | null {
    const link = this.links.get(token);
    this.links.delete(token);
    if (!link || link.expiresAt < Date.now()) return null;
    const id = randomBytes(24).toString('base64url');
    const session = { userId: link.userId, csrf: randomBytes(24).toString('base64url'), expiresAt: Date.now() + SESSION_MS };
    this.sessions.set(id, session);
    return { id, session };
  }

  session(id: string | undefined): Session | null {
    if (!id) return null;
    const s = this.sessions.get(id);
    if (!s || s.expiresAt < Date.now()) {
      this.sessions.delete(id);
      return null;
    }
    return s;
  }

  end(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }
}

/** Verifies Supabase access tokens: the project's issuer, audience `authenticated`, its keys or secret. */
export function supabaseVerifier(auth: Extract<AuthConfig, { kind: 'supabase' }>) {
  const issuer = `${auth.url}/auth/v1`;
  const key: Uint8Array | JWTVerifyGetKey = auth.jwtSecret
    ? new TextEncoder().encode(auth.jwtSecret)
    : createRemoteJWKSet(new URL(auth.jwksUrl ?? `${issuer}/.well-known/jwks.json`), { cooldownDuration: 30_000, cacheMaxAge: 600_000 });
  return async (token: string): Promise<{ id: string; email?: string }> => {
    const { payload } = await jwtVerify(token, key as JWTVerifyGetKey, {
      issuer,
      audience: 'authenticated',
      algorithms: auth.jwtSecret ? ['HS256'] : ['RS256', 'ES256'],
    });
    if (typeof payload.sub !== 'string' || !payload.sub) throw new Error('the token names no user (sub)');
    return { id: payload.sub, email: typeof payload.email === 'string' ? payload.email : undefined };
  };
}

function userOf(who: { id: string; email?: string }, roles: PortalRoles, via: PortalUser['via'], csrf?: string): PortalUser {
  return { ...who, role: roleOf(roles, who.id, who.email), historyName: `portal:${who.email ?? who.id}`.slice(0, 60), via, csrf };
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Puts the signed-in person on the context, or answers 401 (not signed in), 403 (a
 * changing request without the CSRF token or from another origin). The role is checked
 * per command by the routes.
 */
export function authenticate(o: { auth: AuthConfig; roles: PortalRoles; signIn?: LocalSignIn; origin?: string }): MiddlewareHandler<PortalEnv> {
  const verify = o.auth.kind === 'supabase' ? supabaseVerifier(o.auth) : undefined;
  return async (c, next) => {
    if (verify) {
      const h = c.req.header('authorization') ?? '';
      const m = /^Bearer\s+(.+)$/i.exec(h);
      if (!m) return problemResponse(c, 401, PROBLEM.unauthenticated, { detail: 'send your Supabase access token as Authorization: Bearer <token>' });
      try {
        c.set('user', userOf(await verify(m[1]!), o.roles, 'supabase'));
      } catch (err) {
        return problemResponse(c, 401, PROBLEM.unauthenticated, { detail: `the access token was refused: ${(err as Error).message}; sign in again` });
      }
      return next();
    }
    const id = getCookie(c, SESSION_COOKIE);
    const s = o.signIn?.session(id);
    if (!s) return problemResponse(c, 401, PROBLEM.unauthenticated, { detail: 'open the sign-in link that `npm start` printed' });
    if (!SAFE.has(c.req.method)) {
      const token = c.req.header('x-csrf-token') ?? '';
      if (!token || !same(token, s.csrf))
        return problemResponse(c, 403, PROBLEM.csrf, { detail: 'the x-csrf-token header is missing or wrong (GET /api/session gives it)' });
      const origin = c.req.header('origin');
      const own = o.origin ?? new URL(c.req.url).origin;
      if (origin && origin !== own) return problemResponse(c, 403, PROBLEM.csrf, { detail: `requests from ${origin} are refused: the Portal is ${own}` });
    }
    c.set('user', userOf({ id: s.userId }, o.roles, 'local', s.csrf));
    return next();
  };
}
