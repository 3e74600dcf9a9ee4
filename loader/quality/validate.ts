/**
 * Data-quality checks. The rules are declared once, in the database (quality_rules, filled
 * by sql/migrations/000005_etl.sql from the ETL's data dictionary); quality_findings()
 * applies them. This module runs them and shapes the answer.
 */
import type { Queryable } from '../db/database';
import * as history from '../history';

export type Severity = 'ERROR' | 'WARNING';
export type Level = 'player' | 'team' | 'goalie' | 'game';

export interface Finding {
  rule: string;
  severity: Severity;
  gameId: number;
  /** What the finding is about: a player, a team, a goalie, or the game. */
  level: Level;
  /** Its name: `Sam Downs (P100001)`, `Platinum (home)`, `game 18969`. */
  subject: string;
  /** player_id, team_id, or the game id. */
  subjectId: string | null;
  /** Names the game and both values: `game 18969: Platinum (home) scored 5 goals ..., but the official score ... is 4`. */
  message: string;
  value: number | null;
  expected: number | null;
}

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

/**
 * For the load engine and the ETL, after they changed data: runs the rules for the games
 * they touched (null = every game, e.g. after a full load) and, given the history row of
 * the request, records the findings in its `warnings.findings`.
 */
export async function validateTouchedGames(
  db: Queryable,
  gameIds: number[] | null,
  opts: { historyId?: number } = {},
): Promise<Finding[]> {
  const findings = await validate(db, { gameIds });
  if (opts.historyId !== undefined) {
    await history.addWarnings(db, opts.historyId, { findings: summarizeFindings(findings) });
  }
  return findings;
}

export interface FindingsSummary {
  errors: number;
  warnings: number;
  /** The findings, ERRORs first, at most `limit` of them. */
  items: Finding[];
  truncated: number;
}

export function summarizeFindings(findings: Finding[], limit = 50): FindingsSummary {
  return {
    errors: findings.filter((f) => f.severity === 'ERROR').length,
    warnings: findings.filter((f) => f.severity === 'WARNING').length,
    items: findings.slice(0, limit),
    truncated: Math.max(0, findings.length - limit),
  };
}

export async function listRules(db: Queryable): Promise<Rule[]> {
  const res = await db.query<{
    rule: string; stat_name: string; level: Level; measure: string; check_kind: string;
    low: string | null; high: string | null; severity: Severity; description: string;
  }>('SELECT rule, stat_name, level, measure, check_kind, low, high, severity, description FROM quality_rules ORDER BY level, rule');
  return res.rows.map((r) => ({
    rule: r.rule, statName: r.stat_name, level: r.level, measure: r.measure, check: r.check_kind,
    low: num(r.low), high: num(r.high), severity: r.severity, description: r.description,
  }));
}

/** Text for the CLI and Slack: a count line, then one line per finding (ERRORs first). */
export function formatFindings(findings: Finding[], opts: { limit?: number; scope?: string } = {}): string {
  const s = summarizeFindings(findings, opts.limit ?? 25);
  const scope = opts.scope ?? 'the data';
  if (!findings.length) return `validate: no findings for ${scope}: every data-quality rule holds`;
  const head = `validate: ${s.errors} error${s.errors === 1 ? '' : 's'}, ${s.warnings} warning${s.warnings === 1 ? '' : 's'} for ${scope}`;
  const lines = s.items.map((f) => `${f.severity === 'ERROR' ? 'ERROR  ' : 'WARNING'} [${f.rule}] ${f.message}`);
  if (s.truncated) lines.push(`... and ${s.truncated} more`);
  return [head, ...lines].join('\n');
}
