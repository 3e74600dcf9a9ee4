/**
 * What a person reads, without a database: the outcome classes and their exit codes, a
 * load's text (what concerns the load, the rest summed up), tables that keep within a
 * width, Slack's headline per class and `benchsight slack` reading it back as the same
 * exit code.
 */
import { describe, expect, it } from 'vitest';
import { CLASS_ICONS, outcomeMessage, SLACK_WIDTH } from '../../bot/messages';
import type { HistoryRow, Outcome } from '../../loader/commands/execute';
import { EXIT_CODES, exitCodeOf, outcomeClass } from '../../loader/commands/outcome-class';
import { renderLoad, renderOutcome, table } from '../../loader/commands/render';
import type { LoadResult, TableResult } from '../../loader/engine';
import { exitCodeOfAnswer } from '../../loader/local/slack-client';
import type { Finding } from '../../loader/quality/findings';

function tableResult(t: Partial<TableResult> & { table: string }): TableResult {
  return {
    operation: 'replace',
    gameId: null,
    file: `/x/${t.table}.csv`,
    rowsInFile: 10,
    outOfScope: 0,
    inserted: 10,
    updated: 0,
    deleted: 0,
    unchanged: 0,
    rejected: 0,
    rejectedByReason: {},
    warnings: [],
    historyId: 2,
    durationMs: 5,
    ...t,
  };
}

function result(r: Partial<LoadResult> = {}): LoadResult {
  return {
    requestId: 'r1',
    historyId: 42,
    status: 'succeeded',
    dryRun: false,
    scope: 'table fact_events',
    operation: 'replace',
    gameId: null,
    durationMs: 120,
    tables: [tableResult({ table: 'fact_events' })],
    warnings: [],
    ...r,
  };
}

const finding = (severity: Finding['severity'], rule: string, gameId: number, level: Finding['level'] = 'game'): Finding => ({
  rule,
  severity,
  gameId,
  level,
  subject: `game ${gameId}`,
  subjectId: String(gameId),
  message: `game ${gameId}: ${rule} does not hold`,
  value: null,
  expected: null,
});

const load = (r: LoadResult): Outcome => ({ kind: 'load', ok: r.status === 'succeeded', result: r });

describe('outcome classes and exit codes', () => {
  it.each<[string, string, number, LoadResult]>([
    ['a load that changed rows', 'succeeded', 0, result()],
    [
      'a load whose files held what the tables had',
      'nothing to do',
      0,
      result({ tables: [tableResult({ table: 'fact_events', inserted: 0, unchanged: 10 })] }),
    ],
    ['a load past its reject allowance', 'partial', 3, result({ status: 'partial', warnings: ['fact_events: 10 of 10 rows rejected'] })],
    [
      'a load whose data-quality rules found an ERROR',
      'partial',
      3,
      result({
        tables: [tableResult({ table: 'fact_goalie_game_stats' })],
        findings: { errors: 1, warnings: 0, items: [finding('ERROR', 'goalies_per_game', 7)], truncated: 0 },
      }),
    ],
    ['a failed load', 'failed', 1, result({ status: 'failed', tables: [], error: { message: 'bad' } })],
    ['a cancelled load', 'cancelled', 130, result({ status: 'cancelled', tables: [] })],
  ])('%s: %s, exit %i', (_what, cls, code, r) => {
    expect(outcomeClass(load(r))).toBe(cls);
    expect(exitCodeOf(load(r))).toBe(code);
  });

  it('a data-quality ERROR about a table the load did not change is no concern of it: succeeded, the ERROR summed up', () => {
    const r = result({ findings: { errors: 1, warnings: 0, items: [finding('ERROR', 'team_goals_official', 7, 'team')], truncated: 0 } });
    expect(outcomeClass(load(r))).toBe('succeeded');
    expect(renderLoad(r)).toContain('and 1 ERROR about tables this load did not change (team_goals_official): `validate` shows them');
    const stats = result({ ...r, tables: [tableResult({ table: 'fact_team_game_stats' })] });
    expect(outcomeClass(load(stats))).toBe('partial');
  });

  it('a dry run that would find a data-quality ERROR changed nothing: not partial', () => {
    const r = result({ dryRun: true, findings: { errors: 1, warnings: 0, items: [finding('ERROR', 'x', 1)], truncated: 0 } });
    expect(outcomeClass(load(r))).toBe('succeeded');
  });

  it('a command that failed (text) exits 1; usage errors are 2', () => {
    expect(exitCodeOf({ kind: 'text', ok: false, text: 'no' })).toBe(1);
    expect(EXIT_CODES.usage).toBe(2);
  });
});

