/**
 * The live ETL's parity with the team's ETL on the real game 18969: the tracker export run
 * through the live ETL, compared cell by cell with the team's export of the same game
 * (csv/fact_*.csv), per table, for the columns the live ETL computes
 * (loader/etl/live-columns.ts). Prints the figures. Skips when ../shared/data is absent.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_ETL_TABLES, liveColumns, runEtl } from '../../loader/etl';
import { ingestTrackerExport } from '../../loader/tracker';
import { freshDatabase, type TestDatabase } from '../support/database';
import { hasRealData, REAL_CSV, REAL_EXPORT, REAL_TRACKER } from '../support/real-data';
import { dictionaryColumns, formatParity, pct, readExport, tableParity, type TableParity } from './parity';
import { loadDimsFromCsv } from './real-dims';

const GAME = 18969;

// What says that the export's row of an event and the live ETL's row of the same event_index
// record the same event: the tracked facts the dictionary takes from the tracking as they are
// (period, event type, start time, team). The team's workbook holds events the tracker
// export does not (its 1395) and orders a few otherwise (an intermission, a timeout): from
// there on an index holds another event in each source (test/etl/README.md).
const EVENT_IDENTITY: Record<string, readonly string[]> = {
  fact_events: ['period', 'event_type', 'event_start_min', 'event_start_sec', 'team_venue'],
  fact_events_player: ['period', 'event_type', 'event_start_min', 'event_start_sec', 'team_venue'],
};

describe.skipIf(!hasRealData)('the live ETL against the team’s ETL, game 18969 (real data)', () => {
  let t: TestDatabase;
  const parity: TableParity[] = [];

  beforeAll(async () => {
    t = await freshDatabase({ migrated: true });
    await loadDimsFromCsv(t.db, REAL_CSV);
    const f = 'benchsight_game_Platinum_vs_Velodrome_18969.json';
    await ingestTrackerExport(t.db, readFileSync(path.join(REAL_TRACKER, f)), { source: f, initiatedBy: 'test' });
    await runEtl(t.db, GAME, { initiatedBy: 'test' });
    for (const table of LIVE_ETL_TABLES)
      parity.push(
        await tableParity(
          t.db,
          REAL_CSV,
          table,
          GAME,
          liveColumns(table),
          dictionaryColumns(path.join(REAL_EXPORT, 'dictionary'), table),
          EVENT_IDENTITY[table],
        ),
      );
    process.stdout.write(`\nlive ETL parity on game ${GAME} (cells equal to the team's export):\n${formatParity(parity)}\n`);
  }, 120_000);
  afterAll(async () => t?.drop());

  it('measures every table the live ETL builds, with rows of the game on both sides', () => {
    expect(parity.map((p) => p.table)).toEqual([...LIVE_ETL_TABLES]);
    for (const p of parity) expect({ table: p.table, real: p.realRows > 0, live: p.liveRows > 0 }).toEqual({ table: p.table, real: true, live: true });
  });

  // Where the tracker export's tags differ from the tracking the team's ETL read: the
  // tracker export tags idx 1256 (P100222's pass, event 2257) AssistPrimary and idx 1488
  // (P100022's pass, event 2489) AssistSecondary; the team's export has the same passes
  // (its events 2256 and 2488) tagged SecondTouch and untagged. Each counts one assist (and
  // point) more by the tracker's tags, as the dictionary's rule says (play_detail1 CONTAINS
  // "Assist"); every other player's numbers are the team's, exactly.
  const TAGGED_ONLY_IN_TRACKER: Record<string, { assists: number; points: number }> = {
    P100222: { assists: 1, points: 1 },
    P100022: { assists: 1, points: 1 },
  };

  it('gives every player of the team’s export the same goals, assists, points, shots and time on ice (where the tracker’s tags allow)', async () => {
    const real = readExport(REAL_CSV, 'fact_player_game_stats', GAME);
    const live = await t.db.query<Record<string, number | string | null>>(
      'SELECT player_id, goals, assists, points, shots, toi_seconds FROM fact_player_game_stats WHERE game_id = $1',
      [GAME],
    );
    const byId = new Map(live.rows.map((r) => [r.player_id, r]));
    const n = (v: unknown) => (v === null || v === undefined || v === '' ? 0 : Number(v));
    const stats = ['goals', 'assists', 'points', 'shots', 'toi_seconds'] as const;
    const mine = real.map((r) => ({ player: r.player_id, ...Object.fromEntries(stats.map((s) => [s, n(byId.get(r.player_id!)?.[s])])) }));
    const theirs = real.map((r) => ({
      player: r.player_id,
      ...Object.fromEntries(stats.map((s) => [s, n(r[s]) + ((TAGGED_ONLY_IN_TRACKER[r.player_id!] as Record<string, number> | undefined)?.[s] ?? 0)])),
    }));
    expect(mine).toEqual(theirs);
  });

  // Dictionary columns whose difference from the team's export comes from the sources, not
  // from a formula of the live ETL (each one's reason: test/etl/README.md). Every other
  // dictionary column of these tables is held to 99% below.
  const SOURCE_DIFFERENCES: Record<string, readonly string[]> = {
    // the tracker export links no event (linkedEventIdx is null in all of them); the
    // workbook groups 572 events into links numbered 9001 …
    fact_events: ['linked_event_index'],
    // the same; and the key numbers the rows of all events in turn, so one row more or less
    // in the workbook (its event 1395) shifts the key of every later row
    fact_events_player: ['linked_event_index', 'event_player_key'],
    // the workbook's display name ("5 – Francis Forte (G)", "Wyatt Crandall – 5"), from the
    // league's game roster, which neither the exports nor the tracker carry
    fact_goalie_game_stats: ['player_name'],
    fact_h2h: [],
  };
  const heldTo99 = (cs: { column: string; equal: number; cells: number }[], table: string) =>
    cs.filter((c) => !SOURCE_DIFFERENCES[table]!.includes(c.column)).map((c) => ({ column: c.column, atLeast99: pct(c) >= 99 }));

  it('computes the event columns the dictionary defines as the team’s ETL does, on the events both sources record alike', () => {
    for (const table of ['fact_events', 'fact_events_player']) {
      const p = parity.find((x) => x.table === table)!;
      const same = p.sameIdentity!;
      // the sources hold the same event at about two thirds of the indices (test/etl/README.md)
      expect(same.rows / p.realRows).toBeGreaterThan(0.6);
      const held = heldTo99(same.dictionaryColumns, table);
      expect(held.length).toBeGreaterThanOrEqual(10);
      expect(held).toEqual(held.map((c) => ({ ...c, atLeast99: true })));
    }
  });

  it('computes the goalie and head-to-head columns the dictionary defines as the team’s ETL does, but those its export writes otherwise', () => {
    for (const table of ['fact_goalie_game_stats', 'fact_h2h']) {
      const held = heldTo99(parity.find((x) => x.table === table)!.dictionaryColumns, table);
      expect(held.length).toBeGreaterThanOrEqual(7);
      expect(held).toEqual(held.map((c) => ({ ...c, atLeast99: true })));
    }
  });

  it('fills the player stats the data dictionary defines to at least 99% of the team’s cells', () => {
    const p = parity.find((x) => x.table === 'fact_player_game_stats')!;
    expect(p.dictionaryColumns.length).toBeGreaterThanOrEqual(25);
    expect(pct(p.dictionaryCells)).toBeGreaterThanOrEqual(99);
  });
});
