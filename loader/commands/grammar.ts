/**
 * The command language, one grammar for Slack (`/benchsight ...`) and the CLI
 * (`npx benchsight ...`). Words in, a validated Command out — or an error that says
 * what was wrong and, for a typo, what was probably meant.
 */
import { z } from 'zod';
import {
  EVOLVE,
  GRAIN_POLICIES,
  GROUPS,
  MISFIT_POLICIES,
  NEW_COLUMN_POLICIES,
  OPERATIONS,
  TABLE_NAMES,
  WAREHOUSE,
  tablesOf,
  type DriftPolicy,
  type Group,
  type Operation,
} from '../warehouse';
import { didYouMean } from './suggest';

const GameId = z.number().int().positive().max(2147483647);
const OperationSchema = z.enum(OPERATIONS);
/** A load's drift policy, over each table's own (`--evolve`, `--new-columns add` ...). */
const DriftOverride = z.object({ newColumns: z.enum(NEW_COLUMN_POLICIES), misfits: z.enum(MISFIT_POLICIES), grain: z.enum(GRAIN_POLICIES) }).partial();
const LoadTarget = z.discriminatedUnion('type', [
  z.object({ type: z.literal('table'), table: z.enum(TABLE_NAMES as [string, ...string[]]) }),
  z.object({ type: z.literal('category'), category: z.enum(GROUPS) }),
  z.object({ type: z.literal('game') }),
  z.object({ type: z.literal('all') }),
]);

export const CommandSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('load'),
    target: z.discriminatedUnion('type', [
      z.object({ type: z.literal('table'), table: z.enum(TABLE_NAMES as [string, ...string[]]) }),
      z.object({ type: z.literal('category'), category: z.enum(GROUPS) }),
      z.object({ type: z.literal('game') }),
      z.object({ type: z.literal('all') }),
    ]),
    operation: OperationSchema.optional(),
    gameId: GameId.optional(),
    dryRun: z.boolean(),
    /** Let a replace or merge remove more than half of a table's rows (the engine refuses that otherwise). */
    allowShrink: z.boolean().optional(),
    drift: DriftOverride.optional(),
  }),
  // The drift plan: a dry run of the load that says how the files differ from their tables.
  z.object({ kind: z.literal('drift'), target: LoadTarget, operation: OperationSchema.optional(), gameId: GameId.optional(), drift: DriftOverride.optional() }),
  z.object({
    kind: z.literal('schema-changes'),
    table: z.enum(TABLE_NAMES as [string, ...string[]]).optional(),
    limit: z.number().int().min(1).max(500).optional(),
  }),
  z.object({ kind: z.literal('schema-diff') }),
  z.object({ kind: z.literal('full-refresh'), dryRun: z.boolean(), allowShrink: z.boolean().optional() }),
  z.object({ kind: z.literal('delete-game'), gameId: GameId, dryRun: z.boolean() }),
  // force: the live ETL replaces even a game's rows the team's full ETL produced (etl_game_provenance), which it keeps otherwise.
  z.object({ kind: z.literal('etl-queue'), gameId: GameId, priority: z.number().int().min(-100).max(100).optional(), force: z.boolean().optional() }),
  z.object({ kind: z.literal('etl-run'), queueId: z.number().int().positive().optional(), force: z.boolean().optional() }),
  z.object({ kind: z.literal('etl-status') }),
  z.object({ kind: z.literal('etl-log'), jobId: z.number().int().positive(), tail: z.number().int().min(1).max(100000).optional() }),
  z.object({ kind: z.literal('history'), table: z.enum(TABLE_NAMES as [string, ...string[]]).optional(), limit: z.number().int().min(1).max(200).optional() }),
  z.object({ kind: z.literal('counts') }),
  z.object({
    kind: z.literal('rejects'),
    historyId: z.number().int().positive(),
    table: z.enum(TABLE_NAMES as [string, ...string[]]).optional(),
    limit: z.number().int().min(1).max(200).optional(),
  }),
  z.object({ kind: z.literal('validate'), gameId: GameId.optional() }),
  z.object({ kind: z.literal('health') }),
  z.object({ kind: z.literal('help'), topic: z.string().optional() }),
]);

