/**
 * Pure helpers for database connections: reading an admin connection string into the
 * fields the PostgreSQL provider wants, the names of the roles the stack creates, their
 * passwords, and the connection strings the functions use as those roles.
 */
import { createHmac } from 'node:crypto';

export interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  username: string;
  password: string;
  /** libpq's sslmode, from the connection string (`require` when it says nothing). */
  sslmode: string;
  /** The query string to keep in derived connection strings (sslmode, options ...). */
  search: string;
}

export function parsePostgresUrl(url: string): PostgresTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error('not a URL (expected postgres://user:password@host:port/database)');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Error('must start with postgres:// or postgresql://');
  if (!u.hostname) throw new Error('has no host');
  if (!u.username) throw new Error('has no user name');
  if (!u.password) throw new Error('has no password');
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database) throw new Error('names no database (…/postgres at the end)');
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 5432,
    database,
    username: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    sslmode: u.searchParams.get('sslmode') ?? 'require',
    search: u.search,
  };
}

/** The roles the stack creates. Login roles carry the stack's prefix; the groups do not. */
export interface RoleNames {
  /** Owns the schema: the migrate function connects as it. */
  migrator: string;
  /** DML on the tables, EXECUTE on the functions: the loader, worker and bot connect as it. */
  loader: string;
  /** SELECT on the warehouse tables, for dashboards. */
  reader: string;
  /** NOLOGIN group of loader and reader; passes row-level security (sql/migrations/000006). */
  service: string;
  /** NOLOGIN role Supabase's API switches to for the tracker app (supabase mode only). */
  tracker: string;
}

export function roleNames(namePrefix: string): RoleNames {
  const p = namePrefix.replace(/-/g, '_');
  return {
    migrator: `${p}_migrator`,
    loader: `${p}_loader`,
    reader: `${p}_reader`,
    service: 'benchsight_service',
    tracker: 'tracker',
  };
}

/**
 * A role's password, derived from the stack's secret seed: stable from one `pulumi up`
 * to the next, different for every role and stack, and rotated by changing the seed.
 * Hex, so it needs no escaping in a connection string or in RDS.
 */
export function derivePassword(seed: string, label: string): string {
  return createHmac('sha256', seed).update(`benchsight-ops:${label}`).digest('hex');
}

/**
 * The connection string for `role`, on the same server, database and options as the
 * admin's. Supabase's pooler names users `<role>.<project ref>`: when the admin's user
 * name carries such a suffix (`postgres.abcdefgh`), the role's gets it too.
 */
export function roleUrl(admin: PostgresTarget, role: string, password: string): string {
  const dot = admin.username.indexOf('.');
  const user = dot > 0 ? `${role}${admin.username.slice(dot)}` : role;
  const search = new URLSearchParams(admin.search);
  if (!search.has('sslmode')) {
    // libpq's meaning of `require` (encrypted); node-postgres alone would read it as
    // verify-full, which fails against a server whose CA Node does not know (Supabase's).
    search.set('uselibpqcompat', 'true');
    search.set('sslmode', 'require');
  }
  return (
    `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${admin.host}:${admin.port}` +
    `/${encodeURIComponent(admin.database)}?${search.toString()}`
  );
}

/**
 * The sslmode for the PostgreSQL provider (Go's lib/pq), from a connection string's:
 * node-postgres' `no-verify` is lib/pq's `require` (encrypted, not verified).
 */
export function providerSslmode(sslmode: string): string {
  if (sslmode === 'disable' || sslmode === 'verify-ca' || sslmode === 'verify-full') return sslmode;
  return 'require';
}
