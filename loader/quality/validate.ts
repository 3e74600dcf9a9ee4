/**
 * Data-quality checks. The rules are declared once, in sql/functions/quality.sql (beside
 * the measures they read; migrate keeps quality_rules in step with it); quality_findings()
 * applies them. This module runs them and lists them.
 */
import type { Queryable } from '../db/database';
import type { Finding, Level, Severity } from './findings';

// (for loader/etl/command-extensions.ts and loader/worker/handlers.ts, which import them from here)

export interface Rule {
  rule: string;
  statName: string;
  level: Level;
  measure: string;
  check: string;
  low: number | null;
  high: number | null;
  severity: Severity;
  description: string;
}

interface FindingRow {
  rule: string;
  severity: Severity;
  game_id: number;
  level: Level;
  subject: string;
  subject_id: string | null;
  value: string | number | null;
  expected: string | number | null;
  message: string;
}

const num = (v: string | number | null): number | null => (v === null ? null : Number(v));

/** Runs every rule over the given games (all games that have facts when omitted). ERRORs first. */
export async function validate(db: Queryable, opts: { gameIds?: number[] | null } = {}): Promise<Finding[]> {
  if (opts.gameIds && opts.gameIds.length === 0) return [];
  const res = await db.query<FindingRow>('SELECT * FROM quality_findings($1::integer[])', [opts.gameIds ?? null]);
  return res.rows.map((r) => ({
    rule: r.rule,
    severity: r.severity,
    gameId: r.game_id,
    level: r.level,
    subject: r.subject,
    subjectId: r.subject_id,
    message: r.message,
    value: num(r.value),
    expected: num(r.expected),
  }));
}

export async function listRules(db: Queryable): Promise<Rule[]> {
  const res = await db.query<{
    rule: string;
    stat_name: string;
    level: Level;
    measure: string;
    check_kind: string;
    low: string | null;
    high: string | null;
    severity: Severity;
    description: string;
  }>('SELECT rule, stat_name, level, measure, check_kind, low, high, severity, description FROM quality_rules ORDER BY level, rule');
  return res.rows.map((r) => ({
    rule: r.rule,
    statName: r.stat_name,
    level: r.level,
    measure: r.measure,
    check: r.check_kind,
    low: num(r.low),
    high: num(r.high),
    severity: r.severity,
    description: r.description,
  }));
}
