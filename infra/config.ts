/**
 * The stack's configuration (Pulumi.<stack>.yaml), read once and validated with zod
 * into a typed object. Every setting is documented in infra/README.md. An invalid or
 * missing setting stops the program with a message naming it and saying how to set it.
 */
import * as pulumi from '@pulumi/pulumi';
import { z } from 'zod';
import { parsePostgresUrl } from './connection';

export const PROJECT = 'benchsight-ops';

export class StackConfigError extends Error {}

/** Log retentions CloudWatch accepts, in days. */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** Settings set with `pulumi config set --secret`. */
export const SECRET_SETTINGS = ['databaseUrl', 'databasePasswordSeed', 'slackSigningSecret', 'slackBotToken'] as const;

const PLACEHOLDER = /^REPLACE[_-]?ME/i;

const secret = (what: string) =>
  z
    .string()
    .trim()
    .min(1, `is empty: ${what}`)
    .refine((v) => !PLACEHOLDER.test(v), 'is still the placeholder of Pulumi.<stack>.yaml: set the real value with --secret');

const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const bool = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true');

/** Lambda's value for "no reserved concurrency" (the account's shared pool). */
export const UNRESERVED = -1;

/** A function's reserved concurrency: how many copies may run at once, or `unreserved`. */
const concurrency = z
  .string()
  .trim()
  .regex(/^(unreserved|\d+)$/, 'must be a whole number (1–1000) or unreserved')
  .transform((v) => (v === 'unreserved' ? UNRESERVED : Number(v)))
  .refine((v) => v === UNRESERVED || v >= 1, 'must be at least 1 (0 would stop the function; use unreserved for no limit)')
  .refine((v) => v <= 1000, 'must be at most 1000');

/**
 * AWS's syntax of an EventBridge schedule: rate(1 minute) / rate(N minutes) (hours, days),
 * or cron() with six fields, one of day-of-month and day-of-week being "?". The
 * provider's preview accepts any string; PutRule refuses these.
 */
export function scheduleProblem(expr: string): string | undefined {
  const rate = /^rate\((\d+) (minute|hour|day)(s?)\)$/.exec(expr);
  if (rate) {
    const n = Number(rate[1]);
    if (n < 1) return 'the rate must be at least 1';
    if ((n === 1) !== (rate[3] === '')) return `AWS wants rate(${n} ${rate[2]}${n === 1 ? '' : 's'})`;
    return undefined;
  }
  const cron = /^cron\((.+)\)$/.exec(expr);
  if (cron) {
    const fields = cron[1]!.trim().split(/\s+/);
    if (fields.length !== 6)
      return `a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), not ${fields.length}, e.g. cron(0/15 * * * ? *)`;
    if (fields[2] !== '?' && fields[4] !== '?') return 'one of day-of-month and day-of-week must be "?", e.g. cron(0 6 * * ? *)';
    return undefined;
  }
  return 'must be an EventBridge schedule such as rate(5 minutes) or cron(0/15 * * * ? *)';
}

const json = <T extends z.ZodType>(schema: T, example: string) =>
  z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: `is not valid JSON (expected e.g. ${example})` });
        return z.NEVER;
      }
    })
    .pipe(schema);

