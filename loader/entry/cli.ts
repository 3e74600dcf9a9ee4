/**
 * `npx benchsight <words>`: the command line (bin/benchsight.js runs it through tsx).
 * loader/cli/program.ts parses the arguments (commander); this file is the composition
 * root behind it: each command builds what it needs and calls the core, then prints the
 * outcome (text, or JSON with --json) and returns its exit code (outcome-class.ts).
 * Heavy modules — the engine and database, the AWS SDK, Bolt, the generator, the local
 * S3 server — are required inside the commands that use them (`require('…') as typeof
 * import('…')`: tsx's require hook runs the TypeScript, a bundler keeps each lazy), so
 * `help` and a typo answer at once and never open a database.
 */
import { userInfo } from 'node:os';
import type { Io } from '../cli/io';
import { type Actions, type DropFlags, type GenerateFlags, type LoadFlags, runProgram } from '../cli/program';
import { type Config, ConfigError, configFromEnv } from '../config';
import type { Extensions } from '../commands/execute';
import type { Command } from '../commands/grammar';
import { readLiveState } from '../local/state';
import type { SourceOf } from './context';
import { type DriftPolicy, EVOLVE } from '../warehouse/define';

export type { Io } from '../cli/io';

export interface MainDeps {
  /** Aborted to cancel the command (the bin aborts it on Ctrl-C). */
  signal?: AbortSignal;
}

/** Who runs the command, for the history: the OS user (USER, else the account's name). */
export function cliUser(env: NodeJS.ProcessEnv): string {
  let name = env.USER || env.USERNAME || env.LOGNAME;
  if (!name) {
    try {
      name = userInfo().username;
    } catch {
      name = `uid ${process.getuid?.() ?? '?'}`;
    }
  }
  return `cli:${name}`;
}

/** Errors a person can act on are said in their words; anything else is a bug: its stack with BENCHSIGHT_DEBUG=1. */
function plainError(e: unknown, env: NodeJS.ProcessEnv): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT' && err.path) return `file not found: ${err.path}`;
  if (err?.code === 'EACCES' && err.path) return `permission denied: ${err.path}`;
  if (err?.code === 'ECONNREFUSED') return `cannot reach the database (${err.message}): is it running? (DATABASE_URL, or \`npm start\`)`;
  if (env.BENCHSIGHT_DEBUG) return String(err?.stack ?? e);
  return err?.message ?? String(e);
}