export type Command = z.infer<typeof CommandSchema>;
export type ParseResult = { ok: true; command: Command } | { ok: false; error: string };

/**
 * Every command with its syntax, what it does, an example, the least role that runs it,
 * and whether it asks for confirmation (then it needs an admin): the help and the
 * suggestions read this; isDestructive() and requiredRole() decide for a parsed command.
 */
export const COMMANDS: readonly { word: string; syntax: string; does: string; example: string; role: Role; asks?: 'always' | 'when it deletes rows' }[] = [
  {
    word: 'load',
    syntax: 'load table <table> [replace|append|upsert|merge] [game <id>]',
    does: 'load one table from the latest export',
    example: 'load table fact_events upsert game 18969',
    role: 'operator',
    asks: 'when it deletes rows',
  },
  {
    word: 'load',
    syntax: 'load category <category> [operation] [game <id>]',
    does: `load a group of tables in dependency order (${GROUPS.join(', ')})`,
    example: 'load category core_facts upsert game 18969',
    role: 'operator',
    asks: 'when it deletes rows',
  },
  {
    word: 'load',
    syntax: 'load game <id> [operation]',
    does: 'load every fact table, that game only',
    example: 'load game 18969 upsert',
    role: 'operator',
    asks: 'when it deletes rows',
  },
  {
    word: 'load',
    syntax: 'load all [operation]',
    does: 'load every table in dependency order',
    example: 'load all upsert',
    role: 'operator',
    asks: 'when it deletes rows',
  },
  {
    word: 'drift',
    syntax: 'drift [table <table>|category <category>|game <id>|all] [operation]',
    does: 'the drift plan: how the latest exports differ from their tables (columns added, dropped, renamed, retyped, key changes, natural-key repeats) and what the load would do, under the drift policy',
    example: 'drift game 18969',
    role: 'operator',
  },
  {
    word: 'schema',
    syntax: 'schema changes [<table>] [limit <n>]',
    does: 'the schema changes loads applied: who, when, which file, what',
    example: 'schema changes fact_goalie_game_stats',
    role: 'viewer',
  },
  {
    word: 'schema',
    syntax: 'schema diff',
    does: 'the declaration change (or migration) that makes the code and the database agree',
    example: 'schema diff',
    role: 'viewer',
  },
  { word: 'full-refresh', syntax: 'full-refresh', does: 'empty every table and reload everything', example: 'full-refresh', role: 'admin', asks: 'always' },
  {
    word: 'delete',
    syntax: 'delete game <id>',
    does: "delete one game's rows from every fact table",
    example: 'delete game 18969',
    role: 'admin',
    asks: 'always',
  },
  {
    word: 'etl',
    syntax: 'etl queue <game> [priority <n>] [--force]',
    does: "queue the ETL of a tracked game (higher priority runs first); --force: replace even the game's rows the team's full ETL loaded (kept otherwise; admins, asks first)",
    example: 'etl queue 18969 priority 10',
    role: 'operator',
  },
  {
    word: 'etl',
    syntax: 'etl run [<queue id>] [--force]',
    does: "run queued jobs now (or one job); --force: the live ETL replaces even rows the team's full ETL loaded (admins, asks first)",
    example: 'etl run',
    role: 'operator',
  },
  {
    word: 'etl',
    syntax: 'etl status',
    does: 'the queue: pending, running, failed jobs (and the step a pipeline job failed at)',
    example: 'etl status',
    role: 'viewer',
  },
  {
    word: 'etl',
    syntax: 'etl log <job> [tail <n>]',
    does: "a job's log: what each step of the ETL pipeline wrote (stdout, stderr), and the load of its export",
    example: 'etl log 12 tail 50',
    role: 'viewer',
  },
  { word: 'history', syntax: 'history [<table>] [limit <n>]', does: 'recent loads and what they did', example: 'history fact_events limit 5', role: 'viewer' },
  {
    word: 'rejects',
    syntax: 'rejects <history id> [<table>] [limit <n>]',
    does: 'the rows a load rejected: line, reason and the row as read (the id is the one `history` shows)',
    example: 'rejects 42 fact_events_player limit 5',
    role: 'viewer',
  },
  { word: 'counts', syntax: 'counts', does: 'rows in every warehouse table', example: 'counts', role: 'viewer' },
  { word: 'validate', syntax: 'validate [game <id>]', does: 'run the data-quality rules', example: 'validate game 18969', role: 'viewer' },
  { word: 'health', syntax: 'health', does: 'database, schema version, queue and last load', example: 'health', role: 'viewer' },
  { word: 'help', syntax: 'help [<command>]', does: 'this list', example: 'help load', role: 'viewer' },
];

