/**
 * The SQL the PostgreSQL provider runs for the roles, grants and default privileges the
 * program declares, read from the resources it registered under mocks (not a second,
 * hand-written copy). Split by the deploy's order: what comes before the migrate
 * function's invocation, and what waits for it. A non-superuser admin may grant on, or set
 * default privileges for, objects of another role only as a member of it: like the
 * provider, each such statement runs with the owners granted to the admin for its time.
 */
import type { Queryable } from '../../../loader/db/database';
import type { MockedResource } from './stack';
import { unwrap } from './walk';

export interface DeclaredStep {
  /** `postgresql:index/grant:Grant database-loader-tables` */
  resource: string;
  sql: string;
  /** The schema whose objects' owners the admin needs for it (default privileges: the owner role). */
  ownersOf?: { schema: string; kinds: string[] } | { role: string };
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;

const KINDS: Record<string, { plural: string; relkinds: string[] }> = {
  table: { plural: 'TABLES', relkinds: ['r', 'p', 'v', 'm', 'f'] },
  sequence: { plural: 'SEQUENCES', relkinds: ['S'] },
  function: { plural: 'FUNCTIONS', relkinds: ['function'] },
};

function stepsOf(r: MockedResource): DeclaredStep[] {
  const i = unwrap(r.inputs) as Record<string, any>;
  const resource = `${r.type} ${r.name}`;
  switch (r.type) {
    case 'postgresql:index/role:Role': {
      // Cluster-wide group roles (benchsight_service, tracker) may exist already: other
      // test files make them too.
      const steps: DeclaredStep[] = [
        {
          resource,
          sql: `DO $$ BEGIN CREATE ROLE ${q(i.name)}; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
                ALTER ROLE ${q(i.name)} ${i.login ? 'LOGIN' : 'NOLOGIN'}${i.password ? ` PASSWORD ${lit(i.password)}` : ''}`,
        },
      ];
      if (i.statementTimeout) steps.push({ resource, sql: `ALTER ROLE ${q(i.name)} SET statement_timeout = ${Number(i.statementTimeout)}` });
      for (const member of i.roles ?? []) steps.push({ resource, sql: `GRANT ${q(member)} TO ${q(i.name)}` });
      return steps;
    }
    case 'postgresql:index/grantRole:GrantRole':
      return [{ resource, sql: `GRANT ${q(i.grantRole)} TO ${q(i.role)}${i.withAdminOption ? ' WITH ADMIN OPTION' : ''}` }];
    case 'postgresql:index/grant:Grant': {
      const privileges = (i.privileges as string[]).join(', ');
      if (i.objectType === 'database') return [{ resource, sql: `GRANT ${privileges} ON DATABASE ${q(i.database)} TO ${q(i.role)}` }];
      if (i.objectType === 'schema') {
        return [{ resource, sql: `GRANT ${privileges} ON SCHEMA ${q(i.schema)} TO ${q(i.role)}`, ownersOf: { schema: i.schema, kinds: ['schema'] } }];
      }
      const kind = KINDS[i.objectType];
      if (!kind) throw new Error(`${resource}: a grant on ${i.objectType} is not translated by test/infra/support/declared-sql.ts`);
      const objects = (i.objects ?? []) as string[];
      const on = objects.length
        ? `${i.objectType === 'table' ? 'TABLE' : i.objectType.toUpperCase()} ${objects.map((o) => `${q(i.schema)}.${q(o)}`).join(', ')}`
        : `ALL ${kind.plural} IN SCHEMA ${q(i.schema)}`;
      return [{ resource, sql: `GRANT ${privileges} ON ${on} TO ${q(i.role)}`, ownersOf: { schema: i.schema, kinds: [i.objectType] } }];
    }
    case 'postgresql:index/defaultPrivileges:DefaultPrivileges': {
      const kind = KINDS[i.objectType];
      if (!kind) throw new Error(`${resource}: default privileges on ${i.objectType} are not translated`);
      return [
        {
          resource,
          sql: `ALTER DEFAULT PRIVILEGES FOR ROLE ${q(i.owner)}${i.schema ? ` IN SCHEMA ${q(i.schema)}` : ''} GRANT ${(i.privileges as string[]).join(', ')} ON ${kind.plural} TO ${q(i.role)}`,
          ownersOf: { role: i.owner },
        },
      ];
    }
    default:
      if (r.type.startsWith('postgresql:index/')) throw new Error(`${resource}: not translated by test/infra/support/declared-sql.ts`);
      return [];
  }
}

/**
 * The declared database resources in registration order, split at the migrate function's
 * invocation: `before` (roles, their schema rights) and `after` (what waits for the
 * migrations: the table grants).
 */
export function declaredSql(resources: MockedResource[]): { before: DeclaredStep[]; after: DeclaredStep[] } {
  const invocation = resources.find((r) => r.type === 'aws:lambda/invocation:Invocation');
  if (!invocation) throw new Error('the program invokes no migrate function');
  const invocationKey = `${invocation.type}::${invocation.name}`;
  const before: DeclaredStep[] = [];
  const after: DeclaredStep[] = [];
  for (const r of resources) {
    const steps = stepsOf(r);
    if (!steps.length) continue;
    if (!r.options) throw new Error(`${r.type} ${r.name}: its resource options were not recorded`);
    (r.options.dependsOn.includes(invocationKey) ? after : before).push(...steps);
  }
  return { before, after };
}

/** Runs the steps as the (non-superuser) admin, each with the owners it needs granted for its time. */
export async function runAsAdmin(admin: Queryable, steps: DeclaredStep[]): Promise<void> {
  for (const step of steps) {
    let owners: string[] = [];
    if (step.ownersOf && 'role' in step.ownersOf) owners = [step.ownersOf.role];
    else if (step.ownersOf) {
      const { schema, kinds } = step.ownersOf;
      const r = await admin.query<{ owner: string }>(
        kinds[0] === 'schema'
          ? 'SELECT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname = $1'
          : kinds[0] === 'function'
            ? 'SELECT DISTINCT proowner::regrole::text AS owner FROM pg_proc WHERE pronamespace = $1::regnamespace'
            : `SELECT DISTINCT relowner::regrole::text AS owner FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind = ANY($2)`,
        kinds[0] === 'schema' || kinds[0] === 'function' ? [schema] : [schema, KINDS[kinds[0]!]!.relkinds],
      );
      owners = r.rows.map((x) => x.owner.replace(/^"|"$/g, ''));
    }
    const member = await admin.query<{ role: string }>(
      'SELECT r AS role FROM unnest($1::text[]) r WHERE r <> current_user AND r <> $2 AND NOT pg_has_role(current_user, r, $3)',
      [owners, 'pg_database_owner', 'MEMBER'],
    );
    const granted = member.rows.map((x) => x.role);
    for (const role of granted) await admin.query(`GRANT ${q(role)} TO CURRENT_USER`);
    try {
      await admin.query(step.sql);
    } catch (err) {
      throw new Error(`${step.resource}: ${(err as Error).message}\n  ${step.sql}`);
    } finally {
      for (const role of granted) await admin.query(`REVOKE ${q(role)} FROM CURRENT_USER`);
    }
  }
}
