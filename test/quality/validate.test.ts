/** The data-quality rules: declared once (quality_rules), run by validate(). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteGame } from '../../loader/engine';
import { runEtl } from '../../loader/etl';
import { formatFindings, listRules, qualityAfterChange, validate } from '../../loader/quality';
import { ingestTrackerExport } from '../../loader/tracker';
import { freshDatabase, type TestDatabase } from '../support/database';
import { hasRealData, REAL_EXPORT } from '../support/real-data';
import { syntheticExport } from '../tracker/synthetic-export';

const G = 95001;
const OTHER = 95002;
let t: TestDatabase;

beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  for (const [g, home, away] of [
    [G, 'Synth Home', 'Synth Away'],
    [OTHER, 'Other Home', 'Other Away'],
  ] as const) {
    await ingestTrackerExport(t.db, syntheticExport({ gameId: g, homeTeam: home, awayTeam: away }), { source: 'test', initiatedBy: 'test' });
    // the official score: 2–1, as scripted
    await t.db.query(`INSERT INTO dim_schedule (game_id, home_team_name, away_team_name, home_total_goals, away_total_goals) VALUES ($1, $2, $3, 2, 1)`, [
      g,
      home,
      away,
    ]);
    await runEtl(t.db, g, { initiatedBy: 'test' });
  }
});
afterAll(async () => t?.drop());

describe('validate', () => {
  it('finds no ERROR in the sound synthetic game, and flags its short length', async () => {
    const f = await validate(t.db, { gameIds: [G] });
    expect(f.every((x) => x.gameId === G)).toBe(true);
    expect(f.filter((x) => x.severity === 'ERROR')).toEqual([]);
    expect(f.find((x) => x.rule === 'shifts_per_game')).toEqual({
      rule: 'shifts_per_game',
      severity: 'WARNING',
      gameId: G,
      level: 'game',
      subject: `game ${G}`,
      subjectId: String(G),
      message: `game ${G} has 18 shifts, outside the expected range 100–300`,
      value: 18,
      expected: null,
    });
  });

  it('reports a wrong team score as an ERROR naming the game and both values', async () => {
    await t.db.query('UPDATE fact_team_game_stats SET goals = 5 WHERE game_id = $1 AND venue = $2', [G, 'Home']);
    try {
      const f = (await validate(t.db, { gameIds: [G] })).filter((x) => x.rule === 'team_goals_official');
      expect(f).toEqual([
        {
          rule: 'team_goals_official',
          severity: 'ERROR',
          gameId: G,
          level: 'team',
          subject: 'Synth Home (home)',
          subjectId: null,
          message: `game ${G}: Synth Home (home) scored 5 goals in fact_team_game_stats, but the official score in dim_schedule is 2`,
          value: 5,
          expected: 2,
        },
      ]);
      // ERRORs come first
      expect((await validate(t.db, { gameIds: [G] }))[0]!.severity).toBe('ERROR');
      // and only the games asked about are looked at
      expect((await validate(t.db, { gameIds: [OTHER] })).some((x) => x.rule === 'team_goals_official')).toBe(false);
    } finally {
      await t.db.query('UPDATE fact_team_game_stats SET goals = 2 WHERE game_id = $1 AND venue = $2', [G, 'Home']);
    }
  });

  it('checks each kind of rule: bounds, flags, consistency and counts', async () => {
    // Broken on purpose inside a transaction that is rolled back afterwards.
    class Rollback extends Error {}
    await t.db
      .transaction(async (tx) => {
        await tx.query("UPDATE fact_player_game_stats SET fo_pct = 120, shooting_pct = 66.7, shots = 31 WHERE game_id = $1 AND player_id = 'PS0010'", [G]);
        await tx.query("UPDATE fact_goalie_game_stats SET save_pct = 65, saves = 3 WHERE game_id = $1 AND player_id = 'PS0031'", [G]);
        await tx.query("UPDATE fact_team_game_stats SET fo_total = 30 WHERE game_id = $1 AND venue = 'Away'", [G]);
        await tx.query('UPDATE dim_schedule SET away_total_goals = 3 WHERE game_id = $1', [G]);
        const f = await validate(tx, { gameIds: [G] });
        const msg = (rule: string) => f.filter((x) => x.rule === rule).map((x) => `${x.severity} ${x.message}`);
        expect(msg('fo_pct')).toEqual([`ERROR game ${G}: Hana Home10 (PS0010) has a faceoff win % of 120, outside the allowed range 0–100`]);
        // (the scripted scorers of 1 goal on 1 shot are flagged too: 100 %)
        expect(msg('shooting_pct_high')).toContain(`WARNING game ${G}: Hana Home10 (PS0010) has a shooting % of 66.7, above 50 (a statistical anomaly)`);
        expect(msg('player_shots_high')).toEqual([`WARNING game ${G}: Hana Home10 (PS0010) has 31 shots, above 30 (an outlier)`]);
        expect(msg('save_pct_low')).toEqual([`ERROR game ${G}: goalie Gil Goalie31 (PS0031) has a save % of 65, below 70 (a data issue is likely)`]);
        expect(msg('goalie_saves_consistent')).toEqual([
          `WARNING game ${G}: goalie Gil Goalie31 (PS0031) made 3 saves, but shots against minus goals against is 9`,
        ]);
        expect(msg('team_faceoffs_equal')).toEqual(
          expect.arrayContaining([`WARNING game ${G}: Synth Away (away) took 30 faceoffs, but the other team took 18`]),
        );
        expect(msg('team_goals_official')).toEqual([
          `ERROR game ${G}: Synth Away (away) scored 1 goals in fact_team_game_stats, but the official score in dim_schedule is 3`,
        ]);
        expect(msg('goalie_ga_official')).toEqual([
          `WARNING game ${G}: goalie Gus Goalie30 (PS0030) let in 1 goals, but the opponent's official score in dim_schedule implies 3`,
        ]);

        await tx.query("DELETE FROM fact_goalie_game_stats WHERE game_id = $1 AND player_id = 'PS0031'", [G]);
        await tx.query('DELETE FROM dim_schedule WHERE game_id = $1', [G]);
        const g = await validate(tx, { gameIds: [G] });
        expect(g.filter((x) => x.level === 'game').map((x) => `${x.severity} ${x.rule}`)).toEqual([
          'ERROR goalies_per_game',
          'WARNING events_per_game',
          'WARNING official_score_known',
          'WARNING shifts_per_game',
        ]);
        throw new Rollback();
      })
      .catch((e: unknown) => {
        if (!(e instanceof Rollback)) throw e;
      });
  });

  it('runs after a change for the games it touched and records the findings with the request', async () => {
    const h = await t.db.query<{ id: string }>(
      "INSERT INTO load_history (request_id, kind, operation, status) VALUES (gen_random_uuid(), 'request', 'upsert', 'succeeded') RETURNING id",
    );
    const historyId = Number(h.rows[0]!.id);
    // whole tables: every game
    const f = (await qualityAfterChange(t.db, { tables: ['fact_events'], gameId: null, historyId })).findings!;
    expect(new Set(f.map((x) => x.gameId))).toEqual(new Set([G, OTHER]));
    const w = await t.db.query<{ status: string; w: { findings: { errors: number; warnings: number; items: unknown[] } } }>(
      'SELECT status, warnings AS w FROM load_history WHERE id = $1',
      [historyId],
    );
    expect(w.rows[0]!.w.findings).toMatchObject({ errors: 0, warnings: f.length });
    expect(w.rows[0]!.status).toBe('succeeded');
    // one game: that game only
    expect(new Set((await qualityAfterChange(t.db, { tables: ['fact_events'], gameId: OTHER })).findings!.map((x) => x.gameId))).toEqual(new Set([OTHER]));
    // the dims of players and teams alone touch no game: the rules do not run
    expect(await qualityAfterChange(t.db, { tables: ['dim_player', 'dim_team'], gameId: null, historyId })).toEqual({});
    expect(await validate(t.db, { gameIds: [] })).toEqual([]);
    // every game with facts when no game is named
    expect(new Set((await validate(t.db)).map((x) => x.gameId))).toEqual(new Set([G, OTHER]));
  });

  it('that cannot run after a committed change leave the change standing, partial, and say why', async () => {
    const h = await t.db.query<{ id: string }>(
      "INSERT INTO load_history (request_id, kind, operation, status) VALUES (gen_random_uuid(), 'request', 'etl', 'succeeded') RETURNING id",
    );
    const historyId = Number(h.rows[0]!.id);
    await t.db.query('ALTER FUNCTION quality_findings(integer[]) RENAME TO quality_findings_away');
    try {
      const q = await qualityAfterChange(t.db, { tables: ['fact_events'], gameId: G, historyId });
      expect(q.findings).toBeUndefined();
      expect(q.failed).toMatch(/^the data-quality rules could not run: .*quality_findings/);
      const w = await t.db.query<{ status: string; w: { messages: string[] } }>('SELECT status, warnings AS w FROM load_history WHERE id = $1', [historyId]);
      expect(w.rows[0]).toEqual({ status: 'partial', w: { messages: [q.failed] } });
    } finally {
      await t.db.query('ALTER FUNCTION quality_findings_away(integer[]) RENAME TO quality_findings');
    }
  });

  it('are run the same way after an ETL run and a deleted game: rules that cannot run leave them standing, partial', async () => {
    await t.db.query('ALTER FUNCTION quality_findings(integer[]) RENAME TO quality_findings_away');
    try {
      const etl = await runEtl(t.db, OTHER, { initiatedBy: 'test' });
      expect(etl).toMatchObject({ status: 'partial', findings: [] });
      expect(etl.warnings).toEqual([expect.stringMatching(/^the data-quality rules could not run: /)]);
      const del = await deleteGame(t.db, { gameId: OTHER, initiatedBy: 'test' });
      expect(del.status).toBe('partial');
      expect(del.warnings).toEqual([expect.stringMatching(/^the data-quality rules could not run: /)]);
      const h = await t.db.query<{ status: string }>('SELECT status FROM load_history WHERE id = ANY($1) ORDER BY id', [[etl.historyId, del.historyId]]);
      expect(h.rows.map((r) => r.status)).toEqual(['partial', 'partial']);
    } finally {
      await t.db.query('ALTER FUNCTION quality_findings_away(integer[]) RENAME TO quality_findings');
      await runEtl(t.db, OTHER, { initiatedBy: 'test' }); // (the game's facts back, as the tests after this expect)
    }
  });

  it('formats findings for the CLI and Slack', async () => {
    const text = formatFindings(await validate(t.db, { gameIds: [G] }), { scope: `game ${G}` });
    expect(text.split('\n')[0]).toMatch(new RegExp(`^validate: 0 errors, \\d+ warnings for game ${G}$`));
    expect(text).toContain(`WARNING [shifts_per_game] game ${G} has 18 shifts`);
    expect(formatFindings([], { scope: 'game 1' })).toBe('validate: no findings for game 1: every data-quality rule holds');
  });
});

describe.skipIf(!hasRealData)("the rules and the ETL's data dictionary", () => {
  it('declares every threshold of dd_validation_thresholds.csv with its bounds and severity', async () => {
    const dictionary = parse(readFileSync(path.join(REAL_EXPORT, 'dictionary/dd_validation_thresholds.csv')), { columns: true }) as Record<string, string>[];
    const rules = await listRules(t.db);
    for (const d of dictionary) {
      const bounds = rules.find(
        (r) => r.statName === d.stat_name && r.check === 'range' && r.low === Number(d.min_allowed) && r.high === Number(d.max_allowed),
      );
      expect({ stat: d.stat_name, severity: bounds?.severity }).toEqual({ stat: d.stat_name, severity: d.severity });
    }
    // and "team goals must equal the official score", an ERROR
    expect(rules.find((r) => r.rule === 'team_goals_official')).toMatchObject({ severity: 'ERROR', check: 'equals', level: 'team' });
  });
});