export async function main(argv: string[], io: Io = process, env: NodeJS.ProcessEnv = process.env, deps: MainDeps = {}): Promise<number> {
  const out = (s: string) => io.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
  const err = (s: string) => io.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
  const json = (v: unknown) => out(JSON.stringify(v, null, 2));
  const who = cliUser(env);
  // Tables fit the terminal; output piped to a file or a script is never cut.
  const width = () => {
    const tty = io.stdout as { isTTY?: boolean; columns?: number };
    return tty.isTTY && tty.columns ? tty.columns : Number(env.COLUMNS) || undefined;
  };

  /** The configuration; with a local stack running (npm start) its database and bucket, unless DATABASE_URL / DROP_BUCKET say otherwise. */
  const setup = (): { config: Config; env: NodeJS.ProcessEnv; stack: ReturnType<typeof readLiveState> } => {
    let config = configFromEnv(env);
    let e = env;
    const stack = !env.DATABASE_URL ? readLiveState(config.dataDir) : null;
    if (stack) {
      config = { ...config, databaseUrl: stack.databaseUrl };
      if (!env.DROP_BUCKET) {
        e = { ...env, DROP_BUCKET: stack.bucket, AWS_ENDPOINT_URL_S3: stack.s3Endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
      }
    }
    return { config, env: e, stack };
  };

  /** Runs a command, turning what it throws into a sentence on stderr (and a JSON error with --json). */
  const guarded =
    <A extends unknown[]>(fn: (...a: A) => Promise<number>) =>
    async (...a: A): Promise<number> => {
      try {
        return await fn(...a);
      } catch (e) {
        const message = plainError(e, env);
        err(`benchsight: ${message}`);
        const flags = a.at(-1) as { json?: boolean } | undefined;
        if (flags && typeof flags === 'object' && flags.json) json({ ok: false, error: message });
        return e instanceof ConfigError ? 2 : 1;
      }
    };

  const withDb = async (config: Config, fn: (db: import('../db/database').Database) => Promise<number>): Promise<number> => {
    const { withDatabase } = await import('../cli/io');
    return withDatabase(config, io, fn);
  };

  const actions: Actions = {
    grammar: guarded(async (words: string[], flags: LoadFlags) => {
      const { parseCommand, isDestructive } = await import('../commands/grammar');
      const parsed = parseCommand(words.join(' '));
      const { config, env: e } = setup();
      if (!parsed.ok) {
        err(`benchsight: ${parsed.error}`);
        if (flags.json) json({ ok: false, error: parsed.error });
        await recordRefusal(config, io, { text: words.join(' '), reason: parsed.error, userId: who });
        return 2;
      }
      let command: Command = parsed.command;
      if (flags.dryRun && 'dryRun' in command) command = { ...command, dryRun: true };
      if (flags.allowShrink && (command.kind === 'load' || command.kind === 'full-refresh')) command = { ...command, allowShrink: true };
      if (flags.force && (command.kind === 'etl-queue' || command.kind === 'etl-run')) command = { ...command, force: true };
      const drift = driftFlags(flags);
      if (drift && (command.kind === 'load' || command.kind === 'drift')) command = { ...command, drift: { ...command.drift, ...drift } };
      if (command.kind === 'help') {
        const { helpText } = await import('../commands/grammar');
        const text = helpText(command.topic);
        if (flags.json) json({ kind: 'help', ok: true, text });
        else out(text);
        return 0;
      }
      if (command.kind === 'rejects' && flags.csv) return withDb(config, (db) => rejectsCsv(db, command as Extract<Command, { kind: 'rejects' }>, io));
      if (isDestructive(command) && !flags.yes) {
        const { confirm } = await import('../cli/confirm');
        if (!(await confirm(command, io))) return io.stdin.isTTY ? 1 : 2;
      }
      return runCommand(command, flags, config, e);
    }),

    migrate: guarded(async (flags: { json?: boolean }) => {
      const { config } = setup();
      const { migrate } = await import('../db/migrate');
      return withDb(config, async (db) => {
        const r = await migrate(db, { log: (l) => err(l) });
        if (flags.json) return (json({ ok: true, version: r.version, applied: r.applied, functions: r.functions }), 0);
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
    }),

    start: guarded(async () => {
      const { runStack } = await import('./stack');
      return runStack(configFromEnv(env), io, env);
    }),

    generate: guarded(async (flags: GenerateFlags) => {
      const { runGenerate } = await import('../generate/cli');
      return runGenerate(flags, { stdout: io.stdout, stderr: io.stderr });
    }),

    bot: guarded(async (flags: { port: number; from?: string }) => {
      const { runBot } = await import('./bot-cli');
      return runBot(flags, { stdout: io.stdout, stderr: io.stderr }, env);
    }),

    slack: guarded(async (text: string, flags: { json?: boolean }) => {
      const { stack } = setup();
      if (!stack) {
        err('benchsight: `slack` talks to the local bot of a running `npm start`; none is running here');
        return 2;
      }
      const { sendSlash } = await import('../local/slack-client');
      return sendSlash(stack, text, io, { json: flags.json });
    }),

    ingest: guarded(async (files: string[], flags: { json?: boolean }) => {
      const { existsSync, createReadStream } = await import('node:fs');
      const missing = files.filter((f) => !existsSync(f));
      if (missing.length) throw new Error(`file not found: ${missing.join(', ')}; nothing was staged`);
      const { config } = setup();
      const { trackerIngest } = await import('./context');
      return withDb(config, async (db) => {
        let code = 0;
        const results: { file: string; ok: boolean; text: string; historyId?: number }[] = [];
        for (const file of files) {
          const r = await trackerIngest(db)(createReadStream(file), { source: file, initiatedBy: who });
          results.push({ file, ...r });
          if (!flags.json) (r.ok ? out : err)(`${file}: ${r.text}`);
          if (!r.ok) code = 1;
        }
        if (flags.json) json({ ok: code === 0, files: results });
        return code;
      });
    }),

    drop: guarded(async (files: string[], flags: DropFlags) => {
      const { env: e } = setup();
      const { s3ConfigFromEnv, makeS3Client } = await import('../s3/client');
      const s3c = s3ConfigFromEnv(e);
      if (!s3c.bucket) {
        err('benchsight: no drop bucket configured: set DROP_BUCKET (and AWS_ENDPOINT_URL_S3 for a local S3), or run `npm start`, which runs one');
        return 2;
      }
      const { dropFiles } = await import('../s3/drop');
      const { ProgressView } = await import('../cli/progress');
      const view = new ProgressView(io.stderr, { json: flags.json });
      try {
        const r = await dropFiles(
          makeS3Client(s3c),
          {
            files,
            bucket: s3c.bucket,
            prefix: flags.prefix,
            batch: flags.batch,
            operation: flags.op as import('../warehouse').Operation | undefined,
            gameId: flags.game,
            uploadedBy: who,
            onProgress: (p) =>
              view.update({
                item: p.file,
                phase: 'uploading',
                done: p.done,
                total: p.total,
                detail: `${(p.done / 1e6).toFixed(1)} of ${(p.total / 1e6).toFixed(1)} MB`,
              }),
          },
          (l) => {
            if (!flags.json) err(l);
          },
        );
        view.stop();
        if (flags.json) json({ ok: true, bucket: s3c.bucket, keys: r });
        else out(`dropped ${r.length} object${r.length === 1 ? '' : 's'} into s3://${s3c.bucket}/`);
        return 0;
      } finally {
        view.stop();
      }
    }),

    sql: guarded(async (query: string, flags: { json?: boolean; url?: boolean }) => {
      const { config } = setup();
      const { runSql } = await import('../cli/sql');
      return runSql(config, query, flags, io, width());
    }),
  };

  /** A command of the command language, against the database; a load shows its progress. */
  const runCommand = async (command: Command, flags: LoadFlags, config: Config, e: NodeJS.ProcessEnv): Promise<number> => {
    const [{ executeCommand }, { renderOutcome }, { exitCodeOf, outcomeClass }, { cancelOnSignals }, { loadProgress }, { s3ConfigFromEnv }] = await Promise.all(
      [
        import('../commands/execute'),
        import('../commands/render'),
        import('../commands/outcome-class'),
        import('../cli/confirm'),
        import('../cli/progress'),
        import('../s3/config'),
      ],
    );
    // Ctrl-C (or SIGTERM) cancels the command's load; a second one quits at once.
    const cancel = deps.signal ? null : cancelOnSignals(io);
    const progress = loadProgress(io.stderr, { json: flags.json });
    if (flags.encoding && !flags.from) throw new ConfigError('--encoding is for the files of --from <dir>');
    if (flags.delimiter && !flags.from) throw new ConfigError('--delimiter is for the files of --from <dir>');
    // The sources and the ETL commands (entry/context.ts: the engine's readers, the ETL, the
    // tracker's schemas) are imported when a command uses them: `counts` does not.
    const context = () => import('./context');
    const from = flags.from;
    const source: SourceOf | undefined = from
      ? async () => (await context()).folderSourceOf(from, { encoding: flags.encoding, delimiter: flags.delimiter })()
      : s3ConfigFromEnv(e).bucket
        ? async (want) => (await context()).bucketSourceFromEnv(e)!(want)
        : undefined;
    try {
      return await withDb(config, async (db) => {
        const outcome = await executeCommand(
          {
            db,
            initiatedBy: who,
            source: source && (async (want) => progress.watch(await source(want))),
            loadOptions: {
              unknownColumns: flags.addColumns ? 'add' : 'refuse',
              policy: {
                ...(flags.strict ? ({ duplicates: 'fail', orphans: 'fail' } as const) : {}),
                ...(flags.maxRejects ? { maxRejects: flags.maxRejects } : {}),
              },
              onProgress: progress.onProgress,
              signal: deps.signal ?? cancel?.signal,
            },
            extensions: lazyExtensions(async () => (await context()).commandExtensions(db, (l) => err(l))),
          },
          command,
        );
        progress.stop();
        const code = exitCodeOf(outcome);
        // A load's JSON is its result, with its outcome class (the exit code's word).
        if (flags.json) json(outcome.kind === 'load' ? { ...outcome.result, outcome: outcomeClass(outcome) } : outcome);
        // A failure is said on stderr; what a command found (tables, results) on stdout.
        else if (outcome.kind === 'text' && !outcome.ok) err(renderOutcome(outcome, { width: width() }));
        else out(renderOutcome(outcome, { width: width() }));
        return code;
      });
    } finally {
      progress.stop();
      cancel?.dispose();
    }
  };

  return runProgram(argv, io, actions);
}

/** The ETL and data-quality commands (executeCommand's extensions), built when one of them runs. */
function lazyExtensions(build: () => Promise<Required<Extensions>>): Required<Extensions> {
  let built: Promise<Required<Extensions>> | undefined;
  const ext = () => (built ??= build());
  return {
    etlQueue: async (...a) => (await ext()).etlQueue(...a),
    etlRun: async (...a) => (await ext()).etlRun(...a),
    etlStatus: async () => (await ext()).etlStatus(),
    etlLog: async (...a) => (await ext()).etlLog(...a),
    validate: async (...a) => (await ext()).validate(...a),
  };
}

/** The drift policy flags (--evolve, then the single policies over it), or undefined when none was given. */
function driftFlags(flags: LoadFlags): Partial<DriftPolicy> | undefined {
  const { evolve, newColumns, misfits, grain } = flags;
  if (!evolve && !newColumns && !misfits && !grain) return undefined;
  return {
    ...(evolve ? EVOLVE : {}),
    ...(newColumns ? { newColumns } : {}),
    ...(misfits ? { misfits } : {}),
    ...(grain ? { grain } : {}),
  } as Partial<DriftPolicy>;
}

/** `rejects <id> --csv`: every rejected row as CSV on stdout, a batch at a time. */
async function rejectsCsv(db: import('../db/database').Database, c: Extract<Command, { kind: 'rejects' }>, io: Io): Promise<number> {
  const { allRejects, rejectsOf } = await import('../commands/rejects');
  // One CSV is one table's columns: a load whose rejects span tables is asked which.
  const tables = [...new Set((await rejectsOf(db, c.historyId, { table: c.table, limit: 1 })).counts.map((x) => x.table))];
  if (tables.length > 1) {
    io.stderr.write(
      `benchsight: the rejected rows of #${c.historyId} are in ${tables.join(', ')}: a CSV holds one table's columns, so name one, e.g. benchsight rejects ${c.historyId} ${tables[0]} --csv\n`,
    );
    return 2;
  }
  const { csvLine } = await import('../cli/csv');
  let header: string[] | undefined;
  for await (const batch of allRejects(db, c.historyId, { table: c.table })) {
    for (const r of batch) {
      if (!header) {
        header = ['line', 'table', 'reason', 'detail', ...Object.keys(r.row)];
        io.stdout.write(csvLine(header));
      }
      const cols = header.slice(4);
      io.stdout.write(csvLine([r.line, r.table, r.reason, r.detail, ...cols.map((k) => r.row[k])]));
    }
  }
  if (!header) io.stderr.write(`benchsight: #${c.historyId} has no rejected rows kept (\`benchsight rejects ${c.historyId}\` says why)\n`);
  return 0;
}

/** A command the grammar refused is recorded as Slack's refusals are (history.ts recordCommand), naming the OS user. */
async function recordRefusal(config: Config, io: Io, r: { text: string; reason: string; userId: string }): Promise<void> {
  // A typo does not start the embedded database just to be recorded: only a database
  // that is there already (DATABASE_URL, the stack's, one a command runs) gets the row.
  const { runningUrl } = await import('../db/embedded');
  if (!config.databaseUrl && !runningUrl(config.dataDir)) return;
  try {
    const [{ withDatabase }, { recordCommand }] = await Promise.all([import('../cli/io'), import('../history')]);
    await withDatabase(config, io, async (db) => {
      await recordCommand(db, { userId: r.userId, text: r.text, status: 'refused', errorMessage: r.reason, source: 'cli' });
      return 0;
    });
  } catch (e) {
    io.stderr.write(`benchsight: (this refusal could not be recorded in the history: ${(e as Error).message})\n`);
  }
}

// (`typeof module`: in the compiled CLI, an ES module, there is none.)
if (typeof module !== 'undefined' && require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`benchsight: ${(e as Error)?.message ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
