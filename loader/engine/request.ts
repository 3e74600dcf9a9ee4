/**
 * What a caller asks of the load engine, and what it answers. Every entry point (CLI,
 * S3 loader, worker, Slack bot) builds a LoadRequest and reports a LoadResult.
 */
import type { Readable } from 'node:stream';
import type { DriftPolicy, Group, Operation } from '../warehouse';
import type { FindingsSummary } from '../quality/findings';

export type Scope =
  | { kind: 'tables'; tables: string[] }
  | { kind: 'category'; category: Group }
  /** Every table, dims kept as they are when gameId is set (facts only then). */
  | { kind: 'all' }
  /** Empty every warehouse table, then load every table from the source. */
  | { kind: 'full-refresh' };

/** One file the engine reads: a local file, an S3 object, or any stream. */
export interface SourceFile {
  table: string;
  /** How messages name it: a path, `s3://bucket/key`, ... */
  name: string;
  size?: number;
  /**
   * A new stream from the start of the file, each call: a request may read a file again
   * (a table that refused a row while being loaded straight in reruns the request with
   * that file staged), so this must not hand out one stream twice.
   */
  open(): Promise<Readable>;
}

/** Where the files of a request come from. */
export interface Source {
  describe(): string;
  /** The file for a table, or null when the source has none. */
  fileFor(table: string): Promise<SourceFile | null>;
}

export type RejectPolicy = 'reject' | 'fail';

/** Rejected rows a file may have (either bound) and the load still count as succeeded. */
export interface MaxRejects {
  count?: number;
  /** A share of the file's rows, 0..1. */
  ratio?: number;
}

/**
 * By default a file may lose a fifth of its rows to the rejects. (The real export's
 * fact_events_player loses 12.6% of game 18969's rows, all pointing to one event that
 * is not in fact_events: the known state of that data, not a surprise.)
 */
export const DEFAULT_MAX_REJECTS: MaxRejects = { ratio: 0.2 };

/** The share of a table's (or a game's) rows a replace or merge of the command language may remove unless it says "allow-shrink" (guards.ts). */
export const DEFAULT_MAX_SHRINK = 0.5;

export interface LoadRequest {
  scope: Scope;
  /** Defaults to each table's default operation. */
  operation?: Operation;
  gameId?: number;
  source: Source;
  dryRun?: boolean;
  initiatedBy: string;
  /**
   * What to do with duplicate keys within a file and rows whose relations point nowhere
   * (reject them, the default, or fail the request); and how many rejected rows of a
   * file the load may have before its outcome is `partial` (default: DEFAULT_MAX_REJECTS).
   */
  policy?: { duplicates?: RejectPolicy; orphans?: RejectPolicy; maxRejects?: MaxRejects; maxShrink?: number };
  /** Columns of a file that the table lacks: add them to the table (`--add-columns`: the drift policy's newColumns `add`). */
  unknownColumns?: 'refuse' | 'add';
  /**
   * The drift policy for this request, over each table's own (loader/warehouse: DriftPolicy;
   * `--evolve` is EVOLVE). What the load then did is in each table's `drift`.
   */
  drift?: Partial<DriftPolicy>;
  onProgress?: (p: Progress) => void;
  /** Extra context recorded with the request's history row (e.g. the S3 object). */
  context?: Record<string, unknown>;
  /** Aborting it cancels the request: everything rolls back, the history says `cancelled`. */
  signal?: AbortSignal;
}

export interface Progress {
  table: string;
  phase: 'reading' | 'applying' | 'done';
  rows: number;
  bytes: number;
  totalBytes?: number;
  elapsedMs: number;
}

export interface TableResult {
  table: string;
  operation: Operation;
  gameId: number | null;
  file: string;
  rowsInFile: number;
  /** Rows of the file that belong to another game than the request's (not touched). */
  outOfScope: number;
  inserted: number;
  updated: number;
  deleted: number;
  unchanged: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  warnings: string[];
  historyId: number;
  durationMs: number;
  /** How the file differs from its table, and what the load did about it (drift.ts). */
  drift?: TableDrift;
}

/**
 * A file against its table as it is: what differs, and what the load does (or did) about
 * it under the table's drift policy. A dry run's is the plan (`benchsight drift`); a
 * load's, what it did.
 */
export interface TableDrift {
  table: string;
  file: string;
  operation: Operation;
  policy: DriftPolicy;
  /** Columns of the file the table lacked: added (with the type they got), ignored, or refused. */
  added: { column: string; header: string; action: 'add' | 'ignore' | 'refuse'; type?: string }[];
  /** Columns the file has under another name (an alias of the declaration). */
  renamed: { header: string; column: string }[];
  /** Table columns the file lacks: NULL in the rows a replace loads; kept in the rows an upsert or merge updates. */
  dropped: { column: string; action: 'null' | 'kept' }[];
  /** A pandas index that leaked in (`row_index`): ignored. */
  pandasIndex: string[];
  /** New columns named like a key, beside the table's key. */
  keyLike: string[];
  /** The file's key, or derived from the natural key when the file has none. */
  key: { column: string; source: 'file' | 'derived'; rule?: string };
  naturalKey: string[];
  /** Columns whose values no longer fit their type: widened (a recorded change), rows rejected, or refused. */
  retyped: { column: string; from?: string; to?: string; rows?: number; line?: number; value?: string; action: 'widen' | 'reject' | 'refuse' }[];
  /** Rows of the file that are rows of the table by their natural key, under another key: they take the file's key. */
  rekeyed?: { rows: number; examples: { line: number; from: string; to: string }[] };
  /** Rows whose key another row of the table holds (a row the load keeps): rejected. */
  keyTaken?: number;
  /** Rows of the file that repeat a natural key seen before in it: rejected. */
  naturalKeyRepeats?: number;
  /** The file's rows repeat the natural key, and new columns tell them apart: the grain changed. */
  grain?: { naturalKey: string[]; extended: string[]; rows: number; action: 'evolved' | 'refused'; superseded?: number };
  /** Why the drift policy refuses the file (and what would let it load). */
  refused?: string;
}

/** Where a bad input is: enough for a person to open the file and fix it. */
export interface LoadErrorInfo {
  message: string;
  file?: string;
  table?: string;
  line?: number;
  column?: string;
  value?: string;
  hint?: string;
}

export interface LoadResult {
  requestId: string;
  historyId: number;
  /**
   * `succeeded`: committed, every check held. `partial`: committed, but rows were rejected
   * past the allowance or because parent rows they point to were rejected, or the
   * data-quality rules could not run (the warnings say which). `failed`: nothing changed.
   * `cancelled`: stopped on request (Ctrl-C): nothing changed.
   */
  status: 'succeeded' | 'partial' | 'failed' | 'cancelled';
  dryRun: boolean;
  scope: string;
  operation: string;
  gameId: number | null;
  durationMs: number;
  tables: TableResult[];
  warnings: string[];
  error?: LoadErrorInfo;
  /** The data-quality rules, run for the games the request touched after it committed. */
  findings?: FindingsSummary;
  /** A load its drift policy refused: the plan of every file (what differs, what the load would do). */
  drift?: TableDrift[];
}