const COMMAND_WORDS = [...new Set(COMMANDS.map((c) => c.word))];
const DRIFT_WORDS = ['--evolve', '--new-columns', '--misfits', '--grain'];
const DRIFT_OPTIONS_HELP = `--evolve, or --new-columns ${NEW_COLUMN_POLICIES.join('|')}, --misfits ${MISFIT_POLICIES.join('|')}, --grain ${GRAIN_POLICIES.join('|')}`;
const DRY_RUN = ['dry-run', '--dry-run'];
const ALLOW_SHRINK = ['allow-shrink', '--allow-shrink'];
const FORCE = ['force', '--force'];

class CommandSyntaxError extends Error {}

export function parseCommand(input: string): ParseResult {
  try {
    const words = tokenize(input);
    const command = CommandSchema.parse(new Parser(words).command());
    return { ok: true, command };
  } catch (err) {
    if (err instanceof CommandSyntaxError) return { ok: false, error: err.message };
    if (err instanceof z.ZodError) return { ok: false, error: err.issues.map((i) => `${i.path.join(' ')}: ${i.message}`).join('; ') };
    throw err;
  }
}

const MAX_INPUT = 300;
const shown = (w: string) => (w.length > 40 ? `${w.slice(0, 40)}…` : w);

function tokenize(input: string): string[] {
  if (input.length > MAX_INPUT) throw new CommandSyntaxError(`that command is ${input.length} characters long; commands are short (try \`help\`)`);
  const words = input
    .trim()
    .replace(/^\/benchsight\s*/, '')
    .split(/\s+/)
    .filter(Boolean);
  for (const w of words) {
    const bad = [...w].find((ch) => !/[A-Za-z0-9_-]/.test(ch));
    if (bad !== undefined) {
      const code = bad.codePointAt(0)!;
      if (code > 127) {
        throw new CommandSyntaxError(
          `"${shown(w)}" contains ${JSON.stringify(bad)} (U+${code.toString(16).toUpperCase().padStart(4, '0')}), which only looks like a plain letter or digit: type the command in plain ASCII`,
        );
      }
      throw new CommandSyntaxError(
        `${JSON.stringify(bad)} in "${shown(w)}" is not part of the command language: commands are plain words and numbers (try \`help\`)`,
      );
    }
  }
  return words.map((w) => w.toLowerCase());
}

class Parser {
  private i = 0;
  constructor(private readonly words: string[]) {}

  private peek(): string | undefined {
    return this.words[this.i];
  }
  private next(what: string): string {
    const w = this.words[this.i++];
    if (w === undefined) throw new CommandSyntaxError(`expected ${what} after "${this.words.slice(0, this.i - 1).join(' ')}"`);
    return w;
  }
  private expect(word: string, options: readonly string[], what: string): string {
    if (options.includes(word)) return word;
    throw new CommandSyntaxError(`unknown ${what} "${shown(word)}"${didYouMean(word, options)}`);
  }
  private number(what: string, opts: { negative?: boolean } = {}): number {
    const w = this.next(what);
    if (!(opts.negative ? /^-?\d+$/ : /^\d+$/).test(w)) throw new CommandSyntaxError(`${what} must be a whole number, not "${shown(w)}"`);
    if (w.replace('-', '').length > 10 || Math.abs(Number(w)) > 2147483647) throw new CommandSyntaxError(`${what} ${shown(w)} is too large`);
    return Number(w);
  }
  private end(): void {
    const w = this.peek();
    if (w !== undefined) throw new CommandSyntaxError(`unexpected "${shown(this.words.slice(this.i).join(' '))}" at the end (try \`help\`)`);
  }

