/**
 * What the bot's listeners (commands.ts, actions.ts) work with: the settings, the
 * database, the dispatcher of slow commands, the ETL's commands, and a few knobs the
 * tests turn. app.ts fills in the defaults.
 */
import type { Extensions } from '../loader/commands/execute';
import type { Database } from '../loader/db/database';
import { CommandLog } from './audit';
import type { BotConfig } from './config';
import type { JobDispatcher } from './dispatcher';
import { botLog } from './log';

export interface BotDeps {
  config: BotConfig;
  db: Database;
  dispatcher: JobDispatcher;
  /** ETL and data-quality commands, plugged in by their modules (absent: "not available here"). */
  extensions?: Extensions;
  /** A fast command still running after this long answers "working on it" and posts its result later. */
  answerWithinMs: number;
  now: () => number;
  log: (line: string) => void;
  fetch?: typeof fetch;
  /** Where records written after the answer go (batched). */
  commandLog: CommandLog;
}

type Defaulted = 'answerWithinMs' | 'now' | 'log' | 'commandLog';
export type BotOptions = Omit<BotDeps, Defaulted> & Partial<Pick<BotDeps, Defaulted>>;

export function botDeps(o: BotOptions): BotDeps {
  const given = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as BotOptions;
  return { answerWithinMs: 2000, now: Date.now, log: (l) => botLog(l), commandLog: new CommandLog(o.db), ...given };
}
