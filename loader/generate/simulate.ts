/**
 * Plays one game, the way the tracker records it: three 18-minute periods of events
 * (possessions, passes, zone entries and exits, turnovers, shots with saves and
 * rebounds, stoppages, faceoffs, goals) and the shifts of both teams' lines.
 *
 * The score is drawn first and every goal is played as a Shot_Goal + Goal event of the
 * scoring team, so dim_schedule's totals always equal the Goal events. Everything the
 * stats tables need is derived later from these events and shifts.
 */
import { DETAIL_2, PLAY_DETAILS, PLAY_DETAILS_2 } from './codes';
import { FIRST_EVENT_INDEX, gameKey } from './keys';
import {
  flip,
  flipZone,
  PERIOD_SECONDS,
  PERIODS,
  type EventPlayer,
  type Lineup,
  type SideState,
  type SimEvent,
  type SimGame,
  type SimGoal,
  type SimShift,
  type Venue,
  type Zone,
} from './game';
import type { Player, ScheduledGame, Team } from './league';
import { mixSeed, Random } from './random';

export function simulateGame(game: ScheduledGame, seed: number): SimGame {
  return new GameSimulation(game, new Random(mixSeed(seed, 0x9a3e, game.gameId))).run();
}

/** Clock seconds between plays: ~1,500 events a game, as in the tracked games. */
const STEP_SECONDS: readonly (readonly [number, number])[] = [
  [0, 14],
  [1, 18],
  [2, 20],
  [3, 17],
  [4, 13],
  [5, 9],
  [6, 6],
  [8, 3],
];
type Kind = 'possession' | 'pass' | 'zone' | 'turnover' | 'shot' | 'play' | 'loose' | 'penalty' | 'stoppage';
const IN_ZONE: Record<Zone, readonly (readonly [Kind, number])[]> = {
  o: [
    ['possession', 30],
    ['pass', 22],
    ['zone', 5],
    ['turnover', 12],
    ['shot', 20],
    ['play', 2],
    ['loose', 0.4],
    ['penalty', 0.3],
    ['stoppage', 1.5],
  ],
  n: [
    ['possession', 30],
    ['pass', 22],
    ['zone', 25],
    ['turnover', 12],
    ['play', 1],
    ['loose', 0.4],
    ['penalty', 0.2],
    ['stoppage', 1],
  ],
  d: [
    ['possession', 30],
    ['pass', 22],
    ['zone', 25],
    ['turnover', 14],
    ['play', 1],
    ['stoppage', 1.2],
  ],
};
const GOALS: readonly (readonly [number, number])[] = [
  [0, 8],
  [1, 16],
  [2, 20],
  [3, 18],
  [4, 14],
  [5, 10],
  [6, 7],
  [7, 4],
  [8, 3],
];

function dress(team: Team, venue: Venue, rng: Random): SideState {
  const goalies = team.players.filter((p) => p.position === 'Goalie');
  const forwards = rng.sample(
    team.players.filter((p) => p.position === 'Forward'),
    9,
  );
  const defense = team.players.filter((p) => p.position === 'Defense').slice(0, 4);
  const goalie = (rng.chance(0.8) ? goalies[0] : goalies[1]) ?? goalies[0]!;
  return {
    venue,
    team,
    goalie,
    lines: [forwards.slice(0, 3), forwards.slice(3, 6), forwards.slice(6, 9)],
    pairs: [defense.slice(0, 2), defense.slice(2, 4)],
    dressed: [goalie, ...forwards, ...defense],
    line: 0,
    pair: 0,
  };
}

class GameSimulation {
  private readonly events: SimEvent[] = [];
  private readonly shifts: SimShift[] = [];
  private readonly goals: SimGoal[] = [];
  private readonly sides: Record<Venue, SideState>;
  private period = 1;
  private clock = PERIOD_SECONDS;
  private periodStart = 0;
  private intermission = 0;
  private possession: Venue = 'Home';
  private zone: Zone = 'n';
  private score = { Home: 0, Away: 0 };
  private shift!: SimShift;
  /** When each team's forward line and defense pair came on (game seconds), and for how long they play. */
  private readonly bench: Record<Venue, { lineSince: number; lineFor: number; pairSince: number; pairFor: number }>;
  private link = 9000;
  private sequence = 5001;
  private play = 6001;
  private zoneChange = 1;

