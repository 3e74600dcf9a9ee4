/**
 * `npx benchsight <words>`: the command line (bin/benchsight.js runs it through tsx). It
 * speaks the command language of the Slack bot (loader/commands/grammar.ts) plus a few
 * local commands (loader/cli/usage.ts), translates arguments into calls of the core and
 * the outcome into text (or JSON) and an exit code: 0 only on success.
 */
import { createReadStream } from 'node:fs';
import { confirm, cancelOnSignals } from '../cli/confirm';
import { parseFlags, parseMaxRejects, type Flags } from '../cli/flags';
import { type Io, withDatabase } from '../cli/io';
import { progressPrinter } from '../cli/progress';
import { runSql } from '../cli/sql';
import { LOCAL_USAGE } from '../cli/usage';
import { executeCommand, type CommandContext } from '../commands/execute';
import { isDestructive, parseCommand } from '../commands/grammar';
import { renderOutcome } from '../commands/render';
import { configFromEnv, ConfigError, type Config } from '../config';
import type { Database } from '../db/database';
import { runningUrl } from '../db/embedded';
import { migrate, MigrationError } from '../db/migrate';
import { runGenerate } from '../generate/cli';
import { recordCommand } from '../history';
import { sendSlash } from '../local/slack-client';
import { readLiveState } from '../local/state';
import { makeS3Client, s3ConfigFromEnv } from '../s3/client';
import { dropFiles } from '../s3/drop';
import { LOCAL_CREDENTIALS } from '../s3/local';
import type { Operation } from '../warehouse';
import { runBot } from './bot-cli';
import { bucketSourceFromEnv, commandExtensions, folderSourceOf, trackerIngest } from './context';
import { runStack } from './stack';

export type { Io } from '../cli/io';

export interface MainDeps {
  /** Aborted to cancel the command (the bin aborts it on Ctrl-C). */
  signal?: AbortSignal;
}