const slackUser = z.string().regex(/^(\*|[UW][A-Z0-9]+)$/, 'a Slack user id (U…/W…) or "*"');
/** Who someone is, in Slack or in the Portal: a Slack user id, an e-mail, a Supabase user id, or "*" (everyone). */
const person = z
  .string()
  .regex(
    /^(\*|[UW][A-Z0-9]+|[^@\s]+@[^@\s]+\.[^@\s]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i,
    'a Slack user id (U…/W…), an e-mail, a Supabase user id (uuid) or "*"',
  );
const ROLES_EXAMPLE = '{"admins":["U1","ada@league.example"],"operators":["U2"],"viewers":["*"]}';
const SLACK_ROLES_EXAMPLE = '{"admins":["U1"],"operators":["U2"],"viewers":["*"]}';

const postgresUrl = secret('the admin connection string').superRefine((v, ctx) => {
  if (PLACEHOLDER.test(v)) return;
  try {
    parsePostgresUrl(v);
  } catch (err) {
    // The message never repeats the value: it holds a password.
    ctx.addIssue({ code: 'custom', message: `is not a usable connection string: ${(err as Error).message}` });
  }
});

/** How to set each required setting, for the message that says it is missing. */
const HOW_TO_SET: Record<string, string> = {
  region: 'pulumi config set aws:region eu-west-1',
  namePrefix: 'pulumi config set namePrefix benchsight-dev',
  databaseMode: 'pulumi config set databaseMode supabase   (supabase | postgres | rds)',
  databaseUrl: "pulumi config set --secret databaseUrl 'postgresql://user:password@host:5432/postgres'",
  databasePasswordSeed: 'pulumi config set --secret databasePasswordSeed "$(openssl rand -hex 32)"',
  slackSigningSecret: 'pulumi config set --secret slackSigningSecret <Signing Secret>',
  slackBotToken: 'pulumi config set --secret slackBotToken xoxb-…',
  slackTeamId: 'pulumi config set slackTeamId T0123ABCD',
  roles: `pulumi config set roles '${ROLES_EXAMPLE}'`,
  slackNotifyChannel: 'pulumi config set slackNotifyChannel C0123ABCD',
};

/** An EventBridge schedule expression, checked (the worker's, the ETL task's). */
const schedule = z
  .string()
  .trim()
  .superRefine((v, ctx) => {
    const problem = scheduleProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: `"${v}": ${problem}` });
  });

