/**
 * The command language, one grammar for Slack (`/benchsight ...`) and the CLI
 * (`npx benchsight ...`). Words in, a validated Command out — or an error that says
 * what was wrong and, for a typo, what was probably meant.
 */
import { z } from 'zod';
import { GROUPS, OPERATIONS, TABLE_NAMES, type Group, type Operation } from '../warehouse';
import { didYouMean } from './suggest';

const GameId = z.number().int().positive().max(2147483647);
const OperationSchema = z.enum(OPERATIONS);

export const CommandSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('load'), target: z.discriminatedUnion('type', [
    z.object({ type: z.literal('table'), table: z.enum(TABLE_NAMES as [string, ...string[]]) }),
    z.object({ type: z.literal('category'), category: z.enum(GROUPS) }),
    z.object({ type: z.literal('game') }),
    z.object({ type: z.literal('all') }),
  ]), operation: OperationSchema.optional(), gameId: GameId.optional(), dryRun: z.boolean() }),
  z.object({ kind: z.literal('full-refresh'), dryRun: z.boolean() }),
  z.object({ kind: z.literal('delete-game'), gameId: GameId, dryRun: z.boolean() }),
  z.object({ kind: z.literal('etl-queue'), gameId: GameId, priority: z.number().int().min(-100).max(100).optional() }),
  z.object({ kind: z.literal('etl-run'), queueId: z.number().int().positive().optional() }),
  z.object({ kind: z.literal('etl-status') }),
  z.object({ kind: z.literal('history'), table: z.enum(TABLE_NAMES as [string, ...string[]]).optional(), limit: z.number().int().min(1).max(200).optional() }),
  z.object({ kind: z.literal('counts') }),
  z.object({ kind: z.literal('validate'), gameId: GameId.optional() }),
  z.object({ kind: z.literal('health') }),
  z.object({ kind: z.literal('help'), topic: z.string().optional() }),
]);

export type Command = z.infer<typeof CommandSchema>;
export type ParseResult = { ok: true; command: Command } | { ok: false; error: string };

/** Every command with its syntax, what it does and an example: the help and the suggestions read this. */
export const COMMANDS = [
  { word: 'load', syntax: 'load table <table> [replace|append|upsert|merge] [game <id>]', does: 'load one table from the latest export', example: 'load table fact_events upsert game 18969', role: 'operator' },
  { word: 'load', syntax: 'load category <category> [operation] [game <id>]', does: `load a group of tables in dependency order (${GROUPS.join(', ')})`, example: 'load category stats_facts replace game 18969', role: 'operator' },
  { word: 'load', syntax: 'load game <id> [operation]', does: 'load every fact table, that game only', example: 'load game 18969 replace', role: 'operator' },
  { word: 'load', syntax: 'load all [operation]', does: 'load every table in dependency order (`load all replace` asks for confirmation)', example: 'load all upsert', role: 'operator' },
  { word: 'full-refresh', syntax: 'full-refresh', does: 'empty every table and reload everything (asks for confirmation)', example: 'full-refresh', role: 'admin' },
  { word: 'delete', syntax: 'delete game <id>', does: "delete one game's rows from every fact table (asks for confirmation)", example: 'delete game 18969', role: 'admin' },
  { word: 'etl', syntax: 'etl queue <game> [priority <n>]', does: 'queue the ETL of a tracked game (higher priority runs first)', example: 'etl queue 18969 priority 10', role: 'operator' },
  { word: 'etl', syntax: 'etl run [<queue id>]', does: 'run queued jobs now (or one job)', example: 'etl run', role: 'operator' },
  { word: 'etl', syntax: 'etl status', does: 'the queue: pending, running, failed jobs', example: 'etl status', role: 'viewer' },
  { word: 'history', syntax: 'history [<table>] [limit <n>]', does: 'recent loads and what they did', example: 'history fact_events limit 5', role: 'viewer' },
  { word: 'counts', syntax: 'counts', does: 'rows in every warehouse table', example: 'counts', role: 'viewer' },
  { word: 'validate', syntax: 'validate [game <id>]', does: 'run the data-quality rules', example: 'validate game 18969', role: 'viewer' },
  { word: 'health', syntax: 'health', does: 'database, schema version, queue and last load', example: 'health', role: 'viewer' },
  { word: 'help', syntax: 'help [<command>]', does: 'this list', example: 'help load', role: 'viewer' },
] as const;