  constructor(
    private readonly game: ScheduledGame,
    private readonly rng: Random,
  ) {
    this.sides = { Home: dress(game.home, 'Home', rng), Away: dress(game.away, 'Away', rng) };
    const fresh = () => ({ lineSince: 0, lineFor: this.lineTime(), pairSince: 0, pairFor: this.pairTime() });
    this.bench = { Home: fresh(), Away: fresh() };
  }

  run(): SimGame {
    const plan = this.planGoals();
    for (let p = 1; p <= PERIODS; p++) {
      this.period = p;
      this.clock = PERIOD_SECONDS;
      if (p > 1) this.intermission += this.rng.int(60, 75);
      this.periodStart = (p - 1) * PERIOD_SECONDS + this.intermission;
      this.zone = 'n';
      if (p === 1) {
        this.startShift('GameStart', 'n');
        this.emit('GameStart', null, { venue: null, zone: null, structural: true });
      } else {
        for (const side of [this.sides.Home, this.sides.Away]) {
          this.rotate(side, 'line');
          this.rotate(side, 'pair');
        }
        this.startShift('PeriodStart', 'n');
      }
      this.faceoff(p === 1 ? 'Faceoff_GameStart' : 'Faceoff_PeriodStart');
      while (this.clock > 0) {
        const next = plan[0];
        if (next && next.period === p && this.clock <= next.clock) {
          plan.shift();
          this.goal(next.venue);
          continue;
        }
        this.changeOnTheFly();
        this.clock = Math.max(0, this.clock - this.rng.weighted(STEP_SECONDS));
        this.step();
      }
      while (plan[0]?.period === p) this.goal(plan.shift()!.venue);
      this.endPeriod(p);
    }
    return { game: this.game, home: this.sides.Home, away: this.sides.Away, shifts: this.shifts, events: this.events, goals: this.goals };
  }

  /** The score is decided first; each goal gets a period and a clock time. */
  private planGoals(): { venue: Venue; period: number; clock: number }[] {
    const plan: { venue: Venue; period: number; clock: number }[] = [];
    for (const venue of ['Home', 'Away'] as const) {
      const n = this.rng.weighted(GOALS);
      for (let i = 0; i < n; i++) plan.push({ venue, period: this.rng.int(1, PERIODS), clock: this.rng.int(10, PERIOD_SECONDS - 10) });
    }
    return plan.sort((a, b) => a.period - b.period || b.clock - a.clock);
  }

  private step(): void {
    const off = this.possession;
    const z = this.zoneOf(off);
    switch (this.rng.weighted(IN_ZONE[z])) {
      case 'possession':
        return this.possessionEvent(off);
      case 'pass':
        return this.pass(off);
      case 'zone':
        return this.zonePlay(off, z);
      case 'turnover':
        return this.turnover(off);
      case 'shot':
        return this.shot(off);
      case 'play':
        return this.playEvent(off);
      case 'loose':
        return this.loosePuck(off);
      case 'penalty':
        return this.penalty(off);
      case 'stoppage':
        return this.randomStoppage(off, z);
    }
  }

  private possessionEvent(off: Venue): void {
    const detail = this.rng.weighted([
      [null, 60],
      ['PuckRetrieval', 23],
      ['PuckRecovery', 14],
      ['Regroup', 3],
    ] as const);
    const players = this.withOpponents([this.ep(this.skater(off), 'e', 1)], off, 0.5, 0.1);
    const success = detail === 'PuckRetrieval' || detail === 'PuckRecovery' ? (this.rng.chance(0.7) ? 's' : 'u') : null;
    this.emit('Possession', detail, { venue: off, players, success, duration: this.rng.chance(0.35) ? this.rng.int(1, 6) : 0 });
  }

