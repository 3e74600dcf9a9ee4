/**
 * `npx benchsight <words>`: the command line. It speaks the command language of the
 * Slack bot (loader/commands/grammar.ts) plus a few local commands, translates
 * arguments into calls of the core and the outcome into text (or JSON) and an exit
 * code: 0 only on success.
 */
import { createReadStream } from 'node:fs';
import { runBot } from '../../bot/cli';
import { recordCommand } from '../history';
import { sendSlash } from '../local/slack-client';
import { startStack } from '../local/stack';
import { readLiveState } from '../local/state';
import { LOCAL_CREDENTIALS } from '../s3/local';
import { createInterface } from 'node:readline/promises';
import { trackerIngest } from '../s3/deps';
import { configFromEnv, ConfigError, type Config } from '../config';
import { openDatabase } from '../db/connect';
import { pgErrorFields, type Database } from '../db/database';
import { runningUrl } from '../db/embedded';
import { migrate, MigrationError } from '../db/migrate';
import { folderSource } from '../engine';
import { makeS3Client, s3ConfigFromEnv } from '../s3/client';
import { dropFiles } from '../s3/drop';
import { latestExportsSource } from '../s3/source';
import type { Operation } from '../warehouse';
import { describeCommand, isDestructive, parseCommand, type Command } from '../commands/grammar';
import { executeCommand, type CommandContext } from '../commands/execute';
import { renderOutcome, table } from '../commands/render';
import { runGenerate } from '../generate/cli';
import { etlCommandExtensions } from '../etl';
import { defaultHandlers } from '../worker/registry';
import { progressPrinter } from './progress';
import { stopped } from './stopped';
import { parseFlags, parseMaxRejects, type Flags } from './flags';

const LOCAL_USAGE = `local commands:
  migrate                      apply pending schema migrations
  start                        run the whole product on this machine (npm start)
  generate --games N --out DIR [--seed S] [--first-game ID] [--dirty] [--workers W]
                               synthetic export files in the real format
  bot [--port P] [--from DIR]  the Slack bot's HTTP endpoint on 127.0.0.1
  slack "/benchsight <command>"  send a signed slash command to the local bot (npm start) and print the reply
  ingest <tracker.json>         stage a tracker export for its game (the ETL is queued when the game ended)
  drop <files...> [--batch NAME] [--op OPERATION] [--game ID] [--prefix P]
                               upload export files to the drop bucket (DROP_BUCKET; AWS_ENDPOINT_URL_S3 for a local S3)
  sql "<query>" [--json]       run SQL on the warehouse and print the rows; sql --url prints the
                               connection string (for psql "$(npx benchsight sql --url)")

flags for loads and deletes:
  --from <dir>        load the files <table>.csv of a local folder
  --json              print the result as JSON on stdout
  --yes               confirm a command that deletes rows (full-refresh, delete game, replace, merge: see above)
  --dry-run           show what would change, change nothing
  --add-columns       add columns the export has and the table lacks (typed from the values)
  --strict            fail on duplicate keys and broken relations instead of rejecting those rows
  --max-rejects N|N%  rejected rows a file may have before the load is PARTIAL (default 20%)

exit codes: 0 succeeded; 1 failed (nothing changed); 2 usage or refused; 3 PARTIAL (committed, but
rows were rejected past the allowance or with their parent rows, or the data-quality rules could
not run: the output says which); 130 cancelled with Ctrl-C (nothing changed).

DATABASE_URL picks the database; without it the embedded PostgreSQL in .benchsight/ is used
(the one \`npm start\` runs, or one started for the command). Ctrl-C during a load cancels
it: nothing changes and the history says "cancelled".
`;

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

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
    if (parsed.ok) out((await executeCommand({ db: null as unknown as Database, initiatedBy: 'cli' }, parsed.command) as { text: string }).text);
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
      env = { ...env, DROP_BUCKET: stack.bucket, AWS_ENDPOINT_URL_S3: stack.s3Endpoint, AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey };
    }
  }

  if (first === 'sql') return runSql(config, flags, io);

  if (first === 'migrate') {
    return withDatabase(config, io, async (db) => {
      const r = await migrate(db, { log: (l) => err(l) });
      out(r.applied.length ? `migrated to version ${r.version} (${r.applied.length} applied)` : `already at version ${r.version}; nothing to do`);
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
    const keys = await dropFiles(makeS3Client(s3c), {
      files: flags.words.slice(1), bucket: s3c.bucket, prefix: flags.values.prefix, batch: flags.values.batch,
      operation: flags.values.op as Operation | undefined, gameId: game,
    }, err);
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
          ...(flags.strict ? { duplicates: 'fail', orphans: 'fail' } as const : {}),
          ...(flags.values['max-rejects'] !== undefined ? { maxRejects: parseMaxRejects(flags.values['max-rejects']) } : {}),
        },
        onProgress: flags.json && !io.stderr.isTTY ? undefined : progressPrinter(io.stderr),
        signal: deps.signal ?? cancel?.signal,
      },
      extensions: etlCommandExtensions(db, { handlers: defaultHandlers(), log: (l) => err(l) }),
    };
    const outcome = await executeCommand(ctx, command);
    if (flags.json) out(JSON.stringify(outcome.kind === 'load' ? outcome.result : outcome, null, 2));
    else out(renderOutcome(outcome));
    if (outcome.kind === 'load' && outcome.result.status === 'cancelled') return 130;
    if (outcome.kind === 'load' && outcome.result.status === 'partial') return 3;
    return outcome.ok ? 0 : 1;
  }).finally(() => cancel?.dispose());
}