  command(): unknown {
    const first = this.peek();
    if (first === undefined) return { kind: 'help' };
    this.i++;
    switch (this.expect(first, COMMAND_WORDS, 'command')) {
      case 'load':
        return this.load();
      case 'drift': {
        if (this.peek() === undefined) return { kind: 'drift', target: { type: 'all' } };
        const { target, operation, gameId, drift, dryRun } = this.load() as Record<string, unknown>;
        if (dryRun) throw new CommandSyntaxError('a drift plan is a dry run already: drop "dry-run"');
        return { kind: 'drift', target, operation, gameId, drift };
      }
      case 'schema': {
        const sub = this.expect(this.next('changes or diff'), ['changes', 'diff'], 'schema command');
        if (sub === 'diff') {
          this.end();
          return { kind: 'schema-diff' };
        }
        let table: string | undefined;
        let limit: number | undefined;
        while (this.peek() !== undefined) {
          const w = this.next('an option');
          if (w === 'limit') limit = this.number('the limit');
          else if (table === undefined) table = this.expect(w, TABLE_NAMES, 'table');
          else throw new CommandSyntaxError(`unexpected "${shown(w)}" (schema changes takes a table and "limit <n>")`);
        }
        return { kind: 'schema-changes', table, limit };
      }
      case 'full-refresh': {
        let dryRun = false;
        let allowShrink: true | undefined;
        while (this.peek() !== undefined) {
          const w = this.next('an option');
          if (DRY_RUN.includes(w)) dryRun = true;
          else if (ALLOW_SHRINK.includes(w)) allowShrink = true;
          else
            throw new CommandSyntaxError(
              `unexpected "${shown(w)}"${didYouMean(w, ['dry-run', 'allow-shrink'])} (full-refresh takes "dry-run" and "allow-shrink")`,
            );
        }
        return { kind: 'full-refresh', dryRun, allowShrink };
      }
      case 'delete': {
        this.expect(this.next('"game"'), ['game'], 'thing to delete');
        const gameId = this.number('the game id');
        const dryRun = this.dryRun();
        this.end();
        return { kind: 'delete-game', gameId, dryRun };
      }
      case 'etl':
        return this.etl();
      case 'history': {
        let table: string | undefined;
        let limit: number | undefined;
        while (this.peek() !== undefined) {
          const w = this.next('an option');
          if (w === 'limit') limit = this.number('the limit');
          else if (table === undefined) table = this.expect(w, TABLE_NAMES, 'table');
          else throw new CommandSyntaxError(`unexpected "${shown(w)}" (history takes a table and "limit <n>")`);
        }
        return { kind: 'history', table, limit };
      }
      case 'rejects': {
        const historyId = this.number('the history id (`history` shows it)');
        let table: string | undefined;
        let limit: number | undefined;
        while (this.peek() !== undefined) {
          const w = this.next('an option');
          if (w === 'limit' && limit === undefined) limit = this.number('the limit');
          else if (table === undefined && w !== 'limit') table = this.expect(w, TABLE_NAMES, 'table');
          else throw new CommandSyntaxError(`unexpected "${shown(w)}" (rejects takes a history id, a table and "limit <n>")`);
        }
        return { kind: 'rejects', historyId, table, limit };
      }
      case 'validate': {
        let gameId: number | undefined;
        if (this.peek() !== undefined) {
          this.expect(this.next('"game"'), ['game'], 'option');
          gameId = this.number('the game id');
        }
        this.end();
        return { kind: 'validate', gameId };
      }
      case 'help': {
        const topic = this.peek();
        if (topic !== undefined) this.i++;
        this.end();
        return { kind: 'help', topic };
      }
      default: {
        const kind = first;
        this.end();
        return { kind };
      }
    }
  }

  private dryRun(): boolean {
    if (this.peek() !== undefined && DRY_RUN.includes(this.peek()!)) {
      this.i++;
      return true;
    }
    return false;
  }

