/**
 * Counts what happened in a simulated game, per player, per team and per pair of
 * players on the ice together, so that the stats tables agree with the events and
 * shifts they summarise.
 */
import type { PlayerShift } from './core-rows';
import type { Player } from './league';
import { flip, type SimGame, type Venue } from './game';

export interface PlayerTally {
  player: Player;
  venue: Venue;
  goals: number;
  assists: number;
  shots: number;
  sog: number;
  shotsBlocked: number;
  shotsMissed: number;
  passAttempts: number;
  passCompleted: number;
  foWins: number;
  foLosses: number;
  zoneEntries: number;
  zoneEntriesRush: number;
  zoneExits: number;
  zoneExitsRush: number;
  giveaways: number;
  takeaways: number;
  blocks: number;
  retrievals: number;
  battles: number;
  saves: number;
  savesFrozen: number;
  saveDetails: Record<string, number>;
  periodShots: number[];
  periodPoints: number[];
  toi: number;
  playingToi: number;
  stoppage: number;
  shiftCount: number;
  logicalShifts: number;
  plus: number;
  minus: number;
  corsiFor: number;
  corsiAgainst: number;
  fenwickFor: number;
  fenwickAgainst: number;
}

/** Per pair of players (indexes into `players`): shifts, seconds, goals and attempts together. */
export interface PairTally {
  shifts: Int32Array;
  seconds: Float64Array;
  goalsFor: Int32Array;
  goalsAgainst: Int32Array;
  attemptsFor: Int32Array;
  attemptsAgainst: Int32Array;
  blockedFor: Int32Array;
  blockedAgainst: Int32Array;
}

export interface GameTally {
  /** In the order of shiftsByPlayer: home roster, then away; pair indexes refer to it. */
  players: PlayerTally[];
  byPlayer: Map<Player, PlayerTally>;
  goals: Record<Venue, number>;
  pairs: PairTally;
}

function blank(player: Player, venue: Venue): PlayerTally {
  return {
    player,
    venue,
    goals: 0,
    assists: 0,
    shots: 0,
    sog: 0,
    shotsBlocked: 0,
    shotsMissed: 0,
    passAttempts: 0,
    passCompleted: 0,
    foWins: 0,
    foLosses: 0,
    zoneEntries: 0,
    zoneEntriesRush: 0,
    zoneExits: 0,
    zoneExitsRush: 0,
    giveaways: 0,
    takeaways: 0,
    blocks: 0,
    retrievals: 0,
    battles: 0,
    saves: 0,
    savesFrozen: 0,
    saveDetails: {},
    periodShots: [0, 0, 0],
    periodPoints: [0, 0, 0],
    toi: 0,
    playingToi: 0,
    stoppage: 0,
    shiftCount: 0,
    logicalShifts: 0,
    plus: 0,
    minus: 0,
    corsiFor: 0,
    corsiAgainst: 0,
    fenwickFor: 0,
    fenwickAgainst: 0,
  };
}

