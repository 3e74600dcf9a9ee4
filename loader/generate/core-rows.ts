/**
 * A simulated game as rows of the core facts: fact_events, fact_events_player,
 * fact_shifts and fact_shifts_player, keyed as the ETL keys them.
 */
import {
  EVEN_STRENGTH,
  EVENT_DETAIL_2_ID,
  EVENT_DETAIL_ID,
  EVENT_TYPE_ID,
  PLAY_DETAIL_2_ID,
  PLAY_DETAIL_ID,
  SHIFT_START_TYPE_ID,
  SHIFT_STOP_TYPE_ID,
  SLOT_ID,
  SUCCESS_ID,
  VENUE_ID,
  ZONE_ID,
  periodId,
  roleId,
} from './codes';
import type { Player } from './league';
import { flipZone, PERIOD_SECONDS, type SimEvent, type SimGame, type SimShift, type Venue, type Zone } from './game';
import type { Row } from './value-style';

const code = (table: ReadonlyMap<string, string>, name: string | null): string | null => (name === null ? null : (table.get(name) ?? null));
const zoneFor = (zoneHome: Zone | null, venue: Venue | null): Zone | null =>
  zoneHome === null || venue === null ? null : venue === 'Home' ? zoneHome : flipZone(zoneHome);

/** The columns fact_events and fact_events_player share, for one event. */
export function eventColumns(sim: SimGame, e: SimEvent): Row {
  const { game } = sim;
  const end = e.duration > 0 ? e.clock - e.duration : null;
  const running = e.periodStart + (PERIOD_SECONDS - e.clock);
  const zone = zoneFor(e.zone, e.venue);
  return {
    event_key: e.key,
    game_id: game.gameId,
    period: e.period,
    event_index: e.index,
    linked_event_index: e.linked,
    sequence_index: e.sequence,
    play_index: e.play,
    event_type: e.type,
    tracking_event_index: e.linked ?? e.index,
    event_start_min: Math.floor(e.clock / 60),
    event_start_sec: e.clock % 60,
    event_end_min: end === null ? null : Math.floor(end / 60),
    event_end_sec: end === null ? null : end % 60,
    role_abrev: e.venue ? 'e' : null,
    event_team_zone: zone,
    home_team_zone: e.venue ? e.zone : null,
    away_team_zone: e.venue && e.zone ? flipZone(e.zone) : null,
    team_venue: e.venue,
    team_venue_abv: e.venue === 'Home' ? 'h' : e.venue === 'Away' ? 'a' : null,
    side_of_puck: e.venue ? 'Offensive' : null,
    play_detail1: e.playDetail,
    play_detail_2: e.playDetail2,
    play_detail_successful: e.playSuccess,
    pressured_pressurer: e.pressured ? 1 : null,
    zone_change_index: e.zoneChange,
    home_team: game.home.name,
    away_team: game.away.name,
    Type: e.type,
    event_detail: e.detail,
    event_detail_2: e.detail2,
    event_successful: e.success,
    shift_index: e.shift.index,
    duration: e.duration,
    time_start_total_seconds: e.clock,
    time_end_total_seconds: e.clock - e.duration,
    running_intermission_duration: e.intermission,
    period_start_total_running_seconds: e.periodStart,
    running_video_time: running,
    event_running_start: Math.max(0, running - 5),
    event_running_end: running + e.duration + 5,
    period_id: periodId(e.period),
    venue_id: e.venue ? VENUE_ID[e.venue] : null,
    event_type_id: code(EVENT_TYPE_ID, e.type),
    event_detail_id: code(EVENT_DETAIL_ID, e.detail),
    event_detail_2_id: code(EVENT_DETAIL_2_ID, e.detail2),
    success_id: e.success ? SUCCESS_ID[e.success] : null,
    play_detail_success_id: e.playSuccess ? SUCCESS_ID[e.playSuccess] : null,
    zone_id: zone ? ZONE_ID[zone] : null,
    play_detail_id: code(PLAY_DETAIL_ID, e.playDetail),
    play_detail_2_id: code(PLAY_DETAIL_2_ID, e.playDetail2),
    home_team_id: game.home.id,
    away_team_id: game.away.id,
    shift_key: e.shift.key,
  };
}