  private pass(off: Venue): void {
    const passer = this.skater(off);
    const outcome = this.rng.weighted([
      ['Pass_Completed', 65],
      ['Pass_Missed', 21],
      ['Pass_Deflected', 9],
      ['Pass_Intercepted', 5],
    ] as const);
    const players = [this.ep(passer, 'e', 1)];
    if (this.rng.chance(0.93)) players.push(this.ep(this.skater(off, passer), 'e', 2));
    this.emit('Pass', outcome, {
      venue: off,
      players: this.withOpponents(players, off, 0.55, 0.1),
      detail2: this.rng.pick(DETAIL_2.Pass!),
      success: outcome === 'Pass_Completed' ? 's' : 'u',
    });
    if (outcome === 'Pass_Intercepted' || (outcome !== 'Pass_Completed' && this.rng.chance(0.5))) this.changePossession();
  }

  private zonePlay(off: Venue, z: Zone): void {
    const players = this.withOpponents([this.ep(this.skater(off), 'e', 1)], off, 0.55, 0.2);
    if (this.rng.chance(0.35)) players.splice(1, 0, this.ep(this.skater(off, players[0]!.player), 'e', 2));
    if (z === 'o') {
      this.emit('Zone_Entry_Exit', 'Zone_Keepin', { venue: off, players, detail2: 'Zone-KeepIn', success: 's' });
      return;
    }
    const entry = z === 'n';
    const ok = this.rng.chance(0.92);
    const detail = entry ? (ok ? 'Zone_Entry' : 'Zone_Entryfailed') : ok ? 'Zone_Exit' : 'Zone_ExitFailed';
    this.emit('Zone_Entry_Exit', detail, {
      venue: off,
      players,
      detail2: this.rng.pick(DETAIL_2[entry ? 'Zone_Entry' : 'Zone_Exit']!),
      success: ok ? 's' : 'u',
    });
    if (ok) this.moveTo(off, entry ? 'o' : 'n');
    else this.changePossession();
  }

  private turnover(off: Venue): void {
    const def = flip(off);
    if (this.rng.chance(0.8)) {
      const players = this.withOpponents([this.ep(this.skater(off), 'e', 1)], off, 0.54, 0.05);
      this.emit('Turnover', 'Turnover_Giveaway', { venue: off, players, detail2: this.rng.pick(DETAIL_2.Giveaway!), success: 'u' });
    } else {
      const players = this.withOpponents([this.ep(this.skater(def), 'e', 1)], def, 0.54, 0.05);
      this.emit('Turnover', 'Turnover_Takeaway', { venue: def, players, detail2: this.rng.pick(DETAIL_2.Takeaway!), success: 's' });
    }
    this.changePossession();
  }

  private shot(off: Venue): void {
    const def = flip(off);
    const shooter = this.skater(off);
    const outcome = this.rng.weighted([
      ['Shot_OnNetSaved', 50],
      ['Shot_Blocked', 23],
      ['Shot_Missed', 21],
      ['Shot_TippedOnNetSaved', 3],
    ] as const);
    const onNet = outcome === 'Shot_OnNetSaved' || outcome === 'Shot_TippedOnNetSaved';
    const players = [this.ep(shooter, 'e', 1)];
    if (onNet) players.push(this.ep(this.sides[def].goalie, 'o', 1));
    else if (outcome === 'Shot_Blocked' || this.rng.chance(0.88)) players.push(this.ep(this.skater(def), 'o', 1));
    if (players.length > 1 && this.rng.chance(0.27)) players.push(this.ep(this.skater(def), 'o', 2));
    const linked = onNet ? ++this.link : null;
    this.emit('Shot', outcome, { venue: off, players, detail2: this.rng.pick(DETAIL_2.Shot!), success: onNet ? 's' : 'u', linked });
    if (onNet) this.save(off, shooter, linked);
    else if (this.rng.chance(0.5)) this.changePossession();
  }

  private save(off: Venue, shooter: Player, linked: number | null): void {
    const def = flip(off);
    const goalie = this.sides[def].goalie;
    const rebound = this.rng.chance(0.67);
    this.emit('Save', rebound ? 'Save_Rebound' : 'Save_Freeze', {
      venue: def,
      players: [this.ep(goalie, 'e', 1), this.ep(shooter, 'o', 1)],
      detail2: this.rng.pick(DETAIL_2.Save!),
      linked,
    });
    if (!rebound) {
      this.stoppage(def, goalie, 'Stoppage-GoalieStoppage', `${def} Goalie Stopped (after ${off} SOG)`, def === 'Home' ? 'd' : 'o');
      return;
    }
    const kept = this.rng.chance(0.58);
    const by = kept ? off : def;
    this.emit('Rebound', kept ? 'Rebound_TeamRecovered' : 'Rebound_OppTeamRecovered', { venue: by, players: [this.ep(this.skater(by), 'e', 1)] });
    if (!kept) this.changePossession();
  }

