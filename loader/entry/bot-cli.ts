/**
 * `npx benchsight bot [--port <p>] [--from <dir>]` (flags parsed by loader/cli/program.ts):
 * the Slack bot on this machine, on http://127.0.0.1:<port>/slack/events, until Ctrl-C.
 * Settings come from the environment (bot/config.ts); the database is DATABASE_URL or
 * the embedded one.
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

export interface BotFlags {
  /** Port on 127.0.0.1 (0: any free one). */
  port: number;
  from?: string;
}

export async function runBot(flags: BotFlags, io: BotIo, env: NodeJS.ProcessEnv, opts: RunBotOptions = {}): Promise<number> {
  const err = (s: string) => io.stderr.write(`${s}\n`);
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