/** What a fact_events row adds to the shared columns: the simulation plays no empty nets. */
export const EVENT_ONLY: Row = Object.freeze({ empty_net_goal: 0 });

/**
 * The fact_events_player rows of one event (none for events without players): only
 * what each player adds; the writer takes the other columns from the event's.
 */
export function eventPlayerRows(e: SimEvent, event: Row, nextKey: () => string): Row[] {
  return e.players.map((ep) => {
    const first = ep.side === 'e' && ep.n === 1;
    return {
      event_player_key: nextKey(),
      player_id: ep.player.id,
      player_role: `${ep.side === 'e' ? 'event' : 'opp'}_team_player_${ep.n}`,
      role_number: ep.n,
      player_game_number: ep.player.number,
      role_abrev: ep.side,
      side_of_puck: ep.side === 'e' ? 'Offensive' : 'Defensive',
      play_detail1: first ? e.playDetail : null,
      play_detail_id: first ? event.play_detail_id : null,
      play_detail: first ? e.playDetail : null,
      player_team: ep.player.team.name,
      player_name: ep.player.full,
      role_id: roleId(ep.side, ep.n),
      player_team_id: ep.player.team.id,
    };
  });
}

const slotLabels = (prefix: 'home' | 'away') => [
  `${prefix}_forward_1`,
  `${prefix}_forward_2`,
  `${prefix}_forward_3`,
  `${prefix}_defense_1`,
  `${prefix}_defense_2`,
];

export function shiftRow(sim: SimGame, s: SimShift): Row {
  const { game } = sim;
  const duration = s.start - s.end;
  const row: Row = {
    shift_key: s.key,
    game_id: game.gameId,
    shift_index: s.index,
    Period: s.period,
    shift_start_min: Math.floor(s.start / 60),
    shift_start_sec: s.start % 60,
    shift_end_min: Math.floor(s.end / 60),
    shift_end_sec: s.end % 60,
    shift_start_type: s.startType,
    shift_stop_type: s.stopType,
    home_goalie: s.home.goalie.number,
    away_goalie: s.away.goalie.number,
    stoppage_time: s.stoppage,
    home_team: game.home.name,
    away_team: game.away.name,
    shift_start_total_seconds: s.start,
    shift_end_total_seconds: s.end,
    shift_duration: duration,
    home_team_strength: 5,
    away_team_strength: 5,
    home_team_en: 0,
    away_team_en: 0,
    home_team_pk: 0,
    home_team_pp: 0,
    away_team_pp: 0,
    away_team_pk: 0,
    situation: EVEN_STRENGTH.situation,
    strength: EVEN_STRENGTH.strength,
    home_goals: s.homeGoals,
    away_goals: s.awayGoals,
    home_team_plus: s.homeScored > 0 ? 1 : 0,
    home_team_minus: s.awayScored > 0 ? -1 : 0,
    away_team_plus: s.awayScored > 0 ? 1 : 0,
    away_team_minus: s.homeScored > 0 ? -1 : 0,
    period_start_total_running_seconds: s.periodStart,
    running_video_time: s.periodStart + PERIOD_SECONDS - s.start,
    shift_start_running_time: s.periodStart + PERIOD_SECONDS - s.start,
    shift_end_running_time: s.periodStart + PERIOD_SECONDS - s.end,
    strength_id: EVEN_STRENGTH.strengthId,
    situation_id: EVEN_STRENGTH.situationId,
    shift_start_type_id: code(SHIFT_START_TYPE_ID, s.startType),
    shift_stop_type_id: code(SHIFT_STOP_TYPE_ID, s.stopType),
    home_team_id: game.home.id,
    away_team_id: game.away.id,
    period_id: periodId(s.period),
  };
  const home = [...s.home.forwards, ...s.home.defense];
  const away = [...s.away.forwards, ...s.away.defense];
  slotLabels('home').forEach((label, i) => (row[label] = home[i]?.number));
  slotLabels('away').forEach((label, i) => (row[label] = away[i]?.number));
  // Zone flags: 1 where the home team started / ended the shift, empty elsewhere.
  for (const z of ['o', 'd', 'n'] as const) {
    row[`home_${z}zone_start`] = s.startZone === z ? 1 : null;
    row[`home_${z}zone_end`] = s.endZone === z ? 1 : null;
  }
  return row;
}

