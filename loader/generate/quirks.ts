/**
 * `dirty: true`: the real export's data problems, injected on purpose and counted, so
 * that a test (or a demo of the loader's rejects) knows exactly what to expect:
 *
 * - one event key twice in fact_events (the second row nearly empty, as in the export);
 * - fact_events_player rows pointing at `EV{game}00000`, an event that does not exist
 *   (about 12% of the first game's rows, and one in the last game);
 * - fact_events_player rows without a player, for events that have none (game start,
 *   intermissions, game end), which the ETL writes with an empty player_id;
 * - fact_shifts_player rows without a player: in the first game, one skater's jersey
 *   number the roster does not know.
 */
import { gameKey } from './keys';
import type { Player } from './league';
import type { SimGame } from './game';
import type { Row } from './value-style';

export interface InjectedQuirks {
  /** Event keys written twice in fact_events. */
  duplicateEventKeys: string[];
  /** fact_events_player rows whose event_key is not in fact_events (they have no player either). */
  orphanEventPlayerRows: number;
  /** fact_events_player rows of existing events with an empty player_id. */
  eventPlayerRowsWithoutPlayer: number;
  /** fact_shifts_player rows with an empty player_id. */
  shiftPlayerRowsWithoutPlayer: number;
}

export function noQuirks(): InjectedQuirks {
  return { duplicateEventKeys: [], orphanEventPlayerRows: 0, eventPlayerRowsWithoutPlayer: 0, shiftPlayerRowsWithoutPlayer: 0 };
}

const missingShift = (sim: SimGame) => `${sim.game.gameId}_Snan`;

/** The nearly empty second row of an event the export duplicated. */
export function duplicateEventRow(sim: SimGame, quirks: InjectedQuirks): Row {
  const e = sim.events[Math.floor(sim.events.length * 0.4)]!;
  const key = e.key;
  quirks.duplicateEventKeys.push(key);
  return { event_key: key, game_id: sim.game.gameId, role_abrev: 'o', side_of_puck: 'Defensive', shift_key: missingShift(sim), empty_net_goal: 0 };
}

export function orphanEventPlayerRows(sim: SimGame, count: number, nextKey: () => string, quirks: InjectedQuirks): Row[] {
  quirks.orphanEventPlayerRows += count;
  const missing = gameKey('fact_events', sim.game.gameId, 0);
  return Array.from({ length: count }, () => ({
    event_player_key: nextKey(),
    event_key: missing,
    game_id: sim.game.gameId,
    role_abrev: 'o',
    side_of_puck: 'Defensive',
    shift_key: missingShift(sim),
  }));
}

/** The row the ETL writes for an event nobody took part in (the event's columns come from the event). */
export function playerlessEventRow(nextKey: () => string, quirks: InjectedQuirks): Row {
  quirks.eventPlayerRowsWithoutPlayer++;
  return { event_player_key: nextKey() };
}

/** The skater whose number the roster does not know: the home team's last defenseman. */
export function unknownSkater(sim: SimGame): Player {
  return sim.home.dressed[sim.home.dressed.length - 1]!;
}

export function blankPlayer(rows: Row[], player: Player, quirks: InjectedQuirks): void {
  for (const row of rows) {
    if (row.player_id !== player.id) continue;
    row.player_id = null;
    row.player_name = null;
    quirks.shiftPlayerRowsWithoutPlayer++;
  }
}
