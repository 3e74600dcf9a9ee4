/**
 * The database: its roles with least privilege (through @pulumi/postgresql), and the
 * schema migrations, applied during `pulumi up` by the migrate function so the tables
 * exist when the deploy returns.
 *
 *   <prefix>_migrator  owns the schema: CREATE on the database (000003 makes schema landing) and on
 *                      schema public; the migrate function connects as it
 *   <prefix>_loader    DML on the tables, SELECT on the catalog, EXECUTE on the functions
 *   <prefix>_reader    SELECT on the warehouse tables (dashboards)
 *   benchsight_service NOLOGIN group of loader and reader: passes row-level security
 *   tracker            NOLOGIN, supabase mode: the role Supabase's API uses for the tracker app
 *
 * The table grants follow the tables the migrations create, and are applied after them.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as postgresql from '@pulumi/postgresql';
import type { DatabaseConfig, Keep } from './config';
import { derivePassword, parsePostgresUrl, providerSslmode, roleNames, roleUrl, type PostgresTarget, type RoleNames } from './connection';
import { migrationsHash, schemasCreatedBy, tableGrants, tablesCreatedBy, type MigrationFile } from './migrations';
import { migratePolicy } from './policies';
import { RdsPostgres } from './rds-postgres';
import { secretsRevision, StoredSecret } from './secrets';
import { RDS_CA_ENV, ServiceFunction } from './service-function';

export interface DatabaseArgs {
  namePrefix: string;
  database: DatabaseConfig;
  passwordSeed: pulumi.Output<string>;
  logRetentionDays: number;
  migrations: MigrationFile[];
  /** Whether Supabase's anon role may read the warehouse tables (bs_settings.api_anon_read). */
  apiAnonRead: boolean;
  /** protect / retainOnDelete of the roles, the secrets and the RDS instance. */
  keep: Keep;
}

/** Connections the PostgreSQL provider opens at most (its default, 20, is more than a small Supabase pool takes). */
export const PROVIDER_MAX_CONNECTIONS = 4;

/**
 * The role name behind a login name: Supabase's pooler logs `postgres` in as
 * `postgres.<project ref>`, which is no role. The provider needs the role (databaseUsername)
 * for REASSIGN OWNED ... TO and its membership checks (e.g. on `pulumi destroy`).
 */
export function adminRoleName(mode: DatabaseConfig['mode'], username: string): string {
  const dot = username.indexOf('.');
  return mode === 'supabase' && dot > 0 ? username.slice(0, dot) : username;
}

export class Database extends pulumi.ComponentResource {
  readonly roles: RoleNames;
  /** The loader role's connection string (secret). */
  readonly loaderUrl: pulumi.Output<string>;
  readonly migrate: ServiceFunction;
  readonly migrationsHash: string;
  /** The migrate function's answer: {"applied":[…],"version":N,"exposure":…}. */
  readonly migrationResult: pulumi.Output<string>;
  readonly readerUrlSecretArn: pulumi.Output<string>;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('benchsight:infra:Database', name, {}, opts);
    const roles = (this.roles = roleNames(args.namePrefix));
    const password = (label: string) => pulumi.secret(args.passwordSeed.apply((seed) => derivePassword(seed, label)));

    let admin: pulumi.Output<PostgresTarget>;
    let sslmode: pulumi.Output<string>;
    if (args.database.mode === 'rds') {
      const rds = new RdsPostgres(
        `${name}-rds`,
        {
          namePrefix: args.namePrefix,
          instanceClass: args.database.instanceClass,
          allocatedStorageGb: args.database.allocatedStorageGb,
          engineVersion: args.database.engineVersion,
          allowedCidrs: args.database.allowedCidrs,
          deletionProtection: args.database.deletionProtection,
          network: args.database.network,
          masterPassword: password(`${args.namePrefix}:rds-master`),
          keep: args.keep,
        },
        { parent: this },
      );
      admin = pulumi.secret(rds.admin);
      sslmode = pulumi.output('require'); // the deploying machine may not hold Amazon's RDS CA
    } else {
      admin = pulumi.secret(args.database.adminUrl.apply(parsePostgresUrl));
      sslmode = admin.apply((a) => providerSslmode(a.sslmode));
    }
    // Only the password is secret: the rest stays readable in the state and the previews.
    const plain = <T>(pick: (a: PostgresTarget) => T) => pulumi.unsecret(admin.apply(pick));
    const databaseName = plain((a) => a.database);