const RawConfig = z
  .object({
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-1'),
    namePrefix: z
      .string()
      .regex(
        /^[a-z](?!.*--)[a-z0-9-]{1,22}[a-z0-9]$/,
        'must be 3–24 characters: lower-case letters, digits and single hyphens, starting with a letter (RDS refuses "--" in names)',
      ),
    databaseMode: z.enum(['supabase', 'postgres', 'rds'], {
      error: 'must be supabase (an existing Supabase project), postgres (an existing PostgreSQL) or rds (created by the stack)',
    }),
    databaseUrl: postgresUrl.optional(),
    databasePasswordSeed: secret('a random string of 32+ characters').pipe(z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)')),
    rdsInstanceClass: z
      .string()
      .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'must be an RDS instance class such as db.t4g.micro')
      .default('db.t4g.micro'),
    rdsAllocatedStorageGb: integer(20, 1000).default(20),
    rdsEngineVersion: z
      .string()
      .regex(/^1[5-9](\.\d+)?$/, 'must be a PostgreSQL version, 15 or later (e.g. 16)')
      .default('16'),
    rdsAllowedCidrs: json(
      z
        .array(z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'each entry must be an IPv4 CIDR such as 203.0.113.0/24'))
        .min(1, 'must list at least one CIDR'),
      '["0.0.0.0/0"]',
    ).default(['0.0.0.0/0']),
    rdsDeletionProtection: bool.default(false),
    rdsVpcId: z
      .string()
      .regex(/^vpc-[0-9a-f]+$/, 'must be a VPC id (vpc-…)')
      .optional(),
    rdsSubnetIds: json(
      z
        .array(z.string().regex(/^subnet-[0-9a-f]+$/, 'each entry must be a subnet id (subnet-…)'))
        .min(2, 'must list at least two subnets, in two availability zones'),
      '["subnet-0a1b2c3d","subnet-4e5f6a7b"]',
    ).optional(),
    slackSigningSecret: secret("the app's Signing Secret (Basic Information)").pipe(
      z.string().regex(/^[0-9a-f]{32}$/i, "must be the 32 hexadecimal characters of the Slack app's Signing Secret"),
    ),
    slackBotToken: secret('the Bot User OAuth Token (OAuth & Permissions)').pipe(z.string().regex(/^xoxb-[A-Za-z0-9-]+$/, 'must be a bot token (xoxb-…)')),
    slackTeamId: z.string().regex(/^T[A-Z0-9]+$/, 'must be a Slack team id (T…)'),
    // Who may do what, in Slack and in the Portal alike: one setting (slackRoles is its older, Slack-only name).
    roles: json(z.object({ admins: z.array(person), operators: z.array(person), viewers: z.array(person) }).strict(), ROLES_EXAMPLE).optional(),
    slackRoles: json(
      z.object({ admins: z.array(slackUser), operators: z.array(slackUser), viewers: z.array(slackUser) }).strict(),
      SLACK_ROLES_EXAMPLE,
    ).optional(),
    slackNotifyChannel: z.string().regex(/^[CG][A-Z0-9]+$/, 'must be a Slack channel id (C…), not its name'),
    logRetentionDays: integer(1, 3653)
      .refine((d) => RETENTION_DAYS.includes(d), `must be one of CloudWatch's retentions: ${RETENTION_DAYS.join(', ')}`)
      .default(30),
    processedRetentionDays: integer(1, 3650).default(30),
    failedRetentionDays: integer(1, 3650).default(90),
    loaderMemoryMb: integer(1024, 10240).default(2048),
    workerSchedule: schedule.default('rate(5 minutes)'),
    loaderConcurrency: concurrency.default(3),
    workerConcurrency: concurrency.default(1),
    botConcurrency: concurrency.default(5),
    apiAnonRead: bool.default(false),
    protect: bool.default(true),
    retainOnDelete: bool.default(false),
    alarmEmail: z.email('must be an e-mail address').optional(),
    dropBucketForceDestroy: bool.default(false),
    // The team's ETL pipeline as an ECS Fargate task (infra/etl-task.ts): created when etlImage is set.
    etlImage: z
      .string()
      .trim()
      .regex(/^[a-z0-9][\w.\-/:@]*$/, 'must be a container image reference such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com/benchsight-etl:1.4.0')
      .optional(),
    etlPipelineFile: z
      .string()
      .trim()
      .regex(/^\/\S+\.json$/, 'must be the absolute path of the pipeline file inside the image, e.g. /etl/etl-pipeline.json')
      .default('/etl/etl-pipeline.json'),
    etlTaskCpu: z
      .enum(['256', '512', '1024', '2048', '4096', '8192', '16384'], { error: 'must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384' })
      .transform(Number)
      .default(1024),
    etlTaskMemoryMb: integer(512, 122880).default(4096),
    etlSchedule: schedule.default('rate(5 minutes)'),
    etlSubnetIds: json(
      z.array(z.string().regex(/^subnet-[0-9a-f]+$/, 'each entry must be a subnet id (subnet-…)')).min(1, 'must list at least one subnet'),
      '["subnet-0a1b2c3d"]',
    ).optional(),
    etlSecurityGroupIds: json(z.array(z.string().regex(/^sg-[0-9a-f]+$/, 'each entry must be a security group id (sg-…)')), '["sg-0a1b2c3d"]').optional(),
    // The Admin Portal (infra/portal.ts reads and checks these): created when portalSupabaseUrl is set.
    portalSupabaseUrl: z.url('must be the Supabase project URL, https://<ref>.supabase.co').optional(),
    portalSupabaseAnonKey: z.string().optional(),
    portalRoles: z.string().optional(),
    portalJwtSecret: z.string().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.databaseMode !== 'rds' && c.databaseUrl === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['databaseUrl'],
        message: `is missing: databaseMode ${c.databaseMode} needs the admin connection string: ${HOW_TO_SET.databaseUrl}`,
      });
    }
    if ((c.rdsVpcId === undefined) !== (c.rdsSubnetIds === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [c.rdsVpcId === undefined ? 'rdsVpcId' : 'rdsSubnetIds'],
        message: 'rdsVpcId and rdsSubnetIds go together: the VPC and its (public) subnets the instance is placed in',
      });
    }
    if (c.roles !== undefined && (c.slackRoles !== undefined || c.portalRoles !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [c.slackRoles !== undefined ? 'slackRoles' : 'portalRoles'],
        message: 'is an older name of roles, which is set: keep the one setting, roles (pulumi config rm this one)',
      });
    }
    if (c.etlImage !== undefined && c.etlSubnetIds === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['etlSubnetIds'],
        message: `is missing: the ETL task (etlImage) runs in these subnets, with a public IP to reach the database and the registry: pulumi config set etlSubnetIds '["subnet-0a1b2c3d"]'`,
      });
    }
    if (c.databaseMode === 'rds' && c.databaseUrl !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['databaseUrl'], message: 'must not be set with databaseMode rds: the stack creates the database' });
    }
  });