  private load(): unknown {
    const what = this.expect(this.next('what to load (table, category, game or all)'), ['table', 'category', 'game', 'all'], 'thing to load');
    let target: unknown;
    let gameId: number | undefined;
    if (what === 'table') target = { type: 'table', table: this.expect(this.next('a table name'), TABLE_NAMES, 'table') };
    else if (what === 'category') target = { type: 'category', category: this.expect(this.next('a category'), GROUPS, 'category') as Group };
    else if (what === 'game') {
      target = { type: 'game' };
      gameId = this.number('the game id');
    } else target = { type: 'all' };
    let operation: Operation | undefined;
    let dryRun = false;
    let allowShrink: true | undefined;
    let drift: Partial<DriftPolicy> | undefined;
    while (this.peek() !== undefined) {
      const w = this.next('an option');
      const option = this.driftOption(w);
      if (option) drift = { ...drift, ...option };
      else if ((OPERATIONS as readonly string[]).includes(w) && operation === undefined) operation = w as Operation;
      else if (w === 'game' && gameId === undefined && what !== 'all') gameId = this.number('the game id');
      else if (DRY_RUN.includes(w)) dryRun = true;
      else if (ALLOW_SHRINK.includes(w)) allowShrink = true;
      else if ((OPERATIONS as readonly string[]).includes(w))
        throw new CommandSyntaxError(`two operations given ("${operation}" and "${w}"): a load takes one`);
      else if (w === 'game' && what === 'all') throw new CommandSyntaxError('"load all" covers every game; for one game, use "load game <id>"');
      else if (w === 'game') throw new CommandSyntaxError('the game is given twice');
      else
        throw new CommandSyntaxError(
          `unexpected "${shown(w)}"${didYouMean(w, [...OPERATIONS, 'game', 'dry-run', 'allow-shrink', ...DRIFT_WORDS])}; a load takes an operation (${OPERATIONS.join(', ')})${what === 'all' ? '' : ' and "game <id>"'}, "dry-run", "allow-shrink" and drift options (${DRIFT_OPTIONS_HELP})`,
        );
    }
    return { kind: 'load', target, operation, gameId, dryRun, allowShrink, ...(drift ? { drift } : {}) };
  }

  /** `--evolve`, `--new-columns <policy>`, `--misfits <policy>`, `--grain <policy>` (the dashes optional). */
  private driftOption(w: string): Partial<DriftPolicy> | undefined {
    const word = w.replace(/^--/, '');
    if (word === 'evolve') return { ...EVOLVE };
    const choices: Record<string, readonly string[]> = { 'new-columns': NEW_COLUMN_POLICIES, misfits: MISFIT_POLICIES, grain: GRAIN_POLICIES };
    if (!(word in choices)) return undefined;
    const value = this.expect(this.next(`a policy for ${word} (${choices[word]!.join('|')})`), choices[word]!, `${word} policy`);
    return { [word === 'new-columns' ? 'newColumns' : word]: value } as Partial<DriftPolicy>;
  }

  private etl(): unknown {
    const sub = this.expect(this.next('queue, run, status or log'), ['queue', 'run', 'status', 'log'], 'etl command');
    const force = () => {
      if (this.peek() !== undefined && FORCE.includes(this.peek()!)) {
        this.i++;
        return true;
      }
      return undefined;
    };
    if (sub === 'queue') {
      const gameId = this.number('the game id');
      let priority: number | undefined;
      let forced = force();
      if (this.peek() !== undefined) {
        this.expect(this.next('"priority" or "--force"'), ['priority'], 'option');
        priority = this.number('the priority', { negative: true });
      }
      forced ??= force();
      this.end();
      return { kind: 'etl-queue', gameId, priority, ...(forced ? { force: true } : {}) };
    }
    if (sub === 'run') {
      let forced = force();
      const queueId = this.peek() !== undefined ? this.number('the queue id') : undefined;
      forced ??= force();
      this.end();
      return { kind: 'etl-run', queueId, ...(forced ? { force: true } : {}) };
    }
    if (sub === 'log') {
      const jobId = this.number('the job id');
      let tail: number | undefined;
      if (this.peek() !== undefined) {
        this.expect(this.next('"tail"'), ['tail'], 'option');
        tail = this.number('the number of lines');
      }
      this.end();
      return { kind: 'etl-log', jobId, tail };
    }
    this.end();
    return { kind: 'etl-status' };
  }
}

