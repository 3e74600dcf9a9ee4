/**
 * `npx benchsight bot [--port <p>] [--from <dir>]`: the Slack bot on this machine, on
 * http://127.0.0.1:<port>/slack/events, until Ctrl-C. Settings come from the
 * environment (bot/config.ts); the database is DATABASE_URL or the embedded one.
 */
import { type BotConfig, botConfigFromEnv, BotConfigError } from '../../bot/config';
import type { JobDispatcher } from '../../bot/dispatcher';
import { startBot, type RunningBot } from '../../bot/server';
import { stopped } from '../cli/stopped';
import type { Extensions } from '../commands/execute';
import { type Config, configFromEnv } from '../config';
import { openDatabase } from '../db/connect';
import { migrationStatus } from '../db/migrate';
import { folderSourceOf, type SourceOf } from './context';

export interface BotIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export interface RunBotOptions {
  /** Where loads read their files; --from <dir> gives a folder. */
  source?: SourceOf;
  extensions?: Extensions;
  dispatcher?: JobDispatcher;
  /** Stops the bot (default: SIGINT or SIGTERM). */
  signal?: AbortSignal;
  onListening?: (bot: RunningBot) => void;
}

const BOT_USAGE = `usage: benchsight bot [--port <p>] [--from <dir>]
  runs the Slack bot on http://127.0.0.1:<port>/slack/events (default port 3000)
  --from <dir>   loads read <table>.csv from this folder

settings (environment):
  SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_TEAM_ID     required
  BENCHSIGHT_ROLES (JSON) or BENCHSIGHT_ROLES_FILE          required, e.g. {"admins":["U1"],"operators":["U2"],"viewers":["*"]}
  SLACK_CHANNELS, SLACK_NOTIFY_CHANNEL, BENCHSIGHT_CONFIRM_MINUTES, SLACK_API_URL   optional
  DATABASE_URL   the database (without it: the embedded PostgreSQL in .benchsight/)
`;

interface BotFlags {
  port: number;
  from?: string;
  help: boolean;
}

/** The CLI's words and flags; the word "bot" itself may be among them (main passes its argv as is). */
function parseBotFlags(args: string[]): BotFlags {
  const flags: BotFlags = { port: 3000, help: false };
  let sawBot = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined || v === '') throw new Error(`${name} needs a value`);
      return v;
    };
    if (name === '--help' || name === '-h') flags.help = true;
    else if (name === '--port') {
      const v = value();
      if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new Error(`--port must be a port number (0-65535), not "${v}"`);
      flags.port = Number(v);
    } else if (name === '--from') flags.from = value();
    else if (a === 'bot' && !sawBot) sawBot = true;
    else throw new Error(`unknown option "${a}" (try --help)`);
  }
  return flags;
}

export async function runBot(argv: string[], io: BotIo, env: NodeJS.ProcessEnv, opts: RunBotOptions = {}): Promise<number> {
  const err = (s: string) => io.stderr.write(`${s}\n`);
  let flags: BotFlags;
  try {
    flags = parseBotFlags(argv);
  } catch (e) {
    err(`benchsight bot: ${(e as Error).message}`);
    return 2;
  }
  if (flags.help) {
    io.stdout.write(BOT_USAGE);
    return 0;
  }
  let config: BotConfig;
  let core: Config;
  try {
    config = botConfigFromEnv(env);
    core = configFromEnv(env);
  } catch (e) {
    err(`benchsight bot: ${e instanceof BotConfigError ? e.message : (e as Error).message}`);
    return 2;
  }

  const db = await openDatabase({ ...core, notice: err });
  let bot: RunningBot | undefined;
  try {
    const schema = await migrationStatus(db);
    if (schema.version === 0) err('benchsight bot: the database has no schema yet: run `npx benchsight migrate` first, or every command will fail');
    const source = opts.source ?? (flags.from ? folderSourceOf(flags.from) : undefined);
    try {
      bot = await startBot({ config, db, port: flags.port, source, extensions: opts.extensions, dispatcher: opts.dispatcher, log: err });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      err(
        `benchsight bot: cannot listen on 127.0.0.1:${flags.port}${code === 'EADDRINUSE' ? ': the port is in use, pick another with --port' : `: ${(e as Error).message}`}`,
      );
      return 1;
    }
    io.stdout.write(
      `BenchSight bot listening on ${bot.url} (workspace ${config.teamId}; ${source ? `loads read ${flags.from ?? 'the configured source'}` : 'no source for loads: pass --from <dir>'})\n` +
        'Slack must reach it: put a tunnel in front and set its https URL as the Request URL of the slash command and of interactivity.\n',
    );
    opts.onListening?.(bot);
    await stopped(opts.signal);
    err('benchsight bot: stopping (waiting for running jobs)');
    return 0;
  } finally {
    await bot?.stop();
    await db.close();
  }
}