export type RawStackConfig = z.output<typeof RawConfig>;

/** Every setting of the stack (`region` is aws:region; the others are benchsight-ops:<name>). */
export const SETTINGS = Object.keys(RawConfig.shape);

export type DatabaseConfig =
  | { mode: 'supabase' | 'postgres'; adminUrl: pulumi.Output<string> }
  | {
      mode: 'rds';
      instanceClass: string;
      allocatedStorageGb: number;
      engineVersion: string;
      allowedCidrs: string[];
      deletionProtection: boolean;
      /** Where the instance goes; unset: the region's default VPC. */
      network?: { vpcId: string; subnetIds: string[] };
    };

/**
 * What `pulumi destroy` may do to the stateful resources (the bucket, the secrets, the
 * database roles, the RDS instance): `protect` refuses to delete them until set to false;
 * `retainOnDelete` drops them from the stack but leaves them in AWS and the database.
 */
export interface Keep {
  protect: boolean;
  retainOnDelete: boolean;
}

export interface SlackRoles {
  admins: string[];
  operators: string[];
  viewers: string[];
}

/** The validated configuration. Secret values are secret Outputs, never plain strings. */
export interface StackConfig {
  region: string;
  namePrefix: string;
  database: DatabaseConfig;
  databasePasswordSeed: pulumi.Output<string>;
  /** The one `roles` setting, for Slack and the Portal (unset when the stack still has the older slackRoles / portalRoles). */
  roles?: SlackRoles;
  slack: {
    signingSecret: pulumi.Output<string>;
    botToken: pulumi.Output<string>;
    teamId: string;
    /** Who may do what in Slack: `roles`, or the older slackRoles. */
    roles: SlackRoles;
    notifyChannel: string;
  };
  logRetentionDays: number;
  processedRetentionDays: number;
  failedRetentionDays: number;
  loaderMemoryMb: number;
  workerSchedule: string;
  /** Reserved concurrency of each function (UNRESERVED: the account's shared pool). */
  concurrency: { loader: number; worker: number; bot: number };
  /** Whether Supabase's anon role (the public API key) may read the warehouse tables. */
  apiAnonRead: boolean;
  keep: Keep;
  alarmEmail?: string;
  dropBucketForceDestroy: boolean;
  /** The team's ETL pipeline as a Fargate task, when etlImage is set. */
  etl?: { image: string; pipelineFile: string; cpu: number; memoryMb: number; schedule: string; subnetIds: string[]; securityGroupIds?: string[] };
}

/** The config key a field is set under (`aws:region`, `benchsight-ops:namePrefix`). */
export function configKey(field: string): string {
  return field === 'region' ? 'aws:region' : `${PROJECT}:${field}`;
}

/**
 * Validates the raw key → value map of the stack's configuration (as Pulumi holds it,
 * secrets decrypted). Throws a StackConfigError listing every bad setting by its key.
 */
export function parseStackConfig(all: Record<string, string>, isSecret: (key: string) => boolean = () => true): RawStackConfig {
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(all)) {
    if (key === 'aws:region') raw.region = value;
    else if (key.startsWith(`${PROJECT}:`)) raw[key.slice(PROJECT.length + 1)] = value;
  }
  const known = new Set(SETTINGS);
  const unknown = Object.keys(raw).filter((k) => !known.has(k));
  const parsed = RawConfig.safeParse(raw);
  const lines = unknown.map((k) => `${configKey(k)}: is not a setting of this stack (see infra/README.md)`);
  for (const k of SECRET_SETTINGS) {
    const value = raw[k];
    if (value === undefined || PLACEHOLDER.test(value.trim()) || isSecret(configKey(k))) continue;
    // The value itself is never repeated: it is a secret.
    lines.push(
      `${configKey(k)}: is stored in plain text in Pulumi.<stack>.yaml: set it with \`pulumi config set --secret ${k} <value>\`, which stores it encrypted`,
    );
  }
  // (Checked here, not in the schema: a refinement runs only once every other setting is right.)
  if (raw.roles === undefined && raw.slackRoles === undefined) {
    lines.push(`${configKey('roles')}: is missing: ${HOW_TO_SET.roles} (who may do what, in Slack and in the Portal)`);
  }
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0] ?? '');
      const missing = raw[field] === undefined && issue.code !== 'custom';
      const inside = issue.path.length > 1 ? ` (${issue.path.slice(1).join('.')})` : '';
      lines.push(`${configKey(field)}${inside}: ${missing ? `is missing: ${HOW_TO_SET[field] ?? `pulumi config set ${field} <value>`}` : issue.message}`);
    }
  }
  if (lines.length) {
    throw new StackConfigError(`invalid stack configuration (see infra/README.md, "Configuration"):\n  ${lines.join('\n  ')}`);
  }
  return parsed.data!;
}

