/**
 * Exports that change: each table's drift policy for a request (its own, under the
 * request's override), the rerun of a file whose values no longer fit their columns, and
 * the account of what a file changes (TableDrift) from its header plan (header.ts) and what
 * bs_apply found (sql/functions/apply.sql, drift.sql). A dry run's account is the plan; a
 * load's, what it did.
 */
import { pgErrorFields } from '../db/database';
import { tableNamed, type DriftPolicy, type Operation } from '../warehouse';
import type { LoadError } from './errors';
import type { HeaderPlan } from './header';
import type { LoadRequest, TableDrift } from './request';

/** The drift policy of `table` for this request: the table's own, then `--add-columns`, then the request's override. */
export function policyFor(req: Pick<LoadRequest, 'unknownColumns' | 'drift'>, table: string): DriftPolicy {
  const override = Object.fromEntries(Object.entries(req.drift ?? {}).filter(([, v]) => v !== undefined)) as Partial<DriftPolicy>;
  return { ...tableNamed(table).drift, ...(req.unknownColumns === 'add' ? { newColumns: 'add' as const } : {}), ...override };
}

/**
 * A file whose reader met a value its column's type does not take, in a table whose
 * policy widens the column or rejects the row (or in a plan): the request runs again with
 * the file staged as text, and bs_apply decides per column.
 */
export class Retype extends Error {
  constructor(readonly table: string) {
    super(`${table}: read again as text (a value no longer fits its column)`);
  }
}

/** The refusal of a drift policy (its hint names the option that lets the file load). */
export function isDriftRefusal(e: LoadError): boolean {
  return Boolean(e.info.hint?.includes('--evolve'));
}

/** A direct load whose natural-key index could not be built again: the file repeats a natural key. Read it again staged. */
export function repeatsNaturalKey(err: unknown): boolean {
  const f = pgErrorFields(err);
  return f?.code === '23505' && /_natural_key\b/.test(`${f.message ?? ''} ${f.detail ?? ''}`);
}

/** What bs_apply says of a file's drift (its JSON's `drift`). */
export interface SqlDrift {
  natural_key?: string[];
  key_derived?: boolean;
  widened?: { column: string; from: string; to: string; rows: number; line: number; value: string }[];
  misfits_rejected?: number;
  misfits_refused?: { column: string; type: string; rows: number; line: number; value: string }[];
  rekeyed?: number;
  rekeyed_examples?: { line: number; from: string; to: string }[];
  key_taken?: number;
  natural_key_repeats?: number;
  grain?: { natural_key: string[]; extended: string[]; rows: number; action: 'evolved' | 'refused'; superseded?: number };
}

export interface DriftInputs {
  table: string;
  file: string;
  operation: Operation;
  policy: DriftPolicy;
  header: HeaderPlan;
  /** Types of the columns the load added (bs_add_columns). */
  addedTypes: Record<string, string>;
  key: string;
  keyRule: string | null;
  naturalKey: string[];
  sql?: SqlDrift;
  /** bs_apply's refusal (a plan's), besides the header's. */
  refused?: string;
}

export function tableDrift(d: DriftInputs): TableDrift {
  const s = d.sql ?? {};
  const kept = d.operation === 'upsert' || d.operation === 'merge';
  const retyped: TableDrift['retyped'] = [
    ...(s.widened ?? []).map((w) => ({ column: w.column, from: w.from, to: w.to, rows: w.rows, line: w.line, value: w.value, action: 'widen' as const })),
    ...(s.misfits_refused ?? []).map((w) => ({ column: w.column, from: w.type, rows: w.rows, line: w.line, value: w.value, action: 'refuse' as const })),
  ];
  if (s.misfits_rejected) retyped.push({ column: '(rows rejected)', rows: s.misfits_rejected, action: 'reject' });
  const refused = [d.header.refused, d.refused].filter(Boolean).join('; ');
  return {
    table: d.table,
    file: d.file,
    operation: d.operation,
    policy: d.policy,
    added: [
      ...d.header.added.map((c) => ({
        column: c.name,
        header: c.header,
        action: 'add' as const,
        ...(d.addedTypes[c.name] ? { type: d.addedTypes[c.name] } : {}),
      })),
      ...d.header.ignored
        .filter((c) => c.why !== 'pandas index')
        .map((c) => ({ column: c.name, header: c.header, action: c.why === 'refused' ? ('refuse' as const) : ('ignore' as const) })),
    ],
    renamed: d.header.renamed.map((r) => ({ header: r.header, column: r.name })),
    dropped: d.header.absent.map((column) => ({ column, action: kept ? ('kept' as const) : ('null' as const) })),
    pandasIndex: d.header.ignored.filter((c) => c.why === 'pandas index').map((c) => c.name),
    keyLike: d.header.keyLike,
    key: d.header.keyDerived ? { column: d.key, source: 'derived', ...(d.keyRule ? { rule: d.keyRule } : {}) } : { column: d.key, source: 'file' },
    naturalKey: s.grain?.action === 'evolved' ? s.grain.extended : (s.natural_key ?? d.naturalKey),
    retyped,
    ...(s.rekeyed ? { rekeyed: { rows: s.rekeyed, examples: s.rekeyed_examples ?? [] } } : {}),
    ...(s.key_taken ? { keyTaken: s.key_taken } : {}),
    ...(s.natural_key_repeats ? { naturalKeyRepeats: s.natural_key_repeats } : {}),
    ...(s.grain
      ? {
          grain: {
            naturalKey: s.grain.natural_key,
            extended: s.grain.extended,
            rows: Number(s.grain.rows),
            action: s.grain.action,
            ...(s.grain.superseded ? { superseded: Number(s.grain.superseded) } : {}),
          },
        }
      : {}),
    ...(refused ? { refused } : {}),
  };
}

/** Whether a file changes anything about its table (a plan with nothing to say says so). */
export function hasDrift(t: TableDrift): boolean {
  return Boolean(
    t.added.length ||
      t.renamed.length ||
      t.dropped.length ||
      t.pandasIndex.length ||
      t.key.source === 'derived' ||
      t.retyped.length ||
      t.rekeyed ||
      t.keyTaken ||
      t.naturalKeyRepeats ||
      t.grain ||
      t.refused,
  );
}
