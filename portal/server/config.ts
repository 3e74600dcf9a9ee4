/**
 * The Portal's settings, parsed once at the edge with zod: how people sign in (a local
 * one-time link, or Supabase Auth's JWT), who holds which role (Slack's setting, read by
 * bot/roles.ts: the same people, by e-mail or Supabase user id here), how uploads travel,
 * and how long a confirmation lives. Every error names the setting.
 */
import { z } from 'zod';
import { ROLES_EXAMPLE, rolesFromEnv, type Roles } from '../../bot/roles';

/** The roles of Slack's bot, from the same setting (bot/roles.ts): e-mail addresses and Supabase user ids are the Portal's identities. */
export type PortalRoles = Roles;

export type AuthConfig =
  /** `npm start`: one-time sign-in links for 127.0.0.1, then a cookie session (with a CSRF token). */
  | { kind: 'local' }
  /**
   * Deployed: a Supabase Auth access token (`Authorization: Bearer`), verified against the
   * project's JWKS (`<url>/auth/v1/.well-known/jwks.json`) or, for projects on the legacy
   * shared secret, with that secret. No cookies, so nothing for CSRF to ride on.
   */
  | { kind: 'supabase'; url: string; anonKey?: string; jwtSecret?: string; jwksUrl?: string };

export interface PortalConfig {
  auth: AuthConfig;
  roles: PortalRoles;
  /** The Portal's own origin (`https://…`), when known in advance; else each request's own host is its origin. */
  origin?: string;
  /** `stream`: the browser sends files to the Portal, which streams them into the bucket; `presigned`: straight to S3 (Lambda's 6 MB limit). */
  uploads: 'stream' | 'presigned';
  confirmTtlMs: number;
}

export class PortalConfigError extends Error {}

const Env = z.object({
  PORTAL_AUTH: z.enum(['local', 'supabase']).default('local'),
  SUPABASE_URL: z.url('must be the project URL, https://<ref>.supabase.co').optional(),
  SUPABASE_ANON_KEY: z.string().trim().min(10).optional(),
  SUPABASE_JWT_SECRET: z.string().trim().min(16, 'is too short to be a JWT secret').optional(),
  PORTAL_ORIGIN: z
    .url('must be an origin such as https://portal.example.org')
    .transform((u) => new URL(u).origin)
    .optional(),
  PORTAL_UPLOADS: z.enum(['stream', 'presigned']).optional(),
  BENCHSIGHT_CONFIRM_MINUTES: z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'must be a number of minutes')
    .transform(Number)
    .pipe(z.number().gt(0).max(60))
    .default(5),
});

/**
 * The settings from the environment: PORTAL_AUTH, SUPABASE_URL, SUPABASE_ANON_KEY,
 * SUPABASE_JWT_SECRET, PORTAL_ORIGIN, PORTAL_UPLOADS, BENCHSIGHT_CONFIRM_MINUTES, and the
 * roles Slack's bot reads too (BENCHSIGHT_ROLES or BENCHSIGHT_ROLES_FILE; PORTAL_ROLES,
 * the older name, still works).
 */
export function portalConfigFromEnv(
  env: Record<string, string | undefined>,
  defaults: Partial<PortalConfig> = {},
  opts: { readFile?: (path: string) => string } = {},
): PortalConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = Env.safeParse(cleaned);
  if (!parsed.success)
    throw new PortalConfigError(`invalid Portal configuration:\n  ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('\n  ')}`);
  const e = parsed.data;
  let auth: AuthConfig;
  if (e.PORTAL_AUTH === 'supabase') {
    if (!e.SUPABASE_URL) throw new PortalConfigError('SUPABASE_URL is not set: the Supabase project whose users sign in to the Portal');
    auth = { kind: 'supabase', url: e.SUPABASE_URL.replace(/\/+$/, ''), anonKey: e.SUPABASE_ANON_KEY, jwtSecret: e.SUPABASE_JWT_SECRET };
  } else auth = { kind: 'local' };
  let roles: Roles | undefined;
  try {
    roles = rolesFromEnv(cleaned, { older: 'PORTAL_ROLES', readFile: opts.readFile }) ?? defaults.roles;
  } catch (err) {
    throw new PortalConfigError(`invalid Portal configuration:\n  ${(err as Error).message}`);
  }
  if (!roles)
    throw new PortalConfigError(`BENCHSIGHT_ROLES is not set: who may do what, as JSON such as ${ROLES_EXAMPLE} (or BENCHSIGHT_ROLES_FILE, a file holding it)`);
  return {
    auth,
    roles,
    origin: e.PORTAL_ORIGIN ?? defaults.origin,
    uploads: e.PORTAL_UPLOADS ?? defaults.uploads ?? (auth.kind === 'supabase' ? 'presigned' : 'stream'),
    confirmTtlMs: Math.round(e.BENCHSIGHT_CONFIRM_MINUTES * 60_000),
  };
}
