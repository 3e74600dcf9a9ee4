/**
 * The stats and analytics facts of a simulated game: fact_player_game_stats,
 * fact_team_game_stats, fact_goalie_game_stats, fact_h2h and fact_wowy.
 *
 * The columns people check (goals, shots, faceoffs, time on ice, plus/minus, saves,
 * shifts together) come from the tally; the export's hundreds of derived ratings are
 * filled by `fillRest` with plausible values of each column's declared type, so the
 * column list is never repeated here.
 */
import { VENUE_ID } from './codes';
import { gameKey } from './keys';
import type { Player } from './league';
import type { Random } from './random';
import { PERIOD_SECONDS, PERIODS, type SimGame, type Venue } from './game';
import type { GameTally, PlayerTally } from './tally';
import { round, type Row } from './value-style';
import type { TableDecl } from '../warehouse';

const pct = (part: number, whole: number): number => (whole > 0 ? round((100 * part) / whole, 1) : 0);
const share = (a: number, b: number): number => (a + b > 0 ? (100 * a) / (a + b) : 50);
const per60 = (n: number, seconds: number): number => (seconds > 0 ? round((n * 3600) / seconds, 2) : 0);
const TIERS = ['exceptional', 'overperforming', 'slightly_above', 'as_expected', 'slightly_below', 'underperforming', 'struggling'];

/** Gives every column the row does not set a plausible value of its declared type. */
export function fillRest(row: Row, table: TableDecl, rng: Random): Row {
  for (const c of table.columns) {
    if (row[c.header] !== undefined) continue;
    if (c.type === 'integer' || c.type === 'bigint') row[c.header] = rng.chance(0.6) ? 0 : rng.int(1, 6);
    else if (c.type === 'numeric') row[c.header] = /pct|rate|percent|index/.test(c.header) ? round(rng.next() * 100, 1) : round(rng.next() * 10 - 2, 2);
    else row[c.header] = null;
  }
  return row;
}

function displayName(p: Player, k: number): string {
  // The export writes goalies as the tracker shows them: `5 – Sam Hale (G)` or `Sam Hale – 5`.
  return k % 2 === 0 ? `${p.rating} – ${p.full} (G)` : `${p.full} – ${p.rating}`;
}

