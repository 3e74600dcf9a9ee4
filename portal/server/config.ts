/**
 * The Portal's settings, parsed once at the edge with zod: how people sign in (a local
 * one-time link, or Supabase Auth's JWT), who holds which role (the same viewer <
 * operator < admin as Slack, by user id or e-mail), how uploads travel, and how long a
 * confirmation lives. Every error names the setting.
 */
import { z } from 'zod';
import type { Role } from '../../loader/commands/grammar';

export interface PortalRoles {
  admins: string[];
  operators: string[];
  viewers: string[];
}

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

export const PORTAL_ROLES_EXAMPLE = '{"admins":["ada@league.example"],"operators":["8d0f…-uuid"],"viewers":["*"]}';

const person = z
  .string()
  .trim()
  .refine(
    (s) =>
      s === '*' || /^[^@\s]+@[^@\s]+$/.test(s) || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s) || /^[A-Za-z0-9._-]{1,64}$/.test(s),
    'must list e-mail addresses, Supabase user ids (UUIDs), local user names or "*"',
  );

export const PortalRolesSchema = z
  .object({ admins: z.array(person).default([]), operators: z.array(person).default([]), viewers: z.array(person).default([]) })
  .strict();

const Env = z.object({
  PORTAL_AUTH: z.enum(['local', 'supabase']).default('local'),
  SUPABASE_URL: z.url('must be the project URL, https://<ref>.supabase.co').optional(),
  SUPABASE_ANON_KEY: z.string().trim().min(10).optional(),
  SUPABASE_JWT_SECRET: z.string().trim().min(16, 'is too short to be a JWT secret').optional(),
  PORTAL_ROLES: z.string().optional(),
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

/** The settings from the environment (PORTAL_AUTH, SUPABASE_URL, SUPABASE_JWT_SECRET, PORTAL_ROLES, PORTAL_ORIGIN, PORTAL_UPLOADS). */
export function portalConfigFromEnv(env: Record<string, string | undefined>, defaults: Partial<PortalConfig> = {}): PortalConfig {
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
  const roles = e.PORTAL_ROLES !== undefined ? parseRoles(e.PORTAL_ROLES, 'PORTAL_ROLES') : defaults.roles;
  if (!roles) throw new PortalConfigError(`PORTAL_ROLES is not set: who may do what, as JSON such as ${PORTAL_ROLES_EXAMPLE}`);
  return {
    auth,
    roles,
    origin: e.PORTAL_ORIGIN ?? defaults.origin,
    uploads: e.PORTAL_UPLOADS ?? defaults.uploads ?? (auth.kind === 'supabase' ? 'presigned' : 'stream'),
    confirmTtlMs: Math.round(e.BENCHSIGHT_CONFIRM_MINUTES * 60_000),
  };
}

export function parseRoles(text: string, setting: string): PortalRoles {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PortalConfigError(`${setting} is not valid JSON (expected e.g. ${PORTAL_ROLES_EXAMPLE})`);
  }
  const r = PortalRolesSchema.safeParse(json);
  if (!r.success) throw new PortalConfigError(r.error.issues.map((i) => `${setting}${i.path.length ? ` ${i.path.join('.')}` : ''} ${i.message}`).join('\n  '));
  if (!r.data.admins.length && !r.data.operators.length && !r.data.viewers.length) {
    throw new PortalConfigError(`${setting} gives nobody a role: the Portal would refuse everyone (e.g. ${PORTAL_ROLES_EXAMPLE})`);
  }
  return r.data;
}

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/** The highest role the configuration gives a person, by user id or e-mail (case-insensitive), or null. */
export function roleOf(roles: PortalRoles, who: { id: string; email?: string }): Role | null {
  const names = [who.id, who.email].filter((x): x is string => Boolean(x)).map((x) => x.toLowerCase());
  const listed = (ids: string[]) => ids.some((i) => i === '*' || names.includes(i.toLowerCase()));
  if (listed(roles.admins)) return 'admin';
  if (listed(roles.operators)) return 'operator';
  if (listed(roles.viewers)) return 'viewer';
  return null;
}

export function atLeast(role: Role | null, needed: Role): boolean {
  return role !== null && RANK[role] >= RANK[needed];
}