    const provider = new postgresql.Provider(
      `${name}-admin`,
      {
        host: plain((a) => a.host),
        port: plain((a) => a.port),
        database: databaseName,
        username: plain((a) => a.username),
        databaseUsername: plain((a) => adminRoleName(args.database.mode, a.username)),
        password: admin.apply((a) => a.password),
        sslmode,
        superuser: false, // Supabase's postgres and RDS's master user are not superusers
        connectTimeout: 30,
        maxConnections: PROVIDER_MAX_CONNECTIONS,
      },
      { parent: this },
    );
    const pg = { parent: this, provider };
    // The roles own (migrator) or reach the data: kept as the stack's setting says.
    const kept = { ...pg, ...args.keep };

    const service = new postgresql.Role(`${name}-service`, { name: roles.service, login: false }, kept);
    const migrator = new postgresql.Role(`${name}-migrator`, { name: roles.migrator, login: true, password: password(roles.migrator) }, kept);
    const loader = new postgresql.Role(`${name}-loader`, { name: roles.loader, login: true, password: password(roles.loader), roles: [service.name] }, kept);
    const reader = new postgresql.Role(
      `${name}-reader`,
      { name: roles.reader, login: true, password: password(roles.reader), roles: [service.name], statementTimeout: 60_000 },
      kept,
    );
    const beforeMigrations: pulumi.Resource[] = [service, migrator, loader, reader];
    if (args.database.mode === 'supabase') {
      const tracker = new postgresql.Role(`${name}-tracker`, { name: roles.tracker, login: false }, kept);
      // Supabase's API (PostgREST) logs in as authenticator and switches to the JWT's role.
      const switchable = new postgresql.GrantRole(`${name}-tracker-authenticator`, { role: 'authenticator', grantRole: tracker.name }, pg);
      beforeMigrations.push(tracker, switchable);
    }

    const grant = (id: string, a: Omit<postgresql.GrantArgs, 'database'>, dependsOn: pulumi.Resource[] = []) =>
      // Delete before replace: a new grant first, then the old one's REVOKE, would take it back.
      new postgresql.Grant(`${name}-${id}`, { database: databaseName, ...a }, { ...pg, dependsOn, deleteBeforeReplace: true });
    const defaults = (id: string, a: Omit<postgresql.DefaultPrivilegesArgs, 'database' | 'owner'>, dependsOn: pulumi.Resource[] = []) =>
      new postgresql.DefaultPrivileges(`${name}-${id}`, { database: databaseName, owner: migrator.name, schema: 'public', ...a }, { ...pg, dependsOn });

    beforeMigrations.push(
      // Migration 000003 creates the schema landing: CREATE on the database.
      grant('migrator-database', { role: migrator.name, objectType: 'database', privileges: ['CREATE'] }),
      grant('migrator-schema', { role: migrator.name, objectType: 'schema', schema: 'public', privileges: ['CREATE', 'USAGE'] }),
      grant('loader-schema', { role: loader.name, objectType: 'schema', schema: 'public', privileges: ['USAGE'] }),
      grant('reader-schema', { role: reader.name, objectType: 'schema', schema: 'public', privileges: ['USAGE'] }),
      // Functions and sequences the migrator creates later are the loader's too.
      defaults('loader-future-functions', { role: loader.name, objectType: 'function', privileges: ['EXECUTE'] }),
      defaults('loader-future-sequences', { role: loader.name, objectType: 'sequence', privileges: ['SELECT', 'USAGE'] }),
    );