/** Wraps the secret settings as secret Outputs: they never reach the state in clear. */
export function toStackConfig(
  c: RawStackConfig,
  secret: (key: (typeof SECRET_SETTINGS)[number]) => pulumi.Output<string> = (k) => pulumi.secret(String(c[k])),
): StackConfig {
  const database: DatabaseConfig =
    c.databaseMode === 'rds'
      ? {
          mode: 'rds',
          instanceClass: c.rdsInstanceClass,
          allocatedStorageGb: c.rdsAllocatedStorageGb,
          engineVersion: c.rdsEngineVersion,
          allowedCidrs: c.rdsAllowedCidrs,
          deletionProtection: c.rdsDeletionProtection,
          network: c.rdsVpcId && c.rdsSubnetIds ? { vpcId: c.rdsVpcId, subnetIds: c.rdsSubnetIds } : undefined,
        }
      : { mode: c.databaseMode, adminUrl: secret('databaseUrl') };
  return {
    region: c.region,
    namePrefix: c.namePrefix,
    database,
    databasePasswordSeed: secret('databasePasswordSeed'),
    ...(c.roles ? { roles: c.roles } : {}),
    slack: {
      signingSecret: secret('slackSigningSecret'),
      botToken: secret('slackBotToken'),
      teamId: c.slackTeamId,
      roles: (c.roles ?? c.slackRoles)!,
      notifyChannel: c.slackNotifyChannel,
    },
    logRetentionDays: c.logRetentionDays,
    processedRetentionDays: c.processedRetentionDays,
    failedRetentionDays: c.failedRetentionDays,
    loaderMemoryMb: c.loaderMemoryMb,
    workerSchedule: c.workerSchedule,
    concurrency: { loader: c.loaderConcurrency, worker: c.workerConcurrency, bot: c.botConcurrency },
    apiAnonRead: c.apiAnonRead,
    keep: { protect: c.protect, retainOnDelete: c.retainOnDelete },
    alarmEmail: c.alarmEmail,
    dropBucketForceDestroy: c.dropBucketForceDestroy,
    etl:
      c.etlImage && c.etlSubnetIds
        ? {
            image: c.etlImage,
            pipelineFile: c.etlPipelineFile,
            cpu: c.etlTaskCpu,
            memoryMb: c.etlTaskMemoryMb,
            schedule: c.etlSchedule,
            subnetIds: c.etlSubnetIds,
            securityGroupIds: c.etlSecurityGroupIds,
          }
        : undefined,
  };
}

/** Whether Pulumi holds `key` encrypted (`pulumi config set --secret`). */
function isConfigSecret(key: string): boolean {
  // Exported by @pulumi/pulumi's runtime, though not in its typings.
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
  if (!runtime.isConfigSecret) throw new Error('@pulumi/pulumi no longer tells secret settings apart: infra/config.ts needs another way');
  return runtime.isConfigSecret(key);
}

/**
 * Reads and validates the running stack's configuration. Secrets come from
 * `requireSecret`, so they are secret Outputs from the start; one stored in plain text
 * is refused.
 */
export function loadStackConfig(): StackConfig {
  const raw = parseStackConfig(pulumi.runtime.allConfig(), isConfigSecret);
  const config = new pulumi.Config(PROJECT);
  return toStackConfig(raw, (key) => config.requireSecret(key));
}
