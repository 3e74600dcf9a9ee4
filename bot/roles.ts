/**
 * Who may run what, in Slack and in the Admin Portal: one configuration of the ranked
 * roles viewer < operator < admin (admins can do everything operators can, operators
 * everything viewers can; requiredRole() of the grammar gives a command's least role).
 * Each list names people by the identities they use: a Slack user id (U…/W…) in Slack,
 * an e-mail address or Supabase user id (UUID) in the Portal; "*" is everyone who can
 * reach that entry point (Slack: the workspace; the Portal: whoever signs in).
 * Set once, in BENCHSIGHT_ROLES (or the JSON file BENCHSIGHT_ROLES_FILE); the older
 * names SLACK_ROLES (bot) and PORTAL_ROLES (Portal) are still read by their entry point.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { requiredRole, type Command, type Role } from '../loader/commands/grammar';

export interface Roles {
  admins: string[];
  operators: string[];
  viewers: string[];
}

export class RolesConfigError extends Error {}

export const ROLES_EXAMPLE = '{"admins":["U0123ABCD","ada@league.example"],"operators":["U0456EFGH"],"viewers":["*"]}';

const SLACK_USER = /^[UW][A-Z0-9]+$/;
const EMAIL = /^[^@\s]+@[^@\s]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const person = z
  .string()
  .trim()
  .refine(
    (s) => s === '*' || SLACK_USER.test(s) || EMAIL.test(s) || UUID.test(s),
    'must list Slack user ids (U…/W…), e-mail addresses, Supabase user ids (UUIDs) or "*"',
  );
const RolesSchema = z.object({ admins: z.array(person).default([]), operators: z.array(person).default([]), viewers: z.array(person).default([]) }).strict();

/**
 * The roles setting: BENCHSIGHT_ROLES (JSON), else `older` (the entry point's older name,
 * SLACK_ROLES or PORTAL_ROLES), else the file BENCHSIGHT_ROLES_FILE names. Undefined when
 * none is set; a RolesConfigError naming the setting when it is not valid.
 */
export function rolesFromEnv(env: Record<string, string | undefined>, opts: { older?: string; readFile?: (path: string) => string } = {}): Roles | undefined {
  const set = (name: string | undefined) => (name && env[name]?.trim() ? name : undefined);
  const inline = set('BENCHSIGHT_ROLES') ?? set(opts.older);
  if (inline) return parseRoles(env[inline]!, inline);
  const file = env.BENCHSIGHT_ROLES_FILE?.trim();
  if (!file) return undefined;
  let text: string;
  try {
    text = (opts.readFile ?? ((p) => readFileSync(p, 'utf8')))(file);
  } catch (err) {
    throw new RolesConfigError(`BENCHSIGHT_ROLES_FILE cannot be read: ${(err as Error).message}`);
  }
  return parseRoles(text, `BENCHSIGHT_ROLES_FILE (${file})`);
}

function parseRoles(text: string, setting: string): Roles {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RolesConfigError(`${setting} is not valid JSON (expected e.g. ${ROLES_EXAMPLE})`);
  }
  const r = RolesSchema.safeParse(json);
  if (!r.success) {
    throw new RolesConfigError(r.error.issues.map((i) => `${setting}${i.path.length ? ` ${i.path.join('.')}` : ''} ${i.message}`).join('\n  '));
  }
  if (!r.data.admins.length && !r.data.operators.length && !r.data.viewers.length) {
    throw new RolesConfigError(`${setting} gives nobody a role: Slack and the Portal would refuse everyone (e.g. ${ROLES_EXAMPLE})`);
  }
  return r.data;
}

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/** The highest role the configuration gives someone known by these identities (case-insensitive), or null. */
export function roleOf(roles: Roles, ...identities: (string | undefined)[]): Role | null {
  const names = identities.filter((x): x is string => Boolean(x)).map((x) => x.toLowerCase());
  const listed = (ids: string[]) => ids.some((i) => i === '*' || names.includes(i.toLowerCase()));
  if (listed(roles.admins)) return 'admin';
  if (listed(roles.operators)) return 'operator';
  if (listed(roles.viewers)) return 'viewer';
  return null;
}

export function atLeast(role: Role | null, needed: Role): boolean {
  return role !== null && RANK[role] >= RANK[needed];
}

export type Permission = { ok: true; role: Role } | { ok: false; reason: string };

export function mayRun(roles: Roles, userId: string, command: Command): Permission {
  const role = roleOf(roles, userId);
  if (!role) {
    return { ok: false, reason: `you (${userId}) have no BenchSight role: ask an admin to add your Slack user id to the bot's roles` };
  }
  const needed = requiredRole(command);
  if (!atLeast(role, needed)) {
    return { ok: false, reason: `this needs the ${needed} role and you (${userId}) are a${role === 'operator' ? 'n' : ''} ${role}: ask an admin` };
  }
  return { ok: true, role };
}