export function tallyGame(sim: SimGame, byPlayer: { player: Player; venue: Venue; shifts: PlayerShift[] }[]): GameTally {
  const players = byPlayer.map((p) => blank(p.player, p.venue));
  const index = new Map(players.map((t, i) => [t.player, i]));
  const of = new Map(players.map((t) => [t.player, t]));
  const n = players.length;
  const shiftCount = sim.shifts.length;
  // Shot attempts per shift and team, for corsi/fenwick of whoever was on the ice.
  const attempts = { Home: new Int32Array(shiftCount + 1), Away: new Int32Array(shiftCount + 1) };
  const blocked = { Home: new Int32Array(shiftCount + 1), Away: new Int32Array(shiftCount + 1) };

  for (const e of sim.events) {
    const e1 = e.players.find((p) => p.side === 'e' && p.n === 1);
    const o1 = e.players.find((p) => p.side === 'o' && p.n === 1);
    const t1 = e1 && of.get(e1.player);
    const to = o1 && of.get(o1.player);
    switch (e.type) {
      case 'Shot':
        if (e.venue) {
          attempts[e.venue][e.shift.index]!++;
          if (e.detail === 'Shot_Blocked') blocked[e.venue][e.shift.index]!++;
        }
        if (t1) {
          t1.shots++;
          t1.periodShots[e.period - 1]!++;
          if (e.detail === 'Shot_Blocked') t1.shotsBlocked++;
          else if (e.detail === 'Shot_Missed') t1.shotsMissed++;
          else t1.sog++;
        }
        if (to && e.detail === 'Shot_Blocked') to.blocks++;
        break;
      case 'Pass':
        if (t1) {
          t1.passAttempts++;
          if (e.detail === 'Pass_Completed') t1.passCompleted++;
        }
        break;
      case 'Faceoff':
        if (t1) t1.foWins++;
        if (to) to.foLosses++;
        break;
      case 'Zone_Entry_Exit':
        if (t1 && e.detail === 'Zone_Entry') {
          t1.zoneEntries++;
          if (e.detail2 === 'ZoneEntry-Rush') t1.zoneEntriesRush++;
        }
        if (t1 && e.detail === 'Zone_Exit') {
          t1.zoneExits++;
          if (e.detail2 === 'ZoneExit-Rush') t1.zoneExitsRush++;
        }
        break;
      case 'Turnover':
        if (t1 && e.detail === 'Turnover_Giveaway') t1.giveaways++;
        if (t1 && e.detail === 'Turnover_Takeaway') t1.takeaways++;
        break;
      case 'Possession':
        if (t1 && (e.detail === 'PuckRetrieval' || e.detail === 'PuckRecovery')) t1.retrievals++;
        break;
      case 'LoosePuck':
        if (t1) t1.battles++;
        if (to) to.battles++;
        break;
      case 'Save':
        if (t1) {
          t1.saves++;
          if (e.detail === 'Save_Freeze') t1.savesFrozen++;
          if (e.detail2) t1.saveDetails[e.detail2] = (t1.saveDetails[e.detail2] ?? 0) + 1;
        }
        break;
    }
  }

  const goals = { Home: 0, Away: 0 };
  for (const g of sim.goals) {
    goals[g.venue]++;
    const scorer = of.get(g.scorer)!;
    scorer.goals++;
    scorer.periodPoints[g.period - 1]!++;
    if (g.assist) {
      const a = of.get(g.assist)!;
      a.assists++;
      a.periodPoints[g.period - 1]!++;
    }
  }

  byPlayer.forEach(({ venue, shifts }, i) => {
    const t = players[i]!;
    const opp = flip(venue);
    for (const { shift: s, logical } of shifts) {
      const duration = s.start - s.end;
      const stoppage = Math.min(s.stoppage, duration);
      t.toi += duration;
      t.playingToi += duration - stoppage;
      t.stoppage += stoppage;
      t.shiftCount++;
      t.logicalShifts = logical;
      t.plus += venue === 'Home' ? s.homeScored : s.awayScored;
      t.minus += venue === 'Home' ? s.awayScored : s.homeScored;
      t.corsiFor += attempts[venue][s.index]!;
      t.corsiAgainst += attempts[opp][s.index]!;
      t.fenwickFor += attempts[venue][s.index]! - blocked[venue][s.index]!;
      t.fenwickAgainst += attempts[opp][s.index]! - blocked[opp][s.index]!;
    }
  });

  const pairs: PairTally = {
    shifts: new Int32Array(n * n),
    seconds: new Float64Array(n * n),
    goalsFor: new Int32Array(n * n),
    goalsAgainst: new Int32Array(n * n),
    attemptsFor: new Int32Array(n * n),
    attemptsAgainst: new Int32Array(n * n),
    blockedFor: new Int32Array(n * n),
    blockedAgainst: new Int32Array(n * n),
  };
  for (const s of sim.shifts) {
    const on = [s.home.goalie, ...s.home.forwards, ...s.home.defense, s.away.goalie, ...s.away.forwards, ...s.away.defense];
    const duration = s.start - s.end;
    for (const a of on) {
      const i = index.get(a)!;
      const venue = players[i]!.venue;
      const opp = flip(venue);
      const scored = venue === 'Home' ? s.homeScored : s.awayScored;
      const conceded = venue === 'Home' ? s.awayScored : s.homeScored;
      for (const b of on) {
        const k = i * n + index.get(b)!;
        pairs.shifts[k]!++;
        pairs.seconds[k]! += duration;
        pairs.goalsFor[k]! += scored;
        pairs.goalsAgainst[k]! += conceded;
        pairs.attemptsFor[k]! += attempts[venue][s.index]!;
        pairs.attemptsAgainst[k]! += attempts[opp][s.index]!;
        pairs.blockedFor[k]! += blocked[venue][s.index]!;
        pairs.blockedAgainst[k]! += blocked[opp][s.index]!;
      }
    }
  }
  return { players, byPlayer: of, goals, pairs };
}