describe("a load's text", () => {
  it('rows of other games are a column and one sum, not a warning per file', () => {
    const tables = ['fact_shifts', 'fact_events', 'fact_h2h'].map((t) => tableResult({ table: t, gameId: 5, rowsInFile: 30, outOfScope: 20 }));
    const warnings = tables.map((t) => `${t.outOfScope} rows of ${t.file} belong to other games and were left alone`);
    const text = renderLoad(result({ scope: 'category all_facts, game 5', gameId: 5, tables, warnings }));
    expect(text).not.toMatch(/belong to other games/);
    expect(text).toMatch(/^table\s+operation\s+in file\s+other games\s+inserted/m);
    expect(text).toMatch(/^fact_events\s+replace\s+30\s+20\s+10\s/m);
    expect(text).toContain('60 rows of other games in the files were left alone');
  });

  it('a file whose every row was rejected says nothing was loaded, and how to read the rejects', () => {
    const t = tableResult({ table: 'fact_events', rowsInFile: 5833, inserted: 0, rejected: 5833, rejectedByReason: { orphan: 5832, duplicate_key: 1 } });
    const text = renderLoad(
      result({
        status: 'partial',
        tables: [t],
        warnings: [
          'fact_events: 5833 of 5833 rows rejected, more than the 20% allowed (see `benchsight sql "select line, reason, detail from load_rejects where request_id = \'r1\'"`; --max-rejects sets the allowance)',
        ],
      }),
    );
    expect(text.split('\n')[0]).toBe(
      'PARTIAL: table fact_events (replace) in 0.12 s, history #42 — nothing was loaded: every one of the 5,833 rows was rejected',
    );
    expect(text).toContain('rejected rows, with their line and reason: `rejects 42`');
    expect(text).toContain('(see them: `rejects 42`; --max-rejects sets the allowance)');
  });

  it('data-quality findings: every ERROR, the WARNINGs one line per rule', () => {
    const items = [
      finding('ERROR', 'team_goals_official', 18977, 'team'),
      ...[18969, 18969, 18977].map((g) => finding('WARNING', 'zone_entry_control_pct_typical', g)),
      finding('WARNING', 'shooting_pct_high', 18969),
    ];
    const text = renderLoad(result({ tables: [tableResult({ table: 'fact_team_game_stats' })], findings: { errors: 1, warnings: 4, items, truncated: 0 } }));
    expect(text.split('\n')[0]).toMatch(/^PARTIAL: /);
    expect(text).toMatch(/the data-quality rules found 1 ERROR in the games this load touched/);
    expect(text).toContain('  ERROR [team_goals_official] game 18977: team_goals_official does not hold');
    expect(text).toContain('  WARNING [zone_entry_control_pct_typical] ×3 in games 18969, 18977');
    expect(text).toContain('  WARNING [shooting_pct_high] ×1 in game 18969');
    expect(text).not.toMatch(/game 18969: zone_entry/);
  });

  it('nothing to do is said as such', () => {
    const text = renderLoad(result({ tables: [tableResult({ table: 'fact_events', inserted: 0, unchanged: 10 })] }));
    expect(text).toMatch(/^NOTHING TO DO: table fact_events/);
    expect(text).toContain('every row of the files was already there: nothing changed');
  });
});