const SLOTS = ['forward_1', 'forward_2', 'forward_3', 'defense_1', 'defense_2', 'goalie'] as const;
export type Slot = (typeof SLOTS)[number];

function slotOf(s: SimShift, venue: Venue, player: Player): Slot | null {
  const l = venue === 'Home' ? s.home : s.away;
  if (l.goalie === player) return 'goalie';
  const f = l.forwards.indexOf(player);
  if (f >= 0) return SLOTS[f]!;
  const d = l.defense.indexOf(player);
  return d >= 0 ? SLOTS[3 + d]! : null;
}

export interface PlayerShift {
  shift: SimShift;
  slot: Slot;
  /** Consecutive shifts within a period form one logical shift, numbered from 1. */
  logical: number;
  segment: number;
}

/** Every dressed player's shifts, home team first, in roster order. */
export function shiftsByPlayer(sim: SimGame): { player: Player; venue: Venue; shifts: PlayerShift[] }[] {
  const out: { player: Player; venue: Venue; shifts: PlayerShift[] }[] = [];
  for (const side of [sim.home, sim.away]) {
    for (const player of side.dressed) {
      const shifts: PlayerShift[] = [];
      let logical = 0;
      let segment = 0;
      let previous: SimShift | null = null;
      for (const s of sim.shifts) {
        const slot = slotOf(s, side.venue, player);
        if (!slot) continue;
        if (previous && previous.index === s.index - 1 && previous.period === s.period) segment++;
        else {
          logical++;
          segment = 1;
        }
        previous = s;
        shifts.push({ shift: s, slot, logical, segment });
      }
      out.push({ player, venue: side.venue, shifts });
    }
  }
  return out;
}

/** fact_shifts_player rows, grouped by player as the ETL writes them, with running totals. */
export function shiftPlayerRows(sim: SimGame, byPlayer: ReturnType<typeof shiftsByPlayer>, nextKey: () => string): Row[] {
  const rows: Row[] = [];
  for (const { player, venue, shifts } of byPlayer) {
    const home = venue === 'Home';
    const team = home ? sim.home.team : sim.away.team;
    let toi = 0;
    let playing = 0;
    for (const { shift: s, slot, logical, segment } of shifts) {
      const duration = s.start - s.end;
      const stoppage = Math.min(s.stoppage, duration);
      toi += duration;
      playing += duration - stoppage;
      const goalFor = home ? s.homeScored : s.awayScored;
      const goalAgainst = home ? s.awayScored : s.homeScored;
      rows.push({
        shift_player_key: nextKey(),
        shift_key: s.key,
        game_id: sim.game.gameId,
        shift_index: s.index,
        player_number: player.number,
        venue: home ? 'home' : 'away',
        slot,
        period: s.period,
        shift_duration: duration,
        situation: EVEN_STRENGTH.situation,
        strength: EVEN_STRENGTH.strength,
        stoppage_time: s.stoppage,
        pm_plus_ev: goalFor > 0 ? 1 : 0,
        pm_minus_ev: goalAgainst > 0 ? -1 : 0,
        goal_for: goalFor > 0 ? 1 : 0,
        goal_against: goalAgainst > 0 ? 1 : 0,
        team_en: 0,
        opp_en: 0,
        team_pp: 0,
        team_pk: 0,
        player_id: player.id,
        player_name: player.full,
        logical_shift_number: logical,
        shift_segment: segment,
        cumulative_shift_duration: toi,
        running_toi: toi,
        playing_duration: duration - stoppage,
        running_playing_toi: playing,
        period_id: periodId(s.period),
        venue_id: VENUE_ID[venue],
        strength_id: EVEN_STRENGTH.strengthId,
        situation_id: EVEN_STRENGTH.situationId,
        slot_id: SLOT_ID.get(slot),
        team_id: team.id,
        team_name: team.name,
      });
    }
  }
  return rows;
}
