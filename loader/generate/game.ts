/**
 * What a simulated game is: the two dressed teams, their shifts (who was on the ice,
 * from when to when) and the events the tracker would have recorded, as simulate.ts
 * plays them and the row builders read them.
 */
import type { Player, ScheduledGame, Team } from './league';

export type Venue = 'Home' | 'Away';
export type Zone = 'o' | 'd' | 'n';
export const PERIOD_SECONDS = 18 * 60;
export const PERIODS = 3;

export interface Lineup {
  forwards: Player[];
  defense: Player[];
  goalie: Player;
}

export interface SimShift {
  /** `SH{game}{index:05d}` */
  key: string;
  index: number;
  period: number;
  /** Clock (seconds left in the period) when the shift started and ended. */
  start: number;
  end: number;
  startType: string | null;
  stopType: string | null;
  /** Seconds of stoppage at the end of the shift. */
  stoppage: number;
  home: Lineup;
  away: Lineup;
  /** Faceoff zone at the start and the puck's zone at the end, from the home team's side. */
  startZone: Zone | null;
  endZone: Zone;
  /** Score when the shift ended, and goals scored during it. */
  homeGoals: number;
  awayGoals: number;
  homeScored: number;
  awayScored: number;
  periodStart: number;
}

export interface EventPlayer {
  player: Player;
  side: 'e' | 'o';
  n: number;
}

export interface SimEvent {
  /** `EV{game}{index:05d}` */
  key: string;
  index: number;
  period: number;
  type: string;
  detail: string | null;
  detail2: string | null;
  success: 's' | 'u' | null;
  venue: Venue | null;
  /** Puck zone from the home team's side. */
  zone: Zone | null;
  clock: number;
  duration: number;
  periodStart: number;
  intermission: number;
  shift: SimShift;
  linked: number | null;
  sequence: number | null;
  play: number | null;
  playDetail: string | null;
  playDetail2: string | null;
  playSuccess: 's' | 'u' | null;
  pressured: boolean;
  zoneChange: number;
  players: EventPlayer[];
}

export interface SideState {
  venue: Venue;
  team: Team;
  goalie: Player;
  lines: Player[][];
  pairs: Player[][];
  dressed: Player[];
  line: number;
  pair: number;
}

export interface SimGoal {
  venue: Venue;
  period: number;
  scorer: Player;
  assist: Player | null;
}

export interface SimGame {
  game: ScheduledGame;
  home: SideState;
  away: SideState;
  shifts: SimShift[];
  events: SimEvent[];
  goals: SimGoal[];
}

export const flip = (v: Venue): Venue => (v === 'Home' ? 'Away' : 'Home');
export const flipZone = (z: Zone): Zone => (z === 'o' ? 'd' : z === 'd' ? 'o' : 'n');