export async function main(argv: string[], io: Io = process, env: NodeJS.ProcessEnv = process.env, deps: MainDeps = {}): Promise<number> {
  const out = (s: string) => io.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
  const err = (s: string) => io.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
  let flags: Flags;
  try {
    flags = parseFlags(argv);
  } catch (e) {
    err(`benchsight: ${(e as Error).message}`);
    return 2;
  }
  const [first] = flags.words;

  if (first === 'generate') {
    return runGenerate(argv.slice(1), { stdout: io.stdout, stderr: io.stderr });
  }
  if (first === '--help' || first === '-h' || (first === 'help' && flags.words.length === 1 && !flags.json)) {
    const parsed = parseCommand('help');
    if (parsed.ok) out(((await executeCommand({ db: null as unknown as Database, initiatedBy: 'cli' }, parsed.command)) as { text: string }).text);
    out(`\n${LOCAL_USAGE}`);
    return 0;
  }

  let config: Config;
  try {
    config = configFromEnv(env);
  } catch (e) {
    err(`benchsight: ${(e as ConfigError).message}`);
    return 2;
  }

  if (first === 'bot') return runBot(argv.slice(1), { stdout: io.stdout, stderr: io.stderr }, env);
  if (first === 'start') return runStack(config, io, env);

  // A local stack is running (npm start): its database, bucket and bot are used directly,
  // unless DATABASE_URL says otherwise.
  const stack = !env.DATABASE_URL ? readLiveState(config.dataDir) : null;
  if (first === 'slack') {
    if (!stack) {
      err('benchsight: `slack` talks to the local bot of a running `npm start`; none is running here');
      return 2;
    }
    return sendSlash(stack, flags.words.slice(1).join(' '), io);
  }
  if (stack) {
    config = { ...config, databaseUrl: stack.databaseUrl };
    if (!env.DROP_BUCKET) {
      env = {
        ...env,
        DROP_BUCKET: stack.bucket,
        AWS_ENDPOINT_URL_S3: stack.s3Endpoint,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      };
    }
  }

  if (first === 'sql') return runSql(config, flags, io);

  if (first === 'migrate') {
    return withDatabase(config, io, async (db) => {
      const r = await migrate(db, { log: (l) => err(l) });
      const fns = r.functions.length ? `; ${r.functions.length} function file${r.functions.length === 1 ? '' : 's'} of sql/functions applied` : '';
      out(
        r.applied.length
          ? `migrated to version ${r.version} (${r.applied.length} applied${fns})`
          : r.functions.length
            ? `at version ${r.version}${fns}`
            : `already at version ${r.version}; nothing to do`,
      );
      return 0;
    });
  }

  if (first === 'drop') {
    const s3c = s3ConfigFromEnv(env);
    if (!s3c.bucket) {
      err('benchsight: no drop bucket configured: set DROP_BUCKET (and AWS_ENDPOINT_URL_S3 for a local S3, e.g. the one `npm start` runs)');
      return 2;
    }
    const game = flags.values.game !== undefined ? Number(flags.values.game) : undefined;
    if (game !== undefined && !(Number.isSafeInteger(game) && game > 0)) {
      err(`benchsight: --game must be a positive whole number, not ${JSON.stringify(flags.values.game)}`);
      return 2;
    }
    const keys = await dropFiles(
      makeS3Client(s3c),
      {
        files: flags.words.slice(1),
        bucket: s3c.bucket,
        prefix: flags.values.prefix,
        batch: flags.values.batch,
        operation: flags.values.op as Operation | undefined,
        gameId: game,
      },
      err,
    );
    out(`dropped ${keys.length} object${keys.length === 1 ? '' : 's'} into s3://${s3c.bucket}/`);
    return 0;
  }

  if (first === 'ingest') {
    const files = flags.words.slice(1);
    if (!files.length) {
      err('benchsight: usage: benchsight ingest <tracker-export.json> ...');
      return 2;
    }
    return withDatabase(config, io, async (db) => {
      let code = 0;
      for (const file of files) {
        const ingest = trackerIngest(db);
        const r = await ingest(createReadStream(file), { source: file, initiatedBy: `cli:${env.USER ?? env.USERNAME ?? 'unknown'}` });
        (r.ok ? out : err)(`${file}: ${r.text}`);
        if (!r.ok) code = 1;
      }
      return code;
    });
  }

  const parsed = parseCommand(flags.words.join(' '));
  if (!parsed.ok) {
    err(`benchsight: ${parsed.error}`);
    await recordRefusal(config, io, { text: flags.words.join(' '), reason: parsed.error, userId: `cli:${env.USER ?? env.USERNAME ?? 'unknown'}` });
    return 2;
  }
  let command = parsed.command;
  if (flags.dryRun && 'dryRun' in command) command = { ...command, dryRun: true };

  if (isDestructive(command) && !flags.yes && !(await confirm(command, io))) return io.stdin.isTTY ? 1 : 2;

  // Ctrl-C (or SIGTERM) cancels the command's load; a second one quits at once.
  const cancel = deps.signal ? null : cancelOnSignals(io);
  return withDatabase(config, io, async (db) => {
    const ctx: CommandContext = {
      db,
      initiatedBy: `cli:${env.USER ?? env.USERNAME ?? 'unknown'}`,
      source: commandSource(flags, env),
      loadOptions: {
        unknownColumns: flags.addColumns ? 'add' : 'refuse',
        policy: {
          ...(flags.strict ? ({ duplicates: 'fail', orphans: 'fail' } as const) : {}),
          ...(flags.values['max-rejects'] !== undefined ? { maxRejects: parseMaxRejects(flags.values['max-rejects']) } : {}),
        },
        onProgress: flags.json && !io.stderr.isTTY ? undefined : progressPrinter(io.stderr),
        signal: deps.signal ?? cancel?.signal,
      },
      extensions: commandExtensions(db, (l) => err(l)),
    };
    const outcome = await executeCommand(ctx, command);
    if (flags.json) out(JSON.stringify(outcome.kind === 'load' ? outcome.result : outcome, null, 2));
    else out(renderOutcome(outcome));
    if (outcome.kind === 'load' && outcome.result.status === 'cancelled') return 130;
    if (outcome.kind === 'load' && outcome.result.status === 'partial') return 3;
    return outcome.ok ? 0 : 1;
  }).finally(() => cancel?.dispose());
}

/** Where a command's loads read from: --from <folder>, else the drop bucket's latest exports. */
function commandSource(flags: Flags, env: NodeJS.ProcessEnv): CommandContext['source'] {
  return flags.from ? folderSourceOf(flags.from) : bucketSourceFromEnv(env);
}

/** A command the grammar refused is recorded as Slack's refusals are (history.ts recordCommand), naming the OS user. */
async function recordRefusal(config: Config, io: Io, r: { text: string; reason: string; userId: string }): Promise<void> {
  // A typo does not start the embedded database just to be recorded: only a database
  // that is there already (DATABASE_URL, the stack's, one a command runs) gets the row.
  if (!config.databaseUrl && !runningUrl(config.dataDir)) return;
  try {
    await withDatabase(config, io, async (db) => {
      await recordCommand(db, { userId: r.userId, text: r.text, status: 'refused', errorMessage: r.reason, source: 'cli' });
      return 0;
    });
  } catch (e) {
    io.stderr.write(`benchsight: (this refusal could not be recorded in the history: ${(e as Error).message})\n`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      const known = e instanceof MigrationError || e instanceof ConfigError;
      process.stderr.write(`benchsight: ${known ? (e as Error).message : String((e as Error)?.stack ?? e)}\n`);
      process.exit(1);
    },
  );
}
