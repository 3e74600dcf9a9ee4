/**
 * The ETL on synthetic games whose numbers follow from their script: the rules for each
 * statistic, re-runs, isolation between games, atomicity and the history it records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../loader/db/database';
import { EtlError, runEtl } from '../../loader/etl';
import { ingestTrackerExport } from '../../loader/tracker';
import { freshDatabase, type TestDatabase } from '../support/database';
import { GOALS, lineOf, onIce, SHIFT_SECONDS, SHIFTS_PER_PERIOD, syntheticExport } from '../tracker/synthetic-export';

const A = 92001;
const B = 92002;
let t: TestDatabase;

const FACT_TABLES = [
  'fact_shifts',
  'fact_events',
  'fact_events_player',
  'fact_shifts_player',
  'fact_player_game_stats',
  'fact_team_game_stats',
  'fact_goalie_game_stats',
  'fact_h2h',
  'fact_wowy',
];

/** Every fact row of a game, as text, in key order. */
async function snapshot(gameId: number): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of FACT_TABLES) {
    const r = await t.db.query<{ j: string }>(`SELECT to_jsonb(x)::text AS j FROM ${table} x WHERE game_id = $1 ORDER BY 1`, [gameId]);
    out[table] = r.rows.map((row) => row.j);
  }
  return out;
}

beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  await ingestTrackerExport(t.db, syntheticExport({ gameId: A }), { source: 'test', initiatedBy: 'test' });
  await ingestTrackerExport(t.db, syntheticExport({ gameId: B, homeTeam: 'Other Home', awayTeam: 'Other Away' }), { source: 'test', initiatedBy: 'test' });
});
afterAll(async () => t?.drop());

/** What the script says each player should have. */
function expectedStats() {
  type Line = {
    goals: number;
    assists: number;
    shots: number;
    sog: number;
    fo_wins: number;
    fo_losses: number;
    toi_seconds: number;
    shift_count: number;
    plus_ev: number;
    minus_ev: number;
  };
  const s = new Map<string, Line>();
  const p = (num: number) => {
    const id = `PS${String(num).padStart(4, '0')}`;
    if (!s.has(id)) s.set(id, { goals: 0, assists: 0, shots: 0, sog: 0, fo_wins: 0, fo_losses: 0, toi_seconds: 0, shift_count: 0, plus_ev: 0, minus_ev: 0 });
    return s.get(id)!;
  };
  for (let period = 1; period <= 3; period++) {
    for (let sh = 1; sh <= SHIFTS_PER_PERIOD; sh++) {
      const ice = onIce(sh);
      for (const v of ['home', 'away'] as const)
        for (const n of ice[v]) {
          p(n).toi_seconds += SHIFT_SECONDS;
          p(n).shift_count += 1;
        }
      const winner = sh % 2 === 1 ? 'home' : 'away';
      const loser = winner === 'home' ? 'away' : 'home';
      p(lineOf(winner, sh)[0]!).fo_wins += 1;
      p(lineOf(loser, sh)[0]!).fo_losses += 1;
      p(lineOf(winner, sh)[1]!).shots += 1;
      p(lineOf(winner, sh)[1]!).sog += 1;
      for (const g of GOALS.filter((x) => x.period === period && x.shift === sh)) {
        p(g.scorer).goals += 1;
        p(g.scorer).shots += 1;
        p(g.scorer).sog += 1;
        p(g.assist).assists += 1;
        for (const n of ice[g.team]) p(n).plus_ev += 1;
        for (const n of ice[g.team === 'home' ? 'away' : 'home']) p(n).minus_ev -= 1;
      }
    }
  }
  return s;
}