export function playerGameRows(sim: SimGame, tally: GameTally, table: TableDecl, rng: Random): Row[] {
  const { game } = sim;
  const ratings: Record<Venue, number[]> = { Home: [], Away: [] };
  for (const t of tally.players) ratings[t.venue].push(t.player.rating);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return tally.players.map((t, i) => {
    const oppRating = round(avg(ratings[t.venue === 'Home' ? 'Away' : 'Home']), 2);
    const points = t.goals + t.assists;
    return fillRest(
      {
        player_game_key: gameKey('fact_player_game_stats', game.gameId, i + 1),
        game_id: game.gameId,
        player_id: t.player.id,
        player_name: t.player.full,
        goals: t.goals,
        assists: t.assists,
        points,
        shots: t.shots,
        sog: t.sog,
        shots_blocked: t.shotsBlocked,
        shots_missed: t.shotsMissed,
        shooting_pct: pct(t.goals, t.sog),
        pass_attempts: t.passAttempts,
        pass_completed: t.passCompleted,
        pass_pct: pct(t.passCompleted, t.passAttempts),
        fo_wins: t.foWins,
        fo_losses: t.foLosses,
        fo_total: t.foWins + t.foLosses,
        fo_pct: pct(t.foWins, t.foWins + t.foLosses),
        zone_entries: t.zoneEntries,
        zone_exits: t.zoneExits,
        giveaways: t.giveaways,
        takeaways: t.takeaways,
        toi_seconds: t.toi,
        toi_minutes: round(t.toi / 60, 1),
        playing_toi_seconds: t.playingToi,
        playing_toi_minutes: round(t.playingToi / 60, 1),
        stoppage_seconds: t.stoppage,
        shift_count: t.shiftCount,
        logical_shifts: t.logicalShifts,
        avg_shift: round(t.toi / Math.max(1, t.logicalShifts), 1),
        avg_playing_shift: round(t.playingToi / Math.max(1, t.logicalShifts), 1),
        goals_per_60: per60(t.goals, t.toi),
        assists_per_60: per60(t.assists, t.toi),
        points_per_60: per60(points, t.toi),
        shots_per_60: per60(t.shots, t.toi),
        goals_per_60_playing: per60(t.goals, t.playingToi),
        assists_per_60_playing: per60(t.assists, t.playingToi),
        points_per_60_playing: per60(points, t.playingToi),
        shots_per_60_playing: per60(t.shots, t.playingToi),
        blocks: t.blocks,
        hits: 0,
        puck_battles: t.battles,
        retrievals: t.retrievals,
        corsi_for: t.corsiFor,
        corsi_against: t.corsiAgainst,
        fenwick_for: t.fenwickFor,
        fenwick_against: t.fenwickAgainst,
        cf_pct: round(share(t.corsiFor, t.corsiAgainst), 1),
        ff_pct: round(share(t.fenwickFor, t.fenwickAgainst), 1),
        opp_avg_rating: oppRating,
        skill_diff: round(t.player.rating - oppRating, 2),
        plus_ev: t.plus,
        minus_ev: -t.minus,
        plus_minus_ev: t.plus - t.minus,
        plus_total: t.plus,
        minus_total: -t.minus,
        plus_minus_total: t.plus - t.minus,
        plus_en_adj: t.plus,
        minus_en_adj: -t.minus,
        plus_minus_en_adj: t.plus - t.minus,
        player_rating: t.player.rating,
        home_team_id: game.home.id,
        away_team_id: game.away.id,
        primary_assists: t.assists,
        secondary_assists: 0,
        zone_entry_carry: t.zoneEntriesRush,
        zone_exit_carry: t.zoneExitsRush,
        zone_entries_controlled: t.zoneEntriesRush,
        zone_entries_uncontrolled: t.zoneEntries - t.zoneEntriesRush,
        zone_exits_controlled: t.zoneExitsRush,
        zone_exits_uncontrolled: t.zoneExits - t.zoneExitsRush,
        zone_entry_control_pct: pct(t.zoneEntriesRush, t.zoneEntries),
        zone_exit_control_pct: pct(t.zoneExitsRush, t.zoneExits),
        first_period_shots: t.periodShots[0],
        second_period_shots: t.periodShots[1],
        third_period_shots: t.periodShots[2],
        first_period_points: t.periodPoints[0],
        second_period_points: t.periodPoints[1],
        third_period_points: t.periodPoints[2],
        shots_successful: t.sog,
        shots_unsuccessful: t.shots - t.sog,
        passes_successful: t.passCompleted,
        passes_unsuccessful: t.passAttempts - t.passCompleted,
        performance_tier: rng.pick(TIERS),
        efficiency_score: rng.chance(0.02) ? null : round(rng.next() - 0.5, 2),
      },
      table,
      rng,
    );
  });
}

function sideTotals(tally: GameTally, venue: Venue) {
  const mine = tally.players.filter((t) => t.venue === venue);
  const sum = (f: (t: PlayerTally) => number) => mine.reduce((a, t) => a + f(t), 0);
  return {
    shots: sum((t) => t.shots),
    sog: sum((t) => t.sog),
    foWins: sum((t) => t.foWins),
    foLosses: sum((t) => t.foLosses),
    giveaways: sum((t) => t.giveaways),
    takeaways: sum((t) => t.takeaways),
    entries: sum((t) => t.zoneEntries),
    exits: sum((t) => t.zoneExits),
    entriesRush: sum((t) => t.zoneEntriesRush),
    exitsRush: sum((t) => t.zoneExitsRush),
    passes: sum((t) => t.passAttempts),
    completed: sum((t) => t.passCompleted),
    blocks: sum((t) => t.blocks),
    rating: mine.reduce((a, t) => a + t.player.rating, 0) / Math.max(1, mine.length),
  };
}