/** Aborts on the first Ctrl-C / SIGTERM (the load rolls back and says so); the second exits at once. */
function cancelOnSignals(io: Io): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const on = () => {
    if (ac.signal.aborted) process.exit(130);
    io.stderr.write('\ncancelling: rolling back (Ctrl-C again to quit at once) ...\n');
    ac.abort();
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    signal: ac.signal,
    dispose() {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
}

/** `benchsight sql "<query>"`: the rows as a table (or JSON); `sql --url` prints where the database is. */
async function runSql(config: Config, flags: Flags, io: Io): Promise<number> {
  const query = flags.words.slice(1).join(' ').trim();
  if (flags.url) {
    const url = config.databaseUrl ?? runningUrl(config.dataDir);
    if (!url) {
      io.stderr.write('benchsight: the embedded PostgreSQL is not running: start it with `npm start` (it runs while the stack does), or set DATABASE_URL\n');
      return 1;
    }
    io.stdout.write(`${url}\n`);
    return 0;
  }
  if (!query) {
    io.stderr.write('benchsight: usage: benchsight sql "<query>" [--json]   |   benchsight sql --url\n');
    return 2;
  }
  return withDatabase(config, io, async (db) => {
    try {
      const r = await db.query<Record<string, unknown>>(query);
      if (flags.json) io.stdout.write(`${JSON.stringify(r.rows, null, 2)}\n`);
      else if (r.rows.length || r.fields?.length) {
        const headers = r.fields ?? Object.keys(r.rows[0] ?? {});
        io.stdout.write(`${table(headers, r.rows.map((row) => headers.map((h) => cell(row[h]))))}\n(${r.rows.length} row${r.rows.length === 1 ? '' : 's'})\n`);
      } else io.stdout.write(`OK (${r.rowCount} row${r.rowCount === 1 ? '' : 's'})\n`);
      return 0;
    } catch (e) {
      const f = pgErrorFields(e);
      io.stderr.write(`benchsight: ${(e as Error).message}${f?.detail ? `\n  ${f.detail}` : ''}\n`);
      return 1;
    }
  });
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Where a command's loads read from: --from <folder>, else the drop bucket's latest exports. */
function commandSource(flags: Flags, env: NodeJS.ProcessEnv): CommandContext['source'] {
  if (flags.from) return async () => folderSource(flags.from!);
  const s3c = s3ConfigFromEnv(env);
  if (s3c.bucket) return async () => latestExportsSource(makeS3Client(s3c), s3c.bucket!);
  return undefined;
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

/** Asks before a destructive command; without a terminal, --yes is the only way. */
async function confirm(command: Command, io: Io): Promise<boolean> {
  if (!io.stdin.isTTY) {
    io.stderr.write(`benchsight: ${describeCommand(command)} destroys data: add --yes to confirm\n`);
    return false;
  }
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  const answer = await rl.question(`${describeCommand(command)} destroys data. Type "yes" to go on: `);
  rl.close();
  if (answer.trim().toLowerCase() === 'yes') return true;
  io.stderr.write('cancelled; nothing changed\n');
  return false;
}

/** `npm start`: runs the local stack until Ctrl-C (SIGINT) or SIGTERM. */
async function runStack(config: Config, io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  const running = readLiveState(config.dataDir);
  if (running) {
    io.stderr.write(`benchsight: BenchSight Ops is already running here (pid ${running.pid}, since ${running.startedAt}): ` +
      `database ${running.database}, bot ${running.botUrl}. Use it from another terminal (npx benchsight ...), or stop it with Ctrl-C first\n`);
    return 1;
  }
  const out = (l: string) => io.stdout.write(`${l}\n`);
  const stack = await startStack({ config, env, out });
  await stopped();
  out('stopping BenchSight Ops ...');
  await stack.stop();
  out('stopped');
  return 0;
}

async function withDatabase(config: Config, io: Io, fn: (db: Database) => Promise<number>): Promise<number> {
  const db = await openDatabase({ ...config, notice: (l) => io.stderr.write(`database: ${l}\n`) });
  try {
    return await fn(db);
  } finally {
    await db.close();
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