describe('runEtl', () => {
  it("builds the game's facts with the rules of the real ETL", async () => {
    const r = await runEtl(t.db, A, { initiatedBy: 'alice' });
    expect(r.status).toBe('succeeded');
    expect(r.tables.fact_shifts).toEqual({ deleted: 0, inserted: 18 });
    expect(r.tables.fact_player_game_stats!.inserted).toBe(18);
    expect(r.unresolvedPlayers).toEqual([]);

    const rows = await t.db.query<Record<string, number | string>>(
      'SELECT player_id, goals, assists, shots, sog, fo_wins, fo_losses, toi_seconds, shift_count, plus_ev, minus_ev FROM fact_player_game_stats WHERE game_id = $1',
      [A],
    );
    const got = Object.fromEntries(rows.rows.map(({ player_id, ...rest }) => [player_id, rest]));
    expect(got).toEqual(Object.fromEntries(expectedStats()));

    const teams = await t.db.query('SELECT team_game_key, venue, team_name, goals FROM fact_team_game_stats WHERE game_id = $1 ORDER BY 1', [A]);
    expect(teams.rows).toEqual([
      { team_game_key: `TG${A}00001`, venue: 'Home', team_name: 'Synth Home', goals: 2 },
      { team_game_key: `TG${A}00002`, venue: 'Away', team_name: 'Synth Away', goals: 1 },
    ]);
    const goalies = await t.db.query(
      'SELECT goalie_game_key, team_name, player_id, saves, goals_against, shots_against, save_pct::float AS save_pct FROM fact_goalie_game_stats WHERE game_id = $1 ORDER BY goalie_game_key',
      [A],
    );
    // every shift has one saved shot: 9 shifts each way; the home goalie let in 1, the away goalie 2
    // keys in the order of the teams' names, as the team's ETL numbers them
    expect(goalies.rows).toEqual([
      { goalie_game_key: `GK${A}00001`, team_name: 'Synth Away', player_id: 'PS0031', saves: 9, goals_against: 2, shots_against: 11, save_pct: 81.8 },
      { goalie_game_key: `GK${A}00002`, team_name: 'Synth Home', player_id: 'PS0030', saves: 9, goals_against: 1, shots_against: 10, save_pct: 90 },
    ]);
  });

  it('pairs opponents in fact_h2h and teammates in fact_wowy with their time and goals together', async () => {
    // #13 (home D, every shift) faced the away goalie in all 18 shifts
    const pair = await t.db.query('SELECT shifts_together FROM fact_h2h WHERE game_id = $1 AND player_1_id = $2 AND player_2_id = $3', [A, 'PS0013', 'PS0031']);
    expect(pair.rows).toEqual([{ shifts_together: 18 }]);
    // Every pair's figures as the team's ETL estimates them from its shifts together and the
    // script's goals and shots of each player: 45 s a shift, a fiftieth of the game's goals and
    // shots per shift (rounded to 0.1), Fenwick 0.8 of that, no xG.
    const stats = expectedStats();
    const r1 = (x: number) => Math.round(x * 10) / 10;
    const h2h = await t.db.query<Record<string, string | number>>(
      `SELECT player_1_id, player_2_id, shifts_together, toi_together::float AS toi, goals_for::float AS gf, goals_against::float AS ga,
              corsi_for::float AS cf, corsi_against::float AS ca, fenwick_for::float AS ff, shots_for::float AS sf, cf_pct::float AS cf_pct,
              xgf::float AS xgf FROM fact_h2h WHERE game_id = $1 ORDER BY h2h_key`,
      [A],
    );
    const expected = h2h.rows.map((row) => {
      const s = Number(row.shifts_together);
      const p1 = stats.get(String(row.player_1_id));
      const p2 = stats.get(String(row.player_2_id));
      const [cf, ca] = [r1((s * (p1?.shots ?? 0)) / 50), r1((s * (p2?.shots ?? 0)) / 50)];
      return {
        ...row,
        toi: 45 * s,
        gf: r1((s * (p1?.goals ?? 0)) / 50),
        ga: r1((s * (p2?.goals ?? 0)) / 50),
        cf,
        ca,
        ff: r1(((s * (p1?.shots ?? 0)) / 50) * 0.8),
        sf: cf,
        cf_pct: cf + ca > 0 ? r1((cf / (cf + ca)) * 100) : 50,
        xgf: 0,
      };
    });
    expect(h2h.rows).toEqual(expected);
    expect(h2h.rows.filter((row) => Number(row.gf) > 0).length).toBeGreaterThan(0);
    // #10 (line A) and #15 (line B) never share a shift
    const wowy = await t.db.query(
      'SELECT shifts_together, p1_shifts_without_p2, p2_shifts_without_p1, toi_together::int AS toi FROM fact_wowy WHERE game_id = $1 AND player_1_id = $2 AND player_2_id = $3',
      [A, 'PS0010', 'PS0015'],
    );
    expect(wowy.rows).toEqual([{ shifts_together: 0, p1_shifts_without_p2: 9, p2_shifts_without_p1: 9, toi: 0 }]);
    const n = await t.db.query<{ h: string; w: string }>(
      'SELECT (SELECT count(*) FROM fact_h2h WHERE game_id = $1) AS h, (SELECT count(*) FROM fact_wowy WHERE game_id = $1) AS w',
      [A],
    );
    // h2h: each line's 3 forwards meet the other line-mate forwards (3) plus the 2 D and the goalie
    // who are always on (3); the home D and goalie (3) meet all 9 away players.
    // wowy: every pair of the 9 players of a side, met or not: 9·8/2 per side.
    expect(n.rows[0]).toEqual({ h: String(3 * 6 + 3 * 6 + 3 * 9), w: String(2 * 36) });
  });

  it('counts an event of no side for neither side (a team_venue such as the workbook’s "0")', async () => {
    type Row = Record<string, string | number>;
    const measure = async (q: { query: Database['query'] }) => ({
      players: (await q.query<Row>('SELECT player_id, corsi_for + corsi_against AS attempts FROM fact_player_game_stats WHERE game_id = $1 ORDER BY 1', [A]))
        .rows,
      pairs: (await q.query<Row>('SELECT player_1_id, player_2_id, shifts_together FROM fact_h2h WHERE game_id = $1 ORDER BY 1, 2', [A])).rows,
    });
    const before = await measure(t.db);
    const shot = (
      await t.db.query<{ event_index: number; shift_index: number }>(
        "SELECT event_index, shift_index FROM fact_events WHERE game_id = $1 AND event_type = 'Shot' ORDER BY event_index LIMIT 1",
        [A],
      )
    ).rows[0]!;
    const onIce = new Set(
      (
        await t.db.query<{ player_id: string }>('SELECT player_id FROM fact_shifts_player WHERE game_id = $1 AND shift_index = $2', [A, shot.shift_index])
      ).rows.map((r) => r.player_id),
    );
    const rollback = new Error('rollback');
    let after: Awaited<ReturnType<typeof measure>> | undefined;
    await t.db
      .transaction(async (tx) => {
        await tx.query("UPDATE fact_events SET team_venue = '0' WHERE game_id = $1 AND event_index = $2", [A, shot.event_index]);
        for (const table of ['fact_wowy', 'fact_h2h', 'fact_goalie_game_stats', 'fact_team_game_stats', 'fact_player_game_stats'])
          await tx.query(`DELETE FROM ${table} WHERE game_id = $1`, [A]);
        await tx.query('SELECT etl_stats_facts($1), etl_analytics_facts($1)', [A]);
        after = await measure(tx);
        throw rollback;
      })
      .catch((e) => {
        if (e !== rollback) throw e;
      });
    // the shot is no longer an attempt of either side: one fewer for each player on the ice
    expect(after!.players).toEqual(before.players.map((r) => ({ ...r, attempts: Number(r.attempts) - (onIce.has(String(r.player_id)) ? 1 : 0) })));
    expect(onIce.size).toBeGreaterThan(0);
    // and the pairs still shared each shift once
    expect(after!.pairs).toEqual(before.pairs);
  });

  it('gives the same rows when run again, and never touches another game', async () => {
    await runEtl(t.db, B, { initiatedBy: 'test' });
    const a1 = await snapshot(A);
    const b1 = await snapshot(B);
    const again = await runEtl(t.db, A, { initiatedBy: 'test' });
    expect(again.tables.fact_events).toEqual({ deleted: a1.fact_events!.length, inserted: a1.fact_events!.length });
    expect(await snapshot(A)).toEqual(a1);
    expect(await snapshot(B)).toEqual(b1);

    // a corrected export of A (one goal fewer) changes A only
    await ingestTrackerExport(t.db, syntheticExport({ gameId: A, goals: 2 }), { source: 'test', initiatedBy: 'test' });
    await runEtl(t.db, A, { initiatedBy: 'test' });
    const goals = await t.db.query<{ g: string }>("SELECT count(*) AS g FROM fact_events WHERE game_id = $1 AND event_type = 'Goal'", [A]);
    expect(goals.rows[0]!.g).toBe('2');
    expect(await snapshot(B)).toEqual(b1);
  });

  it('records the run in load_history: the request and one row per fact table', async () => {
    const r = await runEtl(t.db, B, { initiatedBy: 'carol' });
    const req = await t.db.query('SELECT kind, operation, scope, game_id, status, initiated_by FROM load_history WHERE id = $1', [r.historyId]);
    expect(req.rows[0]).toEqual({ kind: 'request', operation: 'etl', scope: `game ${B}`, game_id: B, status: 'succeeded', initiated_by: 'carol' });
    const tables = await t.db.query<{ table_name: string; rows_inserted: string; rows_deleted: string }>(
      "SELECT table_name, rows_inserted, rows_deleted FROM load_history WHERE parent_id = $1 AND kind = 'table' ORDER BY id",
      [r.historyId],
    );
    expect(tables.rows.map((x) => x.table_name)).toEqual(FACT_TABLES);
    expect(tables.rows.find((x) => x.table_name === 'fact_shifts')).toMatchObject({ rows_inserted: '18', rows_deleted: '18' });
    // the data-quality findings of the game are recorded with it
    const w = await t.db.query<{ w: { findings: { warnings: number } } }>('SELECT warnings AS w FROM load_history WHERE id = $1', [r.historyId]);
    expect(w.rows[0]!.w.findings.warnings).toBeGreaterThan(0);
    expect(r.findings.map((f) => f.rule)).toEqual(expect.arrayContaining(['events_per_game', 'shifts_per_game']));
  });

  it('changes nothing when it fails part-way, and records the failure', async () => {
    const before = await snapshot(B);
    await t.db.query(`CREATE FUNCTION test_refuse_wowy() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'wowy refused for the test'; END $$`);
    await t.db.query('CREATE TRIGGER test_refuse_wowy BEFORE INSERT ON fact_wowy FOR EACH ROW EXECUTE FUNCTION test_refuse_wowy()');
    try {
      const err = await runEtl(t.db, B, { initiatedBy: 'test' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EtlError);
      expect((err as EtlError).message).toBe(`the ETL of game ${B} failed: wowy refused for the test`);
      expect((err as EtlError).permanent).toBe(false);
      expect(await snapshot(B)).toEqual(before);
      const h = await t.db.query('SELECT status, error_message FROM load_history WHERE id = $1', [(err as EtlError).historyId]);
      expect(h.rows[0]).toEqual({ status: 'failed', error_message: (err as EtlError).message });
    } finally {
      await t.db.query('DROP TRIGGER test_refuse_wowy ON fact_wowy');
    }
  });

  it('refuses, for good, a game the tracker never sent', async () => {
    const err = await runEtl(t.db, 99999, { initiatedBy: 'test' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EtlError);
    expect((err as EtlError).permanent).toBe(true);
    expect((err as EtlError).message).toContain('game 99999 has not been received from the tracker');
  });

  it('lists jersey numbers the rosters do not know, and leaves their player_id empty', async () => {
    const exp = syntheticExport({ gameId: 92003 }) as { events: { players: { num: number }[] }[] };
    exp.events[1]!.players[0]!.num = 77;
    await ingestTrackerExport(t.db, exp, { source: 'test', initiatedBy: 'test' });
    const r = await runEtl(t.db, 92003, { initiatedBy: 'test' });
    expect(r.unresolvedPlayers).toEqual([{ venue: 'home', number: 77, name: 'Hana Home10', rows: 1 }]);
  });
});