export function teamGameRows(sim: SimGame, tally: GameTally, table: TableDecl, rng: Random): Row[] {
  const { game } = sim;
  return (['Home', 'Away'] as const).map((venue, i) => {
    const t = sideTotals(tally, venue);
    const o = sideTotals(tally, venue === 'Home' ? 'Away' : 'Home');
    const team = venue === 'Home' ? game.home : game.away;
    const goals = tally.goals[venue];
    return fillRest(
      {
        team_game_key: gameKey('fact_team_game_stats', game.gameId, i + 1),
        game_id: game.gameId,
        venue,
        goals,
        shots: t.shots,
        fo_wins: t.foWins,
        giveaways: t.giveaways,
        takeaways: t.takeaways,
        zone_entries: t.entries,
        zone_exits: t.exits,
        pass_attempts: t.passes,
        pass_completed: t.completed,
        fo_losses: t.foLosses,
        sog: t.sog,
        fo_total: t.foWins + t.foLosses,
        fo_pct: pct(t.foWins, t.foWins + t.foLosses),
        pass_pct: pct(t.completed, t.passes),
        shooting_pct: pct(goals, t.sog),
        venue_id: VENUE_ID[venue],
        home_team_id: game.home.id,
        away_team_id: game.away.id,
        team_id: team.id,
        total_shots: t.shots,
        total_sog: t.sog,
        total_passes: t.passes,
        total_pass_completed: t.completed,
        team_pass_pct: pct(t.completed, t.passes),
        total_zone_entries: t.entries,
        total_zone_exits: t.exits,
        controlled_entries: t.entriesRush,
        controlled_exits: t.exitsRush,
        entry_control_pct: pct(t.entriesRush, t.entries),
        total_giveaways: t.giveaways,
        total_takeaways: t.takeaways,
        turnover_diff: t.takeaways - t.giveaways,
        total_blocks: t.blocks,
        total_hits: 0,
        total_fo_wins: t.foWins,
        total_fo_losses: t.foLosses,
        corsi_for: t.shots,
        corsi_against: o.shots,
        cf_pct: round(share(t.shots, o.shots), 1),
        xg_for: round(t.sog * 0.09, 2),
        xg_against: round(o.sog * 0.09, 2),
        xg_diff: round((t.sog - o.sog) * 0.09, 2),
        avg_player_rating: round(t.rating, 2),
        team_name: team.name,
      },
      table,
      rng,
    );
  });
}

export function goalieGameRows(sim: SimGame, tally: GameTally, table: TableDecl, rng: Random): Row[] {
  const { game } = sim;
  return [sim.home, sim.away].map((side, i) => {
    const g = tally.byPlayer.get(side.goalie)!;
    const against = tally.goals[side.venue === 'Home' ? 'Away' : 'Home'];
    const shotsAgainst = g.saves + against;
    const d = (k: string) => g.saveDetails[k] ?? 0;
    return fillRest(
      {
        goalie_game_key: gameKey('fact_goalie_game_stats', game.gameId, i + 1),
        game_id: game.gameId,
        player_id: side.goalie.id,
        player_name: displayName(side.goalie, game.gameId + i),
        team_name: side.team.name,
        saves: g.saves,
        goals_against: against,
        shots_against: shotsAgainst,
        save_pct: pct(g.saves, shotsAgainst),
        toi_seconds: PERIODS * PERIOD_SECONDS,
        empty_net_ga: 0,
        saves_rebound: g.saves - g.savesFrozen,
        saves_freeze: g.savesFrozen,
        saves_glove: d('Save-Glove'),
        saves_blocker: d('Save-Blocker'),
        saves_left_pad: d('Save-LeftPad'),
        saves_right_pad: d('Save-RightPad'),
        rebound_control_pct: pct(g.savesFrozen, g.saves),
        total_save_events: g.saves,
      },
      table,
      rng,
    );
  });
}

