/**
 * A synthetic tracker export in the real format (see ../shared/data/.../tracker/*.json),
 * small enough to reason about: 3 periods of 6 shifts (3 min each, lines A and B taking
 * turns), a faceoff, a completed pass and a saved shot in every shift, and scripted goals
 * (pass with AssistPrimary + Shot_Goal + Goal). The script is exported so tests derive
 * what to expect from it rather than hard-coding numbers.
 */
type Venue = 'home' | 'away';

export const FAKE_SETTINGS = {
  sbUrl: 'https://synthetic-secret-project.supabase.co',
  sbKey: 'eyJhbGciOiJIUzI1NiJ9.SYNTHETIC-SECRET-KEY.c2lnbmF0dXJl',
  autoSaveInt: '30',
};

export const ROSTERS: Record<Venue, { id: string; num: string; name: string; pos: string }[]> = {
  home: [
    { id: 'PS0010', num: '10', name: 'Hana Home10', pos: 'F' },
    { id: 'PS0011', num: '11', name: 'Hugo Home11', pos: 'F' },
    { id: 'PS0012', num: '12', name: 'Hal Home12', pos: 'F' },
    { id: 'PS0013', num: '13', name: 'Hedda Home13', pos: 'D' },
    { id: 'PS0014', num: '14', name: 'Hank Home14', pos: 'D' },
    { id: 'PS0015', num: '15', name: 'Hope Home15', pos: 'F' },
    { id: 'PS0016', num: '16', name: 'Huw Home16', pos: 'F' },
    { id: 'PS0017', num: '17', name: 'Hiro Home17', pos: 'F' },
    { id: 'PS0030', num: '30', name: 'Gus Goalie30', pos: 'G' },
  ],
  away: [
    { id: 'PS0020', num: '20', name: 'Ava Away20', pos: 'F' },
    { id: 'PS0021', num: '21', name: 'Abe Away21', pos: 'F' },
    { id: 'PS0022', num: '22', name: 'Amy Away22', pos: 'F' },
    { id: 'PS0023', num: '23', name: 'Axel Away23', pos: 'D' },
    { id: 'PS0024', num: '24', name: 'Ana Away24', pos: 'D' },
    { id: 'PS0025', num: '25', name: 'Ari Away25', pos: 'F' },
    { id: 'PS0026', num: '26', name: 'Ayo Away26', pos: 'F' },
    { id: 'PS0027', num: '27', name: 'Ada Away27', pos: 'F' },
    { id: 'PS0031', num: '31', name: 'Gil Goalie31', pos: 'G' },
  ],
};

/** Lines by slot: line A on odd shifts of a period, line B on even ones. */
const LINES: Record<Venue, Record<'A' | 'B', number[]>> = {
  home: { A: [10, 11, 12, 13, 14], B: [15, 16, 17, 13, 14] },
  away: { A: [20, 21, 22, 23, 24], B: [25, 26, 27, 23, 24] },
};
const GOALIE: Record<Venue, number> = { home: 30, away: 31 };
const SLOTS = ['F1', 'F2', 'F3', 'D1', 'D2'] as const;

export interface ScriptedGoal {
  period: number;
  /** 1-based shift within the period. */
  shift: number;
  team: Venue;
  scorer: number;
  assist: number;
}

/** Home 2, away 1. */
export const GOALS: ScriptedGoal[] = [
  { period: 1, shift: 2, team: 'home', scorer: 15, assist: 16 },
  { period: 2, shift: 3, team: 'away', scorer: 21, assist: 20 },
  { period: 3, shift: 5, team: 'home', scorer: 10, assist: 11 },
];

export const SHIFT_SECONDS = 180;
export const SHIFTS_PER_PERIOD = 6;