    const urlFor = (role: string) => pulumi.secret(pulumi.all([admin, password(role)]).apply(([a, pw]) => roleUrl(a, role, pw)));
    this.loaderUrl = urlFor(roles.loader);
    const migratorSecret = new StoredSecret(
      'database-url-migrator',
      { namePrefix: args.namePrefix, description: 'PostgreSQL connection string of the migrator role', value: urlFor(roles.migrator), keep: args.keep },
      { parent: this },
    );
    const readerSecret = new StoredSecret(
      'database-url-reader',
      {
        namePrefix: args.namePrefix,
        description: 'PostgreSQL connection string of the read-only role (dashboards)',
        value: urlFor(roles.reader),
        keep: args.keep,
      },
      { parent: this },
    );
    this.readerUrlSecretArn = readerSecret.arn;

    this.migrate = new ServiceFunction(
      `${name}-migrate`,
      {
        functionName: `${args.namePrefix}-migrate`,
        bundle: 'migrate',
        description: 'applies sql/migrations and sql/functions (invoked by pulumi up)',
        memoryMb: 512,
        timeoutSeconds: 600,
        environment: {
          DATABASE_SECRET_ARN: migratorSecret.arn,
          SECRETS_REVISION: secretsRevision(migratorSecret.versionId),
          ...RDS_CA_ENV,
        },
        logRetentionDays: args.logRetentionDays,
        policy: (logGroupArn) =>
          pulumi.all([logGroupArn, migratorSecret.arn]).apply(([lg, secret]) => migratePolicy({ logGroupArn: lg, databaseSecretArn: secret })),
      },
      { parent: this },
    );

    this.migrationsHash = migrationsHash(args.migrations);
    const invocation = new aws.lambda.Invocation(
      `${name}-migrations`,
      {
        functionName: this.migrate.function.name,
        input: JSON.stringify({ action: 'migrate', migrationsHash: this.migrationsHash, apiAnonRead: args.apiAnonRead }),
        // Invoked again whenever a migration file, a role or the exposure setting changes.
        triggers: { migrations: this.migrationsHash, roles: Object.values(roles).join(','), apiAnonRead: String(args.apiAnonRead) },
      },
      { parent: this, dependsOn: [...beforeMigrations, migratorSecret] },
    );
    this.migrationResult = invocation.result;

    const tables = tableGrants(tablesCreatedBy(args.migrations));
    const after = [invocation];
    // TRUNCATE: a whole-table replace empties the table with it (bs_delete_scope, 000007).
    grant(
      'loader-tables',
      {
        role: loader.name,
        objectType: 'table',
        schema: 'public',
        objects: tables.loaderWrites,
        privileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'],
      },
      after,
    );
    grant('loader-catalog', { role: loader.name, objectType: 'table', schema: 'public', objects: tables.loaderReads, privileges: ['SELECT'] }, after);
    grant('loader-sequences', { role: loader.name, objectType: 'sequence', schema: 'public', objects: [], privileges: ['SELECT', 'USAGE'] }, after);
    grant('loader-functions', { role: loader.name, objectType: 'function', schema: 'public', objects: [], privileges: ['EXECUTE'] }, after);
    grant('reader-tables', { role: reader.name, objectType: 'table', schema: 'public', objects: tables.readerReads, privileges: ['SELECT'] }, after);
    // Schemas the migrations make for loading (landing: a file's rows before load_table).
    for (const schema of schemasCreatedBy(args.migrations)) {
      const dml = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];
      grant(`loader-${schema}-schema`, { role: loader.name, objectType: 'schema', schema, privileges: ['USAGE'] }, after);
      grant(`loader-${schema}-tables`, { role: loader.name, objectType: 'table', schema, objects: [], privileges: dml }, after);
      grant(`loader-${schema}-sequences`, { role: loader.name, objectType: 'sequence', schema, objects: [], privileges: ['SELECT', 'USAGE'] }, after);
      defaults(`loader-${schema}-future-tables`, { role: loader.name, schema, objectType: 'table', privileges: dml }, after);
      defaults(`loader-${schema}-future-sequences`, { role: loader.name, schema, objectType: 'sequence', privileges: ['SELECT', 'USAGE'] }, after);
    }

    this.registerOutputs({ roles: this.roles, migrationResult: this.migrationResult });
  }
}