/** Head to head: every home player against every away player they shared the ice with. */
export function h2hRows(sim: SimGame, tally: GameTally, table: TableDecl, rng: Random): Row[] {
  const { game } = sim;
  const { players, pairs } = tally;
  const n = players.length;
  const rows: Row[] = [];
  players.forEach((a, i) => {
    if (a.venue !== 'Home') return;
    players.forEach((b, j) => {
      const k = i * n + j;
      if (b.venue !== 'Away' || pairs.shifts[k] === 0) return;
      const cf = pairs.attemptsFor[k]!;
      const ca = pairs.attemptsAgainst[k]!;
      const ff = cf - pairs.blockedFor[k]!;
      const fa = ca - pairs.blockedAgainst[k]!;
      rows.push(
        fillRest(
          {
            game_id: game.gameId,
            player_1_id: a.player.id,
            player_2_id: b.player.id,
            shifts_together: pairs.shifts[k],
            home_team_id: game.home.id,
            away_team_id: game.away.id,
            toi_together: pairs.seconds[k],
            goals_for: pairs.goalsFor[k],
            goals_against: pairs.goalsAgainst[k],
            plus_minus: pairs.goalsFor[k]! - pairs.goalsAgainst[k]!,
            corsi_for: cf,
            corsi_against: ca,
            cf_pct: round(share(cf, ca), 1),
            fenwick_for: ff,
            fenwick_against: fa,
            ff_pct: round(share(ff, fa), 1),
            xgf: 0,
            xga: 0,
            xg_diff: 0,
            shots_for: cf,
            shots_against: ca,
            h2h_key: gameKey('fact_h2h', game.gameId, rows.length + 1),
            player_1_name: a.player.full,
            player_2_name: b.player.full,
          },
          table,
          rng,
        ),
      );
    });
  });
  return rows;
}

/** With or without you: every pair of teammates, together and apart. */
export function wowyRows(sim: SimGame, tally: GameTally, table: TableDecl, rng: Random): Row[] {
  const { game } = sim;
  const { players, pairs } = tally;
  const n = players.length;
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const a = players[i]!;
    for (let j = i + 1; j < n; j++) {
      const b = players[j]!;
      if (a.venue !== b.venue) continue;
      const k = i * n + j;
      const together = pairs.shifts[k]!;
      const gfTogether = share(pairs.goalsFor[k]!, pairs.goalsAgainst[k]!);
      const gfApart = share(a.plus - pairs.goalsFor[k]! + 0.5, a.minus - pairs.goalsAgainst[k]! + 0.5);
      const cfTogether = share(pairs.attemptsFor[k]!, pairs.attemptsAgainst[k]!);
      const cfApart = share(a.corsiFor - pairs.attemptsFor[k]! + 0.5, a.corsiAgainst - pairs.attemptsAgainst[k]! + 0.5);
      rows.push(
        fillRest(
          {
            game_id: game.gameId,
            player_1_id: a.player.id,
            player_2_id: b.player.id,
            venue: a.venue === 'Home' ? 'home' : 'away',
            shifts_together: together,
            p1_shifts_without_p2: a.shiftCount - together,
            p2_shifts_without_p1: b.shiftCount - together,
            p1_logical_shifts: a.logicalShifts,
            p2_logical_shifts: b.logicalShifts,
            venue_id: VENUE_ID[a.venue],
            home_team_id: game.home.id,
            away_team_id: game.away.id,
            toi_together: pairs.seconds[k],
            toi_apart: a.toi - pairs.seconds[k]!,
            // The export rounds the "together" and delta columns but not the "apart" ones.
            gf_pct_together: round(gfTogether, 1),
            gf_pct_apart: gfApart,
            gf_pct_delta: round(gfTogether - gfApart, 1),
            cf_pct_together: cfTogether,
            cf_pct_apart: cfApart,
            cf_pct_delta: round(cfTogether - cfApart, 1),
            xgf_pct_together: 0,
            xgf_pct_apart: 0,
            xgf_pct_delta: 0,
            relative_corsi: round(cfTogether - cfApart, 1),
            relative_fenwick: 0,
            wowy_key: gameKey('fact_wowy', game.gameId, rows.length + 1),
            player_1_name: a.player.full,
            player_2_name: b.player.full,
          },
          table,
          rng,
        ),
      );
    }
  }
  return rows;
}
