/**
 * What the data-quality rules find, and its shapes for a result, a history row and text.
 * Types and pure functions only: the engine's request types refer to these without
 * loading anything that talks to the database.
 */

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

/** For a load's or a delete's result: ERRORs first, at most 20. */
export function errorsFirst(findings: Finding[]): FindingsSummary {
  return summarizeFindings(
    [...findings].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'ERROR' ? -1 : 1)),
    20,
  );
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