/**
 * The command that loads these tables again with --evolve: what a refused drop's Slack
 * button offers (loader/s3/process-event.ts). One table, a category or everything,
 * whichever is the least that covers the tables (its other tables are loaded from the
 * bucket's latest exports too); parsed back by parseCommand, so it is the one grammar's.
 */
export function evolveCommandFor(a: { tables: string[]; operation?: Operation; gameId?: number }): string {
  const want = new Set(a.tables);
  const covers = (g: Group) => tablesOf(g).length >= want.size && [...want].every((t) => tablesOf(g).some((d) => d.name === t));
  const smallest = [...GROUPS].filter(covers).sort((x, y) => tablesOf(x).length - tablesOf(y).length)[0];
  const target =
    want.size === 1
      ? `table ${a.tables[0]}`
      : smallest && smallest !== 'all' && tablesOf(smallest).length < TABLE_NAMES.length
        ? `category ${smallest}`
        : 'all';
  const game = a.gameId !== undefined && target !== 'all' ? ` game ${a.gameId}` : '';
  return `load ${target}${a.operation ? ` ${a.operation}` : ''}${game} --evolve`;
}

/** Tables whose default operation is replace: a load of them with no operation given deletes rows. */
const REPLACED_BY_DEFAULT = WAREHOUSE.filter((t) => t.defaultOperation === 'replace').map((t) => t.name);

/** The tables a load command touches. */
export function tablesLoaded(c: Extract<Command, { kind: 'load' }>): string[] {
  switch (c.target.type) {
    case 'table':
      return [c.target.table];
    case 'category':
      return tablesOf(c.target.category).map((t) => t.name);
    case 'game':
      return tablesOf('all_facts').map((t) => t.name);
    case 'all':
      return [...TABLE_NAMES];
  }
}

/**
 * Whether the command deletes rows that it does not put back, dry run or not:
 * full-refresh, delete game, and every load that replaces or merges — the operation
 * given, or, with none given, the default operation of one of its tables.
 */
export function deletesRows(c: Command): boolean {
  if (c.kind === 'full-refresh' || c.kind === 'delete-game') return true;
  // A forced ETL replaces the game's rows the team's full ETL loaded with the live ETL's.
  if ((c.kind === 'etl-queue' || c.kind === 'etl-run') && c.force) return true;
  if (c.kind !== 'load') return false;
  if (c.operation) return c.operation === 'replace' || c.operation === 'merge';
  return tablesLoaded(c).some((t) => REPLACED_BY_DEFAULT.includes(t));
}

/**
 * Commands that destroy data and need a confirmation first (Slack: the buttons; the CLI:
 * the terminal's prompt or --yes). A dry run changes nothing, so it never asks.
 */
export function isDestructive(c: Command): boolean {
  if ('dryRun' in c && c.dryRun) return false;
  return deletesRows(c);
}

export type Role = 'viewer' | 'operator' | 'admin';

/** The least role that may run a command: a command that deletes rows needs an admin, also to plan it (dry run). */
export function requiredRole(c: Command): Role {
  if (deletesRows(c)) return 'admin';
  // A load whose drift policy changes the schema (adds columns, widens them, extends a natural key).
  if (c.kind === 'load' && evolves(c)) return 'admin';
  if (c.kind === 'drift') return 'operator';
  if (c.kind === 'load' || c.kind === 'etl-queue' || c.kind === 'etl-run') return 'operator';
  return 'viewer';
}

/** Whether a load's own drift policy lets it change the schema (admins only). */
export function evolves(c: Extract<Command, { kind: 'load' }>): boolean {
  const d = c.drift;
  return Boolean(d && (d.newColumns === 'add' || d.misfits === 'widen' || d.grain === 'evolve'));
}

/** What the help says about confirmations, from the same rule and the warehouse declaration. */
export const CONFIRMATION_HELP =
  'asks for confirmation first, and only admins may run it (a dry-run asks nothing and changes nothing): ' +
  'every command that deletes rows the files do not put back — full-refresh, delete game, any load with replace or merge, ' +
  `and a load with no operation that includes a table whose default is replace (${REPLACED_BY_DEFAULT.join(', ')}): ` +
  `load game <id>, load all, load category ${GROUPS.filter((g) => tablesOf(g).some((t) => REPLACED_BY_DEFAULT.includes(t.name))).join('|')}`;