const clock = (s: number) => `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
const nameOf = (venue: Venue, num: number) => ROSTERS[venue].find((p) => Number(p.num) === num)!.name;
const other = (v: Venue): Venue => (v === 'home' ? 'away' : 'home');

export function lineOf(venue: Venue, shiftInPeriod: number): number[] {
  return LINES[venue][shiftInPeriod % 2 === 1 ? 'A' : 'B'];
}

export interface SyntheticOptions {
  gameId: number;
  homeTeam?: string;
  awayTeam?: string;
  /** Include the GameEnd event (default true). */
  gameEnd?: boolean;
  /** Drop the scripted goals after this many (to make a different export of the same game). */
  goals?: number;
  withSettings?: boolean;
}

export function syntheticExport(opts: SyntheticOptions): Record<string, unknown> {
  const events: Record<string, unknown>[] = [];
  const shifts: Record<string, unknown>[] = [];
  const goals = GOALS.slice(0, opts.goals ?? GOALS.length);
  const player = (venue: Venue, num: number, role: string, extra: Record<string, unknown> = {}) => ({
    num,
    name: nameOf(venue, num),
    team: venue,
    role,
    roleNum: 1,
    playD1: '',
    playD2: '',
    playSuccess: '',
    pressure: '',
    sideOfPuck: role.startsWith('event') ? 'Offensive' : 'Defensive',
    xy: [{ x: 50, y: 20, seq: 1 }],
    ...extra,
  });
  const push = (e: Record<string, unknown>) => {
    const idx = events.length;
    events.push({
      idx,
      team: 'home',
      zone: 'o',
      success: null,
      detail1: '',
      detail2: '',
      end_time: e.start_time,
      strength: '5v5',
      linkedEventIdx: null,
      assistToGoalIdx: null,
      sequenceIdx: null,
      playIdx: null,
      players: [],
      puckXY: [{ x: 1, y: 2 }],
      netXY: null,
      isHighlight: false,
      ...e,
    });
    return idx;
  };

  for (let period = 1; period <= 3; period++) {
    for (let s = 1; s <= SHIFTS_PER_PERIOD; s++) {
      const start = 1080 - (s - 1) * SHIFT_SECONDS;
      const end = start - SHIFT_SECONDS;
      const home = lineOf('home', s);
      const away = lineOf('away', s);
      shifts.push({
        period,
        start_time: clock(start),
        end_time: clock(end),
        start_type: s === 1 ? 'PeriodStart' : 'OnTheFly',
        stop_type: '',
        strength: '5v5',
        duration: SHIFT_SECONDS,
        stoppageTime: s === 3 ? 10 : 0,
        home: {
          ...Object.fromEntries(SLOTS.map((k, i) => [k, { num: home[i], name: nameOf('home', home[i]!) }])),
          G: { num: 30, name: nameOf('home', 30) },
          X: null,
        },
        away: {
          ...Object.fromEntries(SLOTS.map((k, i) => [k, { num: away[i], name: nameOf('away', away[i]!) }])),
          G: { num: 31, name: nameOf('away', 31) },
          X: null,
        },
      });
      // Faceoff: won by the home center on odd shifts, by the away center on even ones.
      const winner: Venue = s % 2 === 1 ? 'home' : 'away';
      const line = { home, away };
      push({
        period,
        type: 'Faceoff',
        team: winner,
        zone: 'n',
        detail1: s === 1 ? 'Faceoff_PeriodStart' : 'Faceoff',
        start_time: clock(start),
        players: [player(winner, line[winner][0]!, 'event_player_1'), player(other(winner), line[other(winner)][0]!, 'opp_player_1')],
      });
      // A completed pass and a saved shot by the faceoff winner's team.
      push({
        period,
        type: 'Pass',
        team: winner,
        detail1: 'Pass_Completed',
        detail2: 'Pass_Forehand',
        success: true,
        start_time: clock(start - 10),
        players: [player(winner, line[winner][0]!, 'event_player_1'), player(winner, line[winner][1]!, 'event_player_2')],
      });
      push({
        period,
        type: 'Shot',
        team: winner,
        detail1: 'Shot_OnNetSaved',
        detail2: 'Shot_Wrist',
        start_time: clock(start - 20),
        players: [player(winner, line[winner][1]!, 'event_player_1'), player(other(winner), GOALIE[other(winner)], 'opp_player_1')],
      });
      push({
        period,
        type: 'Save',
        team: other(winner),
        detail1: 'Save_Rebound',
        detail2: 'Save_Glove',
        start_time: clock(start - 20),
        players: [player(other(winner), GOALIE[other(winner)], 'event_player_1'), player(winner, line[winner][1]!, 'opp_player_1')],
      });
      for (const g of goals.filter((x) => x.period === period && x.shift === s)) {
        const t = start - 60;
        const passIdx = push({
          period,
          type: 'Pass',
          team: g.team,
          detail1: 'Pass_Completed',
          detail2: 'Pass_Forehand',
          success: true,
          start_time: clock(t + 2),
          players: [player(g.team, g.assist, 'event_player_1', { playD1: 'AssistPrimary' }), player(g.team, g.scorer, 'event_player_2')],
        });
        push({
          period,
          type: 'Shot',
          team: g.team,
          detail1: 'Shot_Goal',
          start_time: clock(t),
          players: [player(g.team, g.scorer, 'event_player_1'), player(other(g.team), GOALIE[other(g.team)], 'opp_player_1')],
        });
        const goalIdx = push({
          period,
          type: 'Goal',
          team: g.team,
          detail1: 'Goal_Scored',
          detail2: 'Goal_Wrist',
          start_time: clock(t),
          players: [player(g.team, g.scorer, 'event_player_1'), player(other(g.team), GOALIE[other(g.team)], 'opp_player_1')],
        });
        events[passIdx]!.assistToGoalIdx = goalIdx;
      }
    }
  }
  if (opts.gameEnd ?? true) push({ period: 3, type: 'GameEnd', start_time: '00:00', players: [] });

  return {
    exportDate: '2026-01-16T18:35:24.284Z',
    version: '23.8',
    gameId: opts.gameId,
    homeTeam: opts.homeTeam ?? 'Synth Home',
    awayTeam: opts.awayTeam ?? 'Synth Away',
    homeColor: '#000000',
    awayColor: '#ffffff',
    rosters: { home: ROSTERS.home.map((p) => ({ ...p, rating: null })), away: ROSTERS.away.map((p) => ({ ...p, rating: null })) },
    events,
    shifts,
    evtIdx: events.length,
    shiftIdx: shifts.length,
    videos: [],
    periodLengths: { '1': 18, '2': 18, '3': 18, OT: 5 },
    penaltyLengths: { minor: 3 },
    homeAttacksRightP1: true,
    ...(opts.withSettings === false ? {} : { settings: FAKE_SETTINGS }),
    customChainPresets: [],
    currentPeriod: 3,
    currentTeam: 'home',
    savedAt: '2026-01-16T18:35:24.271Z',
  };
}

/** Players on the ice (both teams) during a shift of the script, by venue. */
export function onIce(shiftInPeriod: number): Record<Venue, number[]> {
  return { home: [...lineOf('home', shiftInPeriod), 30], away: [...lineOf('away', shiftInPeriod), 31] };
}
