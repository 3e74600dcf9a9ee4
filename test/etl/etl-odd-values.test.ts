/**
 * The ETL on tracker exports as people make them: a shift with a negative stoppage time
 * (and other odd values) no longer refuses the game. The export is staged, its findings are
 * reported by the ingestion and by the run, and the ETL computes from the values as written
 * (loader/etl/README.md, "Odd values"): goals per player are the official score's.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEtl } from '../../loader/etl';
import { ingestTrackerExport } from '../../loader/tracker';
import { freshDatabase, type TestDatabase } from '../support/database';
import { hasRealData, REAL_CSV, REAL_TRACKER } from '../support/real-data';
import { GOALS, syntheticExport } from '../tracker/synthetic-export';
import { loadDimsFromCsv } from './real-dims';

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
});
afterAll(async () => t?.drop());

type Shift = { stoppageTime: number | null; duration: number | null };

describe('a synthetic game with negative stoppage times', () => {
  it('is staged with a finding per value, and the ETL gives each scorer his goals and uses the stoppage as written', async () => {
    const exp = syntheticExport({ gameId: 93001 }) as { shifts: Shift[] };
    exp.shifts[0]!.stoppageTime = -12;
    exp.shifts[4]!.stoppageTime = -3;
    const staged = await ingestTrackerExport(t.db, exp, { source: 'test', initiatedBy: 'test' });
    expect(staged.findings.map((f) => `${f.kind} shift ${f.index} ${f.value}`)).toEqual(['negative_stoppage shift 1 -12', 'negative_stoppage shift 5 -3']);
    const r = await runEtl(t.db, 93001, { initiatedBy: 'test' });
    expect(r.status).toBe('succeeded');
    expect(r.trackerFindings.map((f) => f.message)).toEqual(staged.findings.map((f) => f.message));
    const goals = await t.db.query<{ player_id: string; goals: number }>(
      'SELECT player_id, goals FROM fact_player_game_stats WHERE game_id = 93001 AND goals > 0 ORDER BY player_id',
    );
    const expected = new Map<string, number>();
    for (const g of GOALS) {
      const id = `PS${String(g.scorer).padStart(4, '0')}`;
      expected.set(id, (expected.get(id) ?? 0) + 1);
    }
    expect(goals.rows).toEqual([...expected].sort().map(([player_id, n]) => ({ player_id, goals: n })));
    // As written: the shift's playing time is its duration minus its (negative) stoppage.
    const sp = await t.db.query<{ shift_duration: number; stoppage_time: number; playing_duration: number }>(
      'SELECT DISTINCT shift_duration::int AS shift_duration, stoppage_time::int AS stoppage_time, playing_duration::int AS playing_duration FROM fact_shifts_player WHERE game_id = 93001 AND shift_index = 1',
    );
    expect(sp.rows).toEqual([{ shift_duration: exp.shifts[0]!.duration, stoppage_time: -12, playing_duration: exp.shifts[0]!.duration! + 12 }]);
  });
});

describe.skipIf(!hasRealData)('the real game 18969 with negative stoppage times', () => {
  it('is staged, its findings reported, and the ETL gives every player the goals of the real export and each team the official score', async () => {
    await loadDimsFromCsv(t.db, REAL_CSV);
    const exp = JSON.parse(readFileSync(path.join(REAL_TRACKER, 'benchsight_game_Platinum_vs_Velodrome_18969.json'), 'utf8')) as { shifts: Shift[] };
    const changed = [3, 17, 40].filter((i) => exp.shifts[i]);
    for (const i of changed) exp.shifts[i]!.stoppageTime = -((exp.shifts[i]!.stoppageTime ?? 0) + 7);
    const staged = await ingestTrackerExport(t.db, exp, { source: 'test', initiatedBy: 'test' });
    expect(staged).toMatchObject({ gameId: 18969, events: 1593, shifts: 98 });
    expect(staged.findings.filter((f) => f.kind === 'negative_stoppage').map((f) => f.index)).toEqual(changed.map((i) => i + 1));
    const r = await runEtl(t.db, 18969, { initiatedBy: 'test' });
    expect(r.status).toBe('succeeded');
    expect(r.trackerFindings.filter((f) => f.kind === 'negative_stoppage')).toHaveLength(changed.length);
    const real = (parse(readFileSync(path.join(REAL_CSV, 'fact_player_game_stats.csv')), { columns: true }) as Record<string, string>[]).filter(
      (x) => x.game_id === '18969',
    );
    const mine = await t.db.query<{ player_id: string; goals: number }>('SELECT player_id, goals FROM fact_player_game_stats WHERE game_id = 18969');
    const goalsOf = new Map(mine.rows.map((x) => [x.player_id, Number(x.goals)]));
    for (const x of real) expect({ player: x.player_id, goals: goalsOf.get(x.player_id!) }).toEqual({ player: x.player_id, goals: Number(x.goals || 0) });
    const teams = await t.db.query<{ goals: number }>('SELECT goals FROM fact_team_game_stats WHERE game_id = 18969 ORDER BY team_game_key');
    const schedule = await t.db.query<{ h: number; a: number }>('SELECT home_total_goals AS h, away_total_goals AS a FROM dim_schedule WHERE game_id = 18969');
    expect(teams.rows.map((x) => Number(x.goals))).toEqual([schedule.rows[0]!.h, schedule.rows[0]!.a]);
    expect(r.findings.filter((f) => f.rule === 'team_goals_official')).toEqual([]);
  });
});