/** A short description for acknowledgements: "load of game 18969 (replace)". */
export function describeCommand(c: Command): string {
  const dry = 'dryRun' in c && c.dryRun ? ', dry run' : '';
  switch (c.kind) {
    case 'load': {
      const what =
        c.target.type === 'table'
          ? `table ${c.target.table}`
          : c.target.type === 'category'
            ? `category ${c.target.category}`
            : c.target.type === 'game'
              ? `game ${c.gameId}`
              : 'all tables';
      const game = c.gameId !== undefined && c.target.type !== 'game' ? `, game ${c.gameId}` : '';
      const drift = c.drift ? `, ${describeDrift(c.drift)}` : '';
      return `load of ${what}${game} (${c.operation ?? 'default operations'}${dry}${drift})`;
    }
    case 'drift':
      return `drift plan${c.target.type === 'all' ? '' : ` of ${c.target.type === 'table' ? c.target.table : c.target.type === 'category' ? c.target.category : `game ${c.gameId}`}`}`;
    case 'schema-changes':
      return `schema changes${c.table ? ` of ${c.table}` : ''}`;
    case 'schema-diff':
      return 'schema diff';
    case 'full-refresh':
      return `full refresh of every table${dry}`;
    case 'delete-game':
      return `delete of game ${c.gameId}${dry}`;
    case 'etl-queue':
      return `ETL of game ${c.gameId}${c.priority !== undefined ? ` (priority ${c.priority})` : ''}${c.force ? ", forced over the full ETL's rows" : ''}`;
    case 'etl-run':
      return `${c.queueId ? `ETL job ${c.queueId}` : 'queued ETL jobs'}${c.force ? ", forced over the full ETL's rows" : ''}`;
    case 'etl-status':
      return 'ETL queue status';
    case 'etl-log':
      return `log of ETL job ${c.jobId}`;
    case 'history':
      return `history${c.table ? ` of ${c.table}` : ''}`;
    case 'validate':
      return `validation${c.gameId ? ` of game ${c.gameId}` : ''}`;
    case 'rejects':
      return `rejects of #${c.historyId}${c.table ? ` (${c.table})` : ''}`;
    default:
      return c.kind;
  }
}

export function helpText(topic?: string): string {
  const list = topic ? COMMANDS.filter((c) => c.word === topic || c.syntax.startsWith(topic)) : COMMANDS;
  if (topic && !list.length) return `no command "${topic}"${didYouMean(topic, COMMAND_WORDS)}. Type \`help\` for the list.`;
  const who = (c: (typeof COMMANDS)[number]) =>
    c.asks === 'always' ? `${c.role}s; asks first` : c.asks ? `${c.role}s; ${c.asks}: admins, after a confirmation (see below)` : `${c.role}s`;
  const lines = list.map((c) => `${c.syntax}\n    ${c.does}  (${who(c)})\n    e.g. ${c.example}`);
  return [
    ...lines,
    '',
    `tables: ${TABLE_NAMES.join(', ')}`,
    `categories: ${GROUPS.join(', ')}`,
    `operations: ${OPERATIONS.join(', ')} (default: each table's own)`,
    'add "dry-run" to a load or delete to see what it would do without changing anything',
    'a replace or merge that would remove more than half of a table\'s rows is refused: add "allow-shrink" when that is what you want',
    `a changed export (new, dropped, renamed or retyped columns, another key format, a finer grain) loads under each table's drift policy; a load or drift takes ${DRIFT_OPTIONS_HELP} (--evolve: admins only)`,
    CONFIRMATION_HELP,
  ].join('\n');
}

/** `--evolve`, or the policies given. */
export function describeDrift(d: Partial<DriftPolicy>): string {
  if (d.newColumns === EVOLVE.newColumns && d.misfits === EVOLVE.misfits && d.grain === EVOLVE.grain) return '--evolve';
  return Object.entries(d)
    .map(([k, v]) => `--${k === 'newColumns' ? 'new-columns' : k} ${v}`)
    .join(' ');
}
