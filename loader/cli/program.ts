/**
 * The command line's parser (commander), for every command: the command language's
 * words (`load ...`, `history ...`: loader/commands/grammar.ts parses them, the one
 * grammar Slack uses too) and the local commands (migrate, start, generate, bot, slack,
 * ingest, drop, sql). Each command has its own --help and --json; a mistyped command or
 * flag gets a suggestion. What a command does is not here: `Actions` is implemented by
 * the composition root (loader/entry/cli.ts), which loads heavy modules (the AWS SDK,
 * Bolt, the generator, the local S3 server) only in the commands that use them.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { helpText } from '../commands/grammar';
import { DRIFT_KINDS, GRAIN_POLICIES, MISFIT_POLICIES, NEW_COLUMN_POLICIES } from '../warehouse/define';
import type { MaxRejects } from '../engine/request';
import type { Io } from './io';
import { EPILOGUE } from './usage';

export interface LoadFlags {
  json?: boolean;
  from?: string;
  /** --from files' encoding (TextDecoder's names). */
  encoding?: string;
  /** --from files' separator, when not a comma. */
  delimiter?: string;
  /** etl queue/run --force. */
  force?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  addColumns?: boolean;
  strict?: boolean;
  maxRejects?: MaxRejects;
  allowShrink?: boolean;
  /** The drift policy over the tables' own (loader/warehouse: DriftPolicy): --evolve is every change applied. */
  evolve?: boolean;
  newColumns?: string;
  misfits?: string;
  grain?: string;
  /** rejects: every rejected row as CSV. */
  csv?: boolean;
}

export interface GenerateFlags {
  games?: string;
  out?: string;
  seed?: string;
  firstGame?: string;
  dirty?: boolean;
  workers?: string;
  drift?: string;
  from?: string;
  json?: boolean;
}

export interface DropFlags {
  batch?: string;
  op?: string;
  game?: number;
  prefix?: string;
  json?: boolean;
}

export interface Actions {
  /** A command of the command language: its words (the command word first) and flags. */
  grammar(words: string[], flags: LoadFlags): Promise<number>;
  migrate(flags: { json?: boolean }): Promise<number>;
  start(): Promise<number>;
  generate(flags: GenerateFlags): Promise<number>;
  bot(flags: { port: number; from?: string }): Promise<number>;
  slack(text: string, flags: { json?: boolean }): Promise<number>;
  ingest(files: string[], flags: { json?: boolean }): Promise<number>;
  drop(files: string[], flags: DropFlags): Promise<number>;
  sql(query: string, flags: { json?: boolean; url?: boolean }): Promise<number>;
}

/** `--max-rejects 50` (rows) or `--max-rejects 5%` (of a file's rows). */
export function parseMaxRejects(v: string): MaxRejects {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(v.trim());
  if (!m || (!m[2] && !Number.isSafeInteger(Number(m[1]))))
    throw new InvalidArgumentError(`it takes a number of rows (50) or a share of a file's rows (5%), not ${JSON.stringify(v)}`);
  return m[2] ? { ratio: Math.min(1, Number(m[1]) / 100) } : { count: Number(m[1]) };
}

function wholeNumber(what: string, min: number, max: number) {
  return (v: string) => {
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
      throw new InvalidArgumentError(`${what} is a whole number from ${min} to ${max}, not ${JSON.stringify(v)}`);
    return Number(v);
  };
}

const json = () => new Option('--json', 'print the result as JSON on stdout');

/** The drift policy's options (each table has its own; these override it for one command). */
function driftOptions(c: Command): Command {
  return c
    .option('--evolve', 'apply every change the export brings: new columns, wider types, a finer grain (each recorded; admins)')
    .addOption(
      new Option('--new-columns <policy>', 'columns the table lacks: refuse them, add them (typed from the values) or ignore them').choices(
        NEW_COLUMN_POLICIES,
      ),
    )
    .addOption(
      new Option('--misfits <policy>', 'values that no longer fit their column: refuse the load, widen the column, or reject those rows').choices(
        MISFIT_POLICIES,
      ),
    )
    .addOption(new Option('--grain <policy>', 'a file whose natural key repeats (a finer grain): refuse, or evolve the key').choices(GRAIN_POLICIES));
}

/** Where the files come from. */
function sourceOptions(c: Command): Command {
  return c
    .option('--from <dir>', 'read <table>.csv (or <table>.csv.gz) from this folder instead of the drop bucket')
    .option('--encoding <name>', "the --from files' encoding when not UTF-8: latin1, windows-1252, utf-16le, …")
    .option('--delimiter <char>', "the --from files' separator when not a comma: ';', '|', or tab (the word, or \\t)");
}