describe('tables within a width', () => {
  const history: HistoryRow[] = [1, 2, 3].map((i) => ({
    id: 1000 + i,
    started_at: '2026-12-07 03:13:13',
    status: i === 2 ? 'failed' : 'succeeded',
    scope: 'category all_facts, game 18969',
    operation: 'replace',
    game_id: 18969,
    rows_inserted: i === 2 ? null : 12345,
    rows_updated: 0,
    rows_deleted: i === 2 ? null : 12000,
    rows_rejected: i === 2 ? null : 454,
    duration_ms: 1234,
    initiated_by: 'U0123ABCDEF (Slack)',
    error_message:
      i === 2 ? `/data/fact_events.csv, line 17, column game_id: 'x' is not a whole number. ${'fix the value and drop it again; '.repeat(4)}` : null,
    table_name: null,
  }));

  it.each([80, 100, 140])('history at %i columns: no line longer, the error under its entry', (width) => {
    const text = renderOutcome({ kind: 'history', ok: true, rows: history }, { width });
    for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(width);
    expect(text).toMatch(/^\s*1002\s+12-07 03:13\s+failed/m);
    expect(text).toMatch(/^ {2}↳ \/data\/fact_events\.csv, line 17/m);
  });

  it('without a width (a file, a script) nothing is cut', () => {
    const text = renderOutcome({ kind: 'history', ok: true, rows: history });
    expect(text.replace(/\n/g, ' ')).toContain('fix the value and drop it again; fix the value');
    expect(text).toContain('category all_facts, game 18969');
  });

  it('numbers right, text left; a cell cut says so with …', () => {
    const t = table(['name', 'n'], [['a'.repeat(100), 5]], { width: 40 });
    const [head, rule, row] = t.split('\n');
    expect(head).toMatch(/^name\s+n$/);
    expect(rule).toMatch(/^-+ {2}-$/);
    expect(row!.length).toBeLessThanOrEqual(40);
    expect(row).toMatch(/^a+… {2}5$/);
  });
});

describe('Slack', () => {
  it('each outcome class has its icon, and `benchsight slack` reads it back as the CLI exit code', () => {
    const cases: [LoadResult, number][] = [
      [result(), 0],
      [result({ tables: [tableResult({ table: 'fact_events', inserted: 0, unchanged: 10 })] }), 0],
      [result({ status: 'partial' }), 3],
      [result({ status: 'failed', tables: [], error: { message: 'bad' } }), 1],
      [result({ status: 'cancelled', tables: [] }), 130],
    ];
    for (const [r, code] of cases) {
      const m = outcomeMessage(load(r), { title: 'load of table fact_events (replace)' });
      const head = (m.blocks![0] as { text: { text: string } }).text.text;
      expect(head.startsWith(CLASS_ICONS[outcomeClass(load(r))])).toBe(true);
      expect(exitCodeOfAnswer(m), head).toBe(code);
    }
    expect(exitCodeOfAnswer(outcomeMessage({ kind: 'text', ok: false, text: 'no such job' }, { title: 'etl run' }))).toBe(1);
    expect(exitCodeOfAnswer({ text: 'refused', blocks: [{ type: 'section', text: { text: ':no_entry: only admins may' } }] })).toBe(2);
  });

  it('a load says its numbers in a context line, and its table fits a code block', () => {
    const m = outcomeMessage(load(result()), { title: 'load' });
    expect(m.blocks![1]).toMatchObject({ type: 'context', elements: [{ type: 'mrkdwn', text: expect.stringMatching(/^1 table · 10 inserted · 0 updated/) }] });
  });

  it('history in Slack keeps to the width of a code block', () => {
    const rows = [
      {
        id: 7,
        started_at: '2026-12-07 03:13:13',
        status: 'failed',
        scope: 'category all_facts, game 18969',
        operation: 'replace',
        game_id: 1,
        rows_inserted: null,
        rows_updated: null,
        rows_deleted: null,
        rows_rejected: null,
        duration_ms: 10,
        initiated_by: 'U0123ABCDEF',
        error_message: 'x'.repeat(120),
        table_name: null,
      },
    ];
    const m = outcomeMessage({ kind: 'history', ok: true, rows }, { title: 'history' });
    const code = m.blocks!.map((b) => (b as { text?: { text: string } }).text?.text ?? '').join('\n');
    for (const line of code.split('\n').filter((l) => !l.startsWith('```') && !l.startsWith('*'))) expect(line.length, line).toBeLessThanOrEqual(SLACK_WIDTH);
  });
});
