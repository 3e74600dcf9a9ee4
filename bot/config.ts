/**
 * The bot's configuration, parsed once at the edge with zod into a typed BotConfig that
 * is passed down. Locally it comes from the environment (`botConfigFromEnv`); on Lambda
 * the environment names Secrets Manager secrets and `botConfigFromLambdaEnv` reads them
 * first. Every error names the setting and says what it should hold.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { readSecret, type SecretReader } from '../loader/aws/secrets';
import { ROLES_EXAMPLE, rolesFromEnv, type Roles } from './roles';

export type { Roles } from './roles';

export interface BotConfig {
  signingSecret: string;
  botToken: string;
  /** Slack's Web API base URL; set only to point the bot at a local mock. */
  slackApiUrl?: string;
  /** The one workspace the bot serves. */
  teamId: string;
  roles: Roles;
  /** Channels the bot answers in; null: every channel. */
  channels: string[] | null;
  /** Where load and delete results are also posted (chat.postMessage); none: response_url only. */
  notifyChannel?: string;
  /** How long a destructive command's confirm button stays valid. */
  confirmTtlMs: number;
  /** Given to Bolt so that it does not call auth.test at start. */
  botId: string;
  botUserId: string;
}

export class BotConfigError extends Error {}

const EnvSchema = z.object({
  SLACK_SIGNING_SECRET: z
    .string({ error: 'is not set: the Signing Secret of the Slack app (Basic Information)' })
    .trim()
    .min(8, 'is too short to be a Slack signing secret'),
  SLACK_BOT_TOKEN: z
    .string({ error: 'is not set: the Bot User OAuth Token (xoxb-…) of the Slack app' })
    .trim()
    .regex(/^xoxb-[A-Za-z0-9-]+$/, 'must be a bot token (xoxb-…)'),
  SLACK_API_URL: z
    .url('must be a URL such as https://slack.com/api/')
    .transform((u) => (u.endsWith('/') ? u : `${u}/`))
    .optional(),
  SLACK_TEAM_ID: z
    .string({ error: 'is not set: the id (T…) of the one workspace the bot serves' })
    .trim()
    .regex(/^T[A-Z0-9]+$/, 'must be a Slack team id (T…)'),
  SLACK_CHANNELS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[CGD][A-Z0-9]+$/, 'must be channel ids (C…), comma-separated, not names')).min(1))
    .optional(),
  SLACK_NOTIFY_CHANNEL: z
    .string()
    .trim()
    .regex(/^[CG][A-Z0-9]+$/, 'must be a channel id (C…), not its name')
    .optional(),
  BENCHSIGHT_CONFIRM_MINUTES: z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'must be a number of minutes')
    .transform(Number)
    .pipe(z.number().gt(0, 'must be more than 0').max(60, 'must be at most 60 minutes'))
    .default(5),
  SLACK_BOT_ID: z
    .string()
    .regex(/^B[A-Z0-9]+$/, 'must be a bot id (B…)')
    .optional(),
  SLACK_BOT_USER_ID: z
    .string()
    .regex(/^[UW][A-Z0-9]+$/, 'must be a user id (U…)')
    .optional(),
});

type Env = Record<string, string | undefined>;

/**
 * The bot's settings from the environment: SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN,
 * SLACK_TEAM_ID, roles (BENCHSIGHT_ROLES or SLACK_ROLES as JSON, or the JSON file
 * BENCHSIGHT_ROLES_FILE: the same setting as the Portal's, roles.ts), and the optional SLACK_API_URL, SLACK_CHANNELS,
 * SLACK_NOTIFY_CHANNEL, BENCHSIGHT_CONFIRM_MINUTES, SLACK_BOT_ID, SLACK_BOT_USER_ID.
 */
export function botConfigFromEnv(env: Env, opts: { readFile?: (path: string) => string } = {}): BotConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const problems: string[] = [];
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`));
  let roles: Roles | undefined;
  try {
    roles = rolesFrom(cleaned, opts.readFile ?? ((p) => readFileSync(p, 'utf8')));
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (!parsed.success || !roles) throw new BotConfigError(`invalid bot configuration:\n  ${problems.join('\n  ')}`);
  const e = parsed.data;
  return {
    signingSecret: e.SLACK_SIGNING_SECRET,
    botToken: e.SLACK_BOT_TOKEN,
    slackApiUrl: e.SLACK_API_URL,
    teamId: e.SLACK_TEAM_ID,
    roles,
    channels: e.SLACK_CHANNELS ?? null,
    notifyChannel: e.SLACK_NOTIFY_CHANNEL,
    confirmTtlMs: Math.round(e.BENCHSIGHT_CONFIRM_MINUTES * 60_000),
    // Bolt only uses these to ignore the bot's own events; the bot takes none, so
    // stand-ins are harmless and spare an auth.test call on every cold start.
    botId: e.SLACK_BOT_ID ?? 'B00BENCHSIGHT',
    botUserId: e.SLACK_BOT_USER_ID ?? 'U00BENCHSIGHT',
  };
}

function rolesFrom(env: Env, readFile: (path: string) => string): Roles {
  const roles = rolesFromEnv(env, { older: 'SLACK_ROLES', readFile });
  if (!roles) {
    throw new BotConfigError(`BENCHSIGHT_ROLES is not set: who may do what, as JSON such as ${ROLES_EXAMPLE} (or BENCHSIGHT_ROLES_FILE, a file holding it)`);
  }
  return roles;
}

/**
 * On Lambda the environment holds the ARNs of the secrets (SLACK_SIGNING_SECRET_ARN,
 * SLACK_BOT_TOKEN_SECRET_ARN, as infra/slack-bot.ts sets them); a value set directly
 * (SLACK_SIGNING_SECRET, ...) wins.
 */
export async function botConfigFromLambdaEnv(env: Env, read: SecretReader = readSecret): Promise<BotConfig> {
  const resolved: Env = { ...env };
  const secrets = { SLACK_SIGNING_SECRET: 'SLACK_SIGNING_SECRET_ARN', SLACK_BOT_TOKEN: 'SLACK_BOT_TOKEN_SECRET_ARN' } as const;
  for (const [name, arnSetting] of Object.entries(secrets)) {
    if (env[name]?.trim()) continue;
    const arn = env[arnSetting]?.trim();
    if (!arn) throw new BotConfigError(`${arnSetting} is not set: it names the Secrets Manager secret holding ${name}`);
    resolved[name] = (await read(arn)).trim();
  }
  return botConfigFromEnv(resolved);
}