/** Options of every command that loads files. */
function loadOptions(c: Command): Command {
  return driftOptions(sourceOptions(c))
    .option('-y, --yes', 'confirm a command that deletes rows (replace, merge, full-refresh), for scripts')
    .option('--dry-run', 'show what would change; change nothing')
    .option('--add-columns', 'add columns the export has and the table lacks (typed from the values)')
    .option('--strict', 'fail on duplicate keys and broken relations instead of rejecting those rows')
    .addOption(new Option('--max-rejects <n|n%>', 'rejected rows a file may have before the load is PARTIAL (default 20%)').argParser(parseMaxRejects))
    .option('--allow-shrink', "let a replace or merge remove more than half of a table's rows (refused otherwise)")
    .addOption(json());
}

/** The grammar's syntax lines of a command word, for its --help. */
function grammarHelp(word: string): string {
  return `\n${helpText(word)}\n`;
}

const GRAMMAR_WORDS: { word: string; summary: string; options: (c: Command) => Command }[] = [
  { word: 'load', summary: 'load a table, a category, a game or everything', options: loadOptions },
  { word: 'full-refresh', summary: 'empty every table and reload everything (asks first)', options: loadOptions },
  {
    word: 'drift',
    summary: 'how the export differs from the tables, and what a load would do (changes nothing)',
    options: (c) => driftOptions(sourceOptions(c)).addOption(json()),
  },
  { word: 'schema', summary: 'schema changes loads applied, and the declaration that matches the database', options: (c) => c.addOption(json()) },
  {
    word: 'delete',
    summary: "delete one game's rows from every fact table (asks first)",
    options: (c) =>
      c.option('-y, --yes', 'confirm without asking, for scripts').option('--dry-run', 'show what would be deleted; change nothing').addOption(json()),
  },
  {
    word: 'etl',
    summary: "queue, run or show the ETL of games, and a job's log",
    options: (c) =>
      c
        .addOption(json())
        .option('--force', "etl queue/run: the live ETL replaces even a game's rows the team's full ETL loaded (asks first)")
        .option('-y, --yes', 'confirm --force without asking, for scripts')
        .allowUnknownOption(),
  },
  { word: 'history', summary: 'recent loads: what they did, by whom, with what result', options: (c) => c.addOption(json()) },
  {
    word: 'rejects',
    summary: 'the rows a load rejected: line, reason, the row',
    options: (c) => c.addOption(json()).option('--csv', "every rejected row as CSV (line, table, reason, detail, then the row's columns)"),
  },
  { word: 'counts', summary: 'rows in every warehouse table', options: (c) => c.addOption(json()) },
  { word: 'validate', summary: 'run the data-quality rules', options: (c) => c.addOption(json()) },
  { word: 'health', summary: 'database, schema version, queue and last load', options: (c) => c.addOption(json()) },
];

/** Every command of the grammar has a word here, and every word here is the grammar's (test/commands/program.test.ts). */
export const GRAMMAR_COMMAND_WORDS = GRAMMAR_WORDS.map((g) => g.word);