  private playEvent(off: Venue): void {
    const def = flip(off);
    const defensive = this.rng.chance(0.7);
    const venue = defensive ? def : off;
    const players = this.withOpponents([this.ep(this.skater(venue), 'e', 1)], venue, 0.8, 0.04);
    const detail = defensive ? 'Play_Defensive' : 'Play_Offensive';
    this.emit('Play', detail, { venue, players, detail2: this.rng.pick(DETAIL_2[detail]!) });
    if (defensive && this.rng.chance(0.3)) this.changePossession();
  }

  private loosePuck(off: Venue): void {
    const players = [this.ep(this.skater(off), 'e', 1), this.ep(this.skater(flip(off)), 'o', 1)];
    this.emit('LoosePuck', 'LoosePuck_Battle', { venue: off, players });
    if (this.rng.chance(0.5)) this.changePossession();
  }

  private penalty(off: Venue): void {
    const venue = this.rng.chance(0.5) ? off : flip(off);
    const offender = this.skater(venue);
    const players = this.withOpponents([this.ep(offender, 'e', 1)], venue, 0.36, 0);
    this.emit('Penalty', 'Penalty_Minor', { venue, players, detail2: this.rng.pick(DETAIL_2.Penalty!) });
    const zone: Zone = venue === 'Home' ? 'd' : 'o';
    this.stoppage(venue, offender, 'Stoppage-Penalty', `${venue} Penalty`, zone, 'FaceoffAfterPenalty', 'Faceoff_AfterPenalty');
  }

  private randomStoppage(off: Venue, z: Zone): void {
    const actor = this.skater(off);
    if (z === 'd') this.stoppage(off, actor, 'Stoppage-Icing', `${off} Icing`, off === 'Home' ? 'd' : 'o');
    else if (z === 'n') this.stoppage(off, actor, 'Stoppage-Offsides', `${off} Offside`, 'n');
    else this.stoppage(off, actor, 'Stoppage-PuckOutofPlay', 'Puck Out of Play', this.zone);
  }

  /** Whistle: the shift ends, the next one starts with a faceoff in `zoneHome`. */
  private stoppage(
    venue: Venue,
    actor: Player,
    detail2: string,
    stopType: string,
    zoneHome: Zone,
    startType = 'OtherFaceoff',
    faceoffDetail = 'Faceoff_AfterStoppage',
  ): void {
    this.emit('Stoppage', 'Stoppage_Play', { venue, players: [this.ep(actor, 'e', 1)], detail2 });
    this.emit('DeadIce', null, { venue, players: [this.ep(this.skater(venue), 'e', 1)] });
    this.endShift(stopType, this.rng.int(5, 35));
    this.setZone(zoneHome);
    this.changeAtWhistle(0.75);
    this.startShift(startType, zoneHome);
    this.faceoff(faceoffDetail);
  }

  private goal(venue: Venue): void {
    const def = flip(venue);
    this.possession = venue;
    this.moveTo(venue, 'o');
    const scorer = this.skater(venue);
    const assist = this.rng.chance(0.8) ? this.skater(venue, scorer) : null;
    if (assist)
      this.emit('Pass', 'Pass_Completed', {
        venue,
        players: [this.ep(assist, 'e', 1), this.ep(scorer, 'e', 2)],
        detail2: this.rng.pick(DETAIL_2.Pass!),
        success: 's',
      });
    const goalie = this.sides[def].goalie;
    const linked = ++this.link;
    const players = [this.ep(scorer, 'e', 1), this.ep(goalie, 'o', 1)];
    this.emit('Shot', 'Shot_Goal', { venue, players, detail2: this.rng.pick(DETAIL_2.Shot!), success: 's', linked });
    this.emit('Goal', 'Goal_Scored', {
      venue,
      players: [this.ep(scorer, 'e', 1), this.ep(goalie, 'o', 1)],
      detail2: this.rng.pick(DETAIL_2.Goal!),
      success: 's',
      linked,
    });
    this.goals.push({ venue, period: this.period, scorer, assist });
    this.score[venue]++;
    if (venue === 'Home') this.shift.homeScored++;
    else this.shift.awayScored++;
    this.emit('Stoppage', 'Stoppage_Play', { venue, players: [this.ep(scorer, 'e', 1)], detail2: 'Stoppage-Goal' });
    this.endShift(`${venue} Goal`, this.rng.int(20, 45));
    this.setZone('n');
    this.changeAtWhistle(0.9);
    this.startShift('FaceoffAfterGoal', 'n');
    this.faceoff('Faceoff_AfterGoal');
  }

