/**
 * Who may run what. Roles are ranked: admins can do everything operators can, and
 * operators everything viewers can. requiredRole() of the grammar gives a command's
 * least role; "*" in a list means every user of the workspace.
 */
import { requiredRole, type Command, type Role } from '../loader/commands/grammar';
import type { Roles } from './config';

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/** The highest role the configuration gives this user, or null. */
export function roleOf(roles: Roles, userId: string): Role | null {
  const listed = (ids: string[]) => ids.includes(userId) || ids.includes('*');
  if (listed(roles.admins)) return 'admin';
  if (listed(roles.operators)) return 'operator';
  if (listed(roles.viewers)) return 'viewer';
  return null;
}

export type Permission = { ok: true; role: Role } | { ok: false; reason: string };

export function mayRun(roles: Roles, userId: string, command: Command): Permission {
  const role = roleOf(roles, userId);
  if (!role) {
    return { ok: false, reason: `you (${userId}) have no BenchSight role: ask an admin to add your Slack user id to the bot's roles` };
  }
  const needed = requiredRole(command);
  if (RANK[role] < RANK[needed]) {
    return { ok: false, reason: `this needs the ${needed} role and you (${userId}) are a${role === 'operator' ? 'n' : ''} ${role}: ask an admin` };
  }
  return { ok: true, role };
}