export function buildProgram(io: Io, actions: Actions, done: (code: number) => void): Command {
  const program = new Command('benchsight')
    .description("BenchSight Ops: load the warehouse, read its history, run the local stack.\nThe same command language as Slack's /benchsight.")
    .usage('<command> [words...] [options]')
    .helpCommand(false)
    .showSuggestionAfterError(true)
    .showHelpAfterError('(see: benchsight --help)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`benchsight: ${s.replace(/^error: /, '')}`),
    })
    .exitOverride()
    .addHelpText('after', `\n${EPILOGUE}`)
    .argument('[words...]', 'a command of the command language (see `benchsight help`)')
    .action(async (words: string[]) => {
      // Words that are no command here go to the grammar: it says what was probably meant.
      if (!words.length) return done(printHelp(program, io));
      done(await actions.grammar(words, {}));
    });

  for (const g of GRAMMAR_WORDS) {
    const c = g
      .options(new Command(g.word).summary(g.summary).description(`${g.summary}\n\nsyntax (the same as Slack's /benchsight):`).argument('[words...]'))
      .addHelpText('after', grammarHelp(g.word))
      .action(async (words: string[], flags: LoadFlags) => done(await actions.grammar([g.word, ...words], flags)));
    program.addCommand(inherit(c, program));
  }

  const local = (name: string) => inherit(new Command(name), program);
  program.addCommand(
    local('help')
      .summary('every command, with examples')
      .argument('[topic]')
      .addOption(json())
      .action(async (topic: string | undefined, flags: { json?: boolean }) => {
        if (flags.json || topic) return done(await actions.grammar(['help', ...(topic ? [topic] : [])], flags));
        done(printHelp(program, io));
      }),
  );
  program.addCommand(
    local('migrate')
      .summary('apply pending schema migrations')
      .addOption(json())
      .action(async (flags: { json?: boolean }) => done(await actions.migrate(flags))),
  );
  program.addCommand(
    local('start')
      .summary('run the whole product on this machine (npm start)')
      .action(async () => done(await actions.start())),
  );
  program.addCommand(
    local('generate')
      .summary('synthetic export files in the real format')
      .description(
        'Writes a synthetic BenchSight export, the 12 <table>.csv files, in exactly the format of the real\nexport (headers, value styles, key formats): per game about 1,500 events, 2,800 event-player\nrows and 1.9 MB of CSV. e.g. benchsight generate --games 100 --out ./demo',
      )
      .option('--games <n>', 'games to play')
      .option('--out <dir>', 'folder for the files (created if missing; existing files are replaced)')
      .option('--seed <s>', 'seed of the generator (default 1); same seed and options, same bytes')
      .option('--first-game <id>', 'id of the first game (default 50001); the others follow it')
      .option('--dirty', "add the real export's data problems (a duplicate key, orphans, rows without a player)")
      .option('--workers <w>', 'threads rendering games (default: one per CPU from 16 games on; 0: none)')
      .option('--drift <kinds>', `write the export as a later ETL version would (comma-separated: ${DRIFT_KINDS.join(', ')})`)
      .option('--from <dir>', 'drift an export that is there already (a generated one, a real one) instead of generating: needs --drift')
      .addOption(json())
      .action(async (flags: GenerateFlags) => done(await actions.generate(flags))),
  );
  program.addCommand(
    local('bot')
      .summary("the Slack bot's HTTP endpoint on 127.0.0.1")
      .addOption(new Option('--port <p>', 'port on 127.0.0.1').default(3000).argParser(wholeNumber('--port', 0, 65535)))
      .option('--from <dir>', 'loads read <table>.csv from this folder')
      .addHelpText(
        'after',
        `
settings (environment):
  SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_TEAM_ID     required
  BENCHSIGHT_ROLES (JSON) or BENCHSIGHT_ROLES_FILE          required, e.g. {"admins":["U1"],"operators":["U2"],"viewers":["*"]}
  SLACK_CHANNELS, SLACK_NOTIFY_CHANNEL, BENCHSIGHT_CONFIRM_MINUTES, SLACK_API_URL   optional
  DATABASE_URL   the database (without it: the embedded PostgreSQL in .benchsight/)
`,
      )
      .action(async (flags: { port: number; from?: string }) => done(await actions.bot(flags))),
  );
  program.addCommand(
    local('slack')
      .summary('send a signed slash command to the local bot (npm start) and print its answer')
      .argument('<command...>', 'e.g. "/benchsight history"')
      .addOption(json())
      .action(async (words: string[], flags: { json?: boolean }) => done(await actions.slack(words.join(' '), flags))),
  );
  program.addCommand(
    local('ingest')
      .summary('stage a tracker export for its game (the ETL is queued when the game ended)')
      .argument('<files...>', 'tracker exports (.json)')
      .addOption(json())
      .action(async (files: string[], flags: { json?: boolean }) => done(await actions.ingest(files, flags))),
  );
  program.addCommand(
    local('drop')
      .summary('upload export files to the drop bucket; the loader picks them up')
      .argument('<files...>', 'export files (<table>.csv, .csv.gz, tracker .json)')
      .option('--batch <name>', 'upload them as one batch (its manifest last): loaded as one request')
      .addOption(new Option('--op <operation>', 'the operation the loader applies').choices(['replace', 'append', 'upsert', 'merge']))
      .addOption(new Option('--game <id>', 'only that game of the files').argParser(wholeNumber('--game', 1, 2147483647)))
      .option('--prefix <p>', 'a folder of the bucket to upload under')
      .addOption(json())
      .action(async (files: string[], flags: DropFlags) => done(await actions.drop(files, flags))),
  );
  program.addCommand(
    local('sql')
      .summary('run SQL on the warehouse and print the rows')
      .argument('[query...]', 'e.g. "select count(*) from fact_events"')
      .option('--url', 'print the connection string instead (psql "$(npx benchsight sql --url)")')
      .addOption(json())
      .action(async (words: string[], flags: { json?: boolean; url?: boolean }) => done(await actions.sql(words.join(' '), flags))),
  );
  return program;
}

/** A subcommand writes, errs and exits as the program does. */
function inherit(c: Command, program: Command): Command {
  return c.configureOutput(program.configureOutput()).exitOverride().showSuggestionAfterError(true).showHelpAfterError(`(see: benchsight ${c.name()} --help)`);
}

/** `benchsight help`: the command language (as in Slack), then the local commands and flags. */
function printHelp(program: Command, io: Io): number {
  io.stdout.write(`${helpText()}\n\n${program.helpInformation()}`);
  io.stdout.write(`\n${EPILOGUE}`);
  return 0;
}

/**
 * Parses argv and runs its command: the command's exit code, 0 for --help, 2 for a usage
 * error (commander has printed it, with a suggestion).
 */
export async function runProgram(argv: string[], io: Io, actions: Actions): Promise<number> {
  let code: number | undefined;
  const program = buildProgram(io, actions, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    return e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version' ? 0 : 2;
  }
  return code ?? 0;
}