  private faceoff(detail: string): void {
    const winner: Venue = this.rng.chance(0.5) ? 'Home' : 'Away';
    const lineup = this.lineup(winner);
    const players = [this.ep(lineup.forwards[0]!, 'e', 1)];
    if (this.rng.chance(0.59)) players.push(this.ep(this.skater(winner, lineup.forwards[0]), 'e', 2));
    players.push(this.ep(this.lineup(flip(winner)).forwards[0]!, 'o', 1)); // the loser: both teams count every faceoff
    this.emit('Faceoff', detail, { venue: winner, players });
    if (winner !== this.possession) this.changePossession();
  }

  private endPeriod(p: number): void {
    this.clock = 0;
    const venue = this.possession;
    const last = p === PERIODS;
    this.emit('Stoppage', last ? 'Stoppage_GameEnd' : 'Stoppage_Period', {
      venue,
      players: [this.ep(this.skater(venue), 'e', 1)],
      detail2: 'Stoppage-PeriodEnd',
    });
    this.endShift(last ? 'GameEnd' : 'Period End', 0);
    this.emit(last ? 'GameEnd' : 'Intermission', null, { venue: null, zone: null, structural: true });
  }

  /**
   * Line changes make the shift rows: a row ends at every whistle and whenever a team
   * changes its forwards (every 1–2 minutes) or its defense pair (1.5–3 minutes) on the
   * fly. A unit that stays on through whistles plays one logical shift of several rows.
   */
  private changeOnTheFly(): void {
    const now = this.gameSeconds();
    const due: [SideState, 'line' | 'pair'][] = [];
    for (const side of [this.sides.Home, this.sides.Away]) {
      const b = this.bench[side.venue];
      if (now - b.lineSince >= b.lineFor) due.push([side, 'line']);
      if (now - b.pairSince >= b.pairFor) due.push([side, 'pair']);
    }
    if (due.length === 0) return;
    this.endShift(null, 0);
    for (const [side, unit] of due) this.rotate(side, unit);
    this.startShift(null, null);
  }

  /** At a whistle each bench sends out fresh units if the ones on have played a while (`eager`: how likely). */
  private changeAtWhistle(eager: number): void {
    const now = this.gameSeconds();
    for (const side of [this.sides.Home, this.sides.Away]) {
      const b = this.bench[side.venue];
      if (this.rng.chance(now - b.lineSince >= b.lineFor / 2 ? eager : 0.1)) this.rotate(side, 'line');
      if (this.rng.chance(now - b.pairSince >= b.pairFor / 2 ? eager : 0.1)) this.rotate(side, 'pair');
    }
  }

  private rotate(side: SideState, unit: 'line' | 'pair'): void {
    const b = this.bench[side.venue];
    if (unit === 'line') {
      side.line = (side.line + 1) % side.lines.length;
      b.lineSince = this.gameSeconds();
      b.lineFor = this.lineTime();
    } else {
      side.pair = (side.pair + 1) % side.pairs.length;
      b.pairSince = this.gameSeconds();
      b.pairFor = this.pairTime();
    }
  }

  private lineTime(): number {
    return this.rng.int(60, 140);
  }

  private pairTime(): number {
    return this.rng.int(80, 180);
  }

  private gameSeconds(): number {
    return (this.period - 1) * PERIOD_SECONDS + PERIOD_SECONDS - this.clock;
  }