const COMMAND_WORDS = [...new Set(COMMANDS.map((c) => c.word))];
const DRY_RUN = ['dry-run', '--dry-run'];

class SyntaxError extends Error {}

export function parseCommand(input: string): ParseResult {
  try {
    const words = tokenize(input);
    const command = CommandSchema.parse(new Parser(words).command());
    return { ok: true, command };
  } catch (err) {
    if (err instanceof SyntaxError) return { ok: false, error: err.message };
    if (err instanceof z.ZodError) return { ok: false, error: err.issues.map((i) => `${i.path.join(' ')}: ${i.message}`).join('; ') };
    throw err;
  }
}

const MAX_INPUT = 300;
const shown = (w: string) => (w.length > 40 ? `${w.slice(0, 40)}…` : w);

function tokenize(input: string): string[] {
  if (input.length > MAX_INPUT) throw new SyntaxError(`that command is ${input.length} characters long; commands are short (try \`help\`)`);
  const words = input.trim().replace(/^\/benchsight\s*/, '').split(/\s+/).filter(Boolean);
  for (const w of words) {
    const bad = [...w].find((ch) => !/[A-Za-z0-9_-]/.test(ch));
    if (bad !== undefined) {
      const code = bad.codePointAt(0)!;
      if (code > 127) {
        throw new SyntaxError(
          `"${shown(w)}" contains ${JSON.stringify(bad)} (U+${code.toString(16).toUpperCase().padStart(4, '0')}), which only looks like a plain letter or digit: type the command in plain ASCII`,
        );
      }
      throw new SyntaxError(`${JSON.stringify(bad)} in "${shown(w)}" is not part of the command language: commands are plain words and numbers (try \`help\`)`);
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
    if (w === undefined) throw new SyntaxError(`expected ${what} after "${this.words.slice(0, this.i - 1).join(' ')}"`);
    return w;
  }
  private expect(word: string, options: readonly string[], what: string): string {
    if (options.includes(word)) return word;
    throw new SyntaxError(`unknown ${what} "${shown(word)}"${didYouMean(word, options)}`);
  }
  private number(what: string, opts: { negative?: boolean } = {}): number {
    const w = this.next(what);
    if (!(opts.negative ? /^-?\d+$/ : /^\d+$/).test(w)) throw new SyntaxError(`${what} must be a whole number, not "${shown(w)}"`);
    if (w.replace('-', '').length > 10 || Math.abs(Number(w)) > 2147483647) throw new SyntaxError(`${what} ${shown(w)} is too large`);
    return Number(w);
  }
  private end(): void {
    const w = this.peek();
    if (w !== undefined) throw new SyntaxError(`unexpected "${shown(this.words.slice(this.i).join(' '))}" at the end (try \`help\`)`);
  }

  command(): unknown {
    const first = this.peek();
    if (first === undefined) return { kind: 'help' };
    this.i++;
    switch (this.expect(first, COMMAND_WORDS, 'command')) {
      case 'load':
        return this.load();
      case 'full-refresh': {
        const dryRun = this.dryRun();
        this.end();
        return { kind: 'full-refresh', dryRun };
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
          else throw new SyntaxError(`unexpected "${shown(w)}" (history takes a table and "limit <n>")`);
        }
        return { kind: 'history', table, limit };
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
    while (this.peek() !== undefined) {
      const w = this.next('an option');
      if ((OPERATIONS as readonly string[]).includes(w) && operation === undefined) operation = w as Operation;
      else if (w === 'game' && gameId === undefined && what !== 'all') gameId = this.number('the game id');
      else if (DRY_RUN.includes(w)) dryRun = true;
      else if ((OPERATIONS as readonly string[]).includes(w)) throw new SyntaxError(`two operations given ("${operation}" and "${w}"): a load takes one`);
      else if (w === 'game' && what === 'all') throw new SyntaxError('"load all" covers every game; for one game, use "load game <id>"');
      else if (w === 'game') throw new SyntaxError('the game is given twice');
      else throw new SyntaxError(`unexpected "${shown(w)}"${didYouMean(w, [...OPERATIONS, 'game', 'dry-run'])}; a load takes an operation (${OPERATIONS.join(', ')})${what === 'all' ? '' : ' and "game <id>"'}`);
    }
    return { kind: 'load', target, operation, gameId, dryRun };
  }

  private etl(): unknown {
    const sub = this.expect(this.next('queue, run or status'), ['queue', 'run', 'status'], 'etl command');
    if (sub === 'queue') {
      const gameId = this.number('the game id');
      let priority: number | undefined;
      if (this.peek() !== undefined) {
        this.expect(this.next('"priority"'), ['priority'], 'option');
        priority = this.number('the priority', { negative: true });
      }
      this.end();
      return { kind: 'etl-queue', gameId, priority };
    }
    if (sub === 'run') {
      const queueId = this.peek() !== undefined ? this.number('the queue id') : undefined;
      this.end();
      return { kind: 'etl-run', queueId };
    }
    this.end();
    return { kind: 'etl-status' };
  }
}

/** Commands that destroy data and need a confirmation first. */
export function isDestructive(c: Command): boolean {
  if ('dryRun' in c && c.dryRun) return false;
  return c.kind === 'full-refresh' || c.kind === 'delete-game' || (c.kind === 'load' && c.target.type === 'all' && c.operation === 'replace');
}

export type Role = 'viewer' | 'operator' | 'admin';

/** The least role that may run a command. */
export function requiredRole(c: Command): Role {
  if (c.kind === 'full-refresh' || c.kind === 'delete-game' || (c.kind === 'load' && isDestructive(c))) return 'admin';
  if (c.kind === 'load' || c.kind === 'etl-queue' || c.kind === 'etl-run') return 'operator';
  return 'viewer';
}

/** A short description for acknowledgements: "load of game 18969 (replace)". */
export function describeCommand(c: Command): string {
  const dry = 'dryRun' in c && c.dryRun ? ', dry run' : '';
  switch (c.kind) {
    case 'load': {
      const what = c.target.type === 'table' ? `table ${c.target.table}` : c.target.type === 'category' ? `category ${c.target.category}` : c.target.type === 'game' ? `game ${c.gameId}` : 'all tables';
      const game = c.gameId !== undefined && c.target.type !== 'game' ? `, game ${c.gameId}` : '';
      return `load of ${what}${game} (${c.operation ?? 'default operations'}${dry})`;
    }
    case 'full-refresh': return `full refresh of every table${dry}`;
    case 'delete-game': return `delete of game ${c.gameId}${dry}`;
    case 'etl-queue': return `ETL of game ${c.gameId}${c.priority !== undefined ? ` (priority ${c.priority})` : ''}`;
    case 'etl-run': return c.queueId ? `ETL job ${c.queueId}` : 'queued ETL jobs';
    case 'etl-status': return 'ETL queue status';
    case 'history': return `history${c.table ? ` of ${c.table}` : ''}`;
    case 'validate': return `validation${c.gameId ? ` of game ${c.gameId}` : ''}`;
    default: return c.kind;
  }
}

export function helpText(topic?: string): string {
  const list = topic ? COMMANDS.filter((c) => c.word === topic || c.syntax.startsWith(topic)) : COMMANDS;
  if (topic && !list.length) return `no command "${topic}"${didYouMean(topic, COMMAND_WORDS)}. Type \`help\` for the list.`;
  const lines = list.map((c) => `${c.syntax}\n    ${c.does}  (${c.role}s)\n    e.g. ${c.example}`);
  return [
    ...lines,
    '',
    `tables: ${TABLE_NAMES.join(', ')}`,
    `categories: ${GROUPS.join(', ')}`,
    `operations: ${OPERATIONS.join(', ')} (default: each table's own)`,
    'add "dry-run" to a load or delete to see what it would do without changing anything',
  ].join('\n');
}