  private startShift(startType: string | null, zoneHome: Zone | null): void {
    this.shift = {
      key: gameKey('fact_shifts', this.game.gameId, this.shifts.length + 1),
      index: this.shifts.length + 1,
      period: this.period,
      start: this.clock,
      end: this.clock,
      startType,
      stopType: null,
      stoppage: 0,
      home: this.lineupOf(this.sides.Home),
      away: this.lineupOf(this.sides.Away),
      startZone: zoneHome,
      endZone: this.zone,
      homeGoals: this.score.Home,
      awayGoals: this.score.Away,
      homeScored: 0,
      awayScored: 0,
      periodStart: this.periodStart,
    };
    this.shifts.push(this.shift);
  }

  private endShift(stopType: string | null, stoppage: number): void {
    const s = this.shift;
    s.end = this.clock;
    s.stopType = stopType;
    s.stoppage = stoppage;
    s.endZone = this.zone;
    s.homeGoals = this.score.Home;
    s.awayGoals = this.score.Away;
  }

  private emit(
    type: string,
    detail: string | null,
    o: {
      venue: Venue | null;
      players?: EventPlayer[];
      detail2?: string;
      success?: 's' | 'u' | null;
      duration?: number;
      linked?: number | null;
      zone?: Zone | null;
      structural?: boolean;
    },
  ): void {
    const rng = this.rng;
    const structural = o.structural === true;
    const playDetails = PLAY_DETAILS[type];
    const playDetail = !structural && playDetails && rng.chance(0.25) ? rng.pick(playDetails) : null;
    const index = FIRST_EVENT_INDEX + this.events.length;
    this.events.push({
      key: gameKey('fact_events', this.game.gameId, index),
      index,
      period: this.period,
      type,
      detail,
      detail2: o.detail2 ?? null,
      success: o.success ?? null,
      venue: o.venue,
      zone: o.zone === undefined ? this.zone : o.zone,
      clock: this.clock,
      duration: Math.min(o.duration ?? 0, this.clock),
      periodStart: this.periodStart,
      intermission: this.intermission,
      shift: this.shift,
      linked: o.linked ?? null,
      sequence: structural ? null : this.sequence,
      play: structural ? null : this.play,
      playDetail,
      playDetail2: !structural && rng.chance(0.02) ? rng.pick(PLAY_DETAILS_2) : null,
      playSuccess: playDetail ? (rng.chance(0.6) ? 's' : 'u') : null,
      pressured: !structural && rng.chance(0.17),
      zoneChange: this.zoneChange,
      players: o.players ?? [],
    });
  }

  private withOpponents(players: EventPlayer[], venue: Venue, p1: number, p2: number): EventPlayer[] {
    const opp = flip(venue);
    if (this.rng.chance(p1)) {
      const first = this.skater(opp);
      players.push(this.ep(first, 'o', 1));
      if (this.rng.chance(p2)) players.push(this.ep(this.skater(opp, first), 'o', 2));
    }
    return players;
  }

  private ep(player: Player, side: 'e' | 'o', n: number): EventPlayer {
    return { player, side, n };
  }

  private lineupOf(side: SideState): Lineup {
    return { forwards: side.lines[side.line]!, defense: side.pairs[side.pair]!, goalie: side.goalie };
  }

  private lineup(venue: Venue): Lineup {
    return venue === 'Home' ? this.shift.home : this.shift.away;
  }

  /** A skater on the ice for `venue` (forwards touch the puck more often), other than `not`. */
  private skater(venue: Venue, not?: Player): Player {
    const l = this.lineup(venue);
    for (;;) {
      const p = this.rng.chance(0.65) ? this.rng.pick(l.forwards) : this.rng.pick(l.defense);
      if (p !== not) return p;
    }
  }

  private zoneOf(venue: Venue): Zone {
    return venue === 'Home' ? this.zone : flipZone(this.zone);
  }

  /** Puts the puck in `zone` as seen by `venue`. */
  private moveTo(venue: Venue, zone: Zone): void {
    this.setZone(venue === 'Home' ? zone : flipZone(zone));
  }

  private setZone(zoneHome: Zone): void {
    if (zoneHome !== this.zone) {
      this.zone = zoneHome;
      this.zoneChange++;
      this.play++;
    }
  }

  private changePossession(): void {
    this.possession = flip(this.possession);
    this.sequence++;
    this.play++;
  }
}
