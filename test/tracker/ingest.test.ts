import { Readable } from 'node:stream';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestTrackerExport, TrackerExportError } from '../../loader/tracker';
import { freshDatabase, type TestDatabase } from '../support/database';
import { hasRealData, REAL_TRACKER } from '../support/real-data';
import { FAKE_SETTINGS, syntheticExport } from './synthetic-export';

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
});
afterAll(async () => t?.drop());

const who = { source: 'test upload', initiatedBy: 'alice' };

/** Every text the database holds about tracker work, to look for leaked values. */
async function everythingStored(): Promise<string> {
  const r = await t.db.query<{ s: string }>(`
    SELECT coalesce((SELECT string_agg(x::text, '\n') FROM staging_games x), '') || coalesce((SELECT string_agg(x::text, '\n') FROM staging_events x), '')
        || coalesce((SELECT string_agg(x::text, '\n') FROM staging_shifts x), '') || coalesce((SELECT string_agg(x::text, '\n') FROM load_history x), '')
        || coalesce((SELECT string_agg(x::text, '\n') FROM etl_queue x), '') AS s`);
  return r.rows[0]!.s;
}

describe('ingestTrackerExport', () => {
  it('lands an export in staging with the export key formats and records it in load_history', async () => {
    const exp = syntheticExport({ gameId: 91001 });
    const r = await ingestTrackerExport(t.db, exp, who);
    const events = (exp.events as unknown[]).length;
    expect(r).toMatchObject({ gameId: 91001, events, shifts: 18, replaced: { events: 0, shifts: 0 }, gameEnded: true });

    const keys = await t.db.query<{ event_key: string; event_index: number }>(
      'SELECT event_key, event_index FROM staging_events WHERE game_id = 91001 ORDER BY event_index LIMIT 2',
    );
    expect(keys.rows).toEqual([
      { event_key: 'EV9100100000', event_index: 0 },
      { event_key: 'EV9100100001', event_index: 1 },
    ]);
    const shifts = await t.db.query<{ shift_key: string; shift_index: number; home: { F1: { num: number } } }>(
      'SELECT shift_key, shift_index, home FROM staging_shifts WHERE game_id = 91001 ORDER BY shift_index LIMIT 1',
    );
    expect(shifts.rows[0]).toMatchObject({ shift_key: 'SH9100100001', shift_index: 1, home: { F1: { num: 10 } } });
    const game = await t.db.query('SELECT home_team, away_team, tracker_version, source FROM staging_games WHERE game_id = 91001');
    expect(game.rows[0]).toEqual({ home_team: 'Synth Home', away_team: 'Synth Away', tracker_version: '23.8', source: 'test upload' });

    const h = await t.db.query('SELECT kind, operation, game_id, status, rows_inserted, initiated_by, source FROM load_history WHERE id = $1', [r.historyId]);
    expect(h.rows[0]).toEqual({
      kind: 'request',
      operation: 'ingest',
      game_id: 91001,
      status: 'succeeded',
      rows_inserted: String(events + 18),
      initiated_by: 'alice',
      source: 'test upload',
    });
  });

  it("replaces the game's staging rows when the same game is sent again", async () => {
    const full = syntheticExport({ gameId: 91002 });
    await ingestTrackerExport(t.db, full, who);
    const fewer = syntheticExport({ gameId: 91002, goals: 1 });
    const r = await ingestTrackerExport(t.db, fewer, who);
    expect(r.replaced).toEqual({ events: (full.events as unknown[]).length, shifts: 18 });
    const n = await t.db.query<{ n: string }>('SELECT count(*) AS n FROM staging_events WHERE game_id = 91002');
    expect(Number(n.rows[0]!.n)).toBe((fewer.events as unknown[]).length);
  });

  it('accepts a JSON string, a buffer and a stream', async () => {
    const json = JSON.stringify(syntheticExport({ gameId: 91003 }));
    expect((await ingestTrackerExport(t.db, json, who)).gameId).toBe(91003);
    expect((await ingestTrackerExport(t.db, Buffer.from(json), who)).gameId).toBe(91003);
    const stream = Readable.from([json.slice(0, 1000), json.slice(1000)]);
    expect((await ingestTrackerExport(t.db, stream, who)).events).toBeGreaterThan(70);
  });

  it('queues the ETL of a finished game at priority 10, once: a re-send joins the pending job', async () => {
    const first = await ingestTrackerExport(t.db, syntheticExport({ gameId: 91004 }), who);
    expect(first.queued).toEqual({ jobId: expect.any(Number), joined: false });
    const again = await ingestTrackerExport(t.db, syntheticExport({ gameId: 91004 }), { ...who, initiatedBy: 'bob' });
    expect(again.queued).toEqual({ jobId: first.queued!.jobId, joined: true });
    const job = await t.db.query("SELECT operation, priority, status, requested_by, payload->>'source' AS source FROM etl_queue WHERE id = $1", [
      first.queued!.jobId,
    ]);
    expect(job.rows[0]).toEqual({ operation: 'process_game', priority: 10, status: 'pending', requested_by: 'alice', source: 'test upload' });
  });

  it('queues nothing for a game still in progress', async () => {
    const r = await ingestTrackerExport(t.db, syntheticExport({ gameId: 91005, gameEnd: false }), who);
    expect(r).toMatchObject({ gameEnded: false, queued: null });
    const n = await t.db.query<{ n: string }>('SELECT count(*) AS n FROM etl_queue WHERE game_id = 91005');
    expect(n.rows[0]!.n).toBe('0');
  });

  it("never stores or reports the export's settings (credentials)", async () => {
    await ingestTrackerExport(t.db, syntheticExport({ gameId: 91006 }), who);
    // and a broken export that carries them too
    const broken = { ...syntheticExport({ gameId: 91007 }), events: 'nope' };
    const err = await ingestTrackerExport(t.db, broken, who).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackerExportError);
    const stored = await everythingStored();
    for (const secret of [FAKE_SETTINGS.sbKey, FAKE_SETTINGS.sbUrl, 'SYNTHETIC-SECRET']) {
      expect(stored).not.toContain(secret);
      expect(String((err as Error).message)).not.toContain(secret);
    }
    expect(stored).not.toContain('sbKey');
  });
});

describe('invalid exports', () => {
  async function refused(input: unknown): Promise<TrackerExportError> {
    const err = await ingestTrackerExport(t.db, input as Record<string, unknown>, who).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackerExportError);
    return err as TrackerExportError;
  }

  it('says what is wrong and where, for each problem', async () => {
    const exp = syntheticExport({ gameId: 91010 }) as { events: Record<string, unknown>[]; rosters: { home: Record<string, unknown>[] } };
    exp.events[3]!.period = 'second';
    exp.events[7]!.players = [{ num: 10, team: 'visitors', role: 'event_player_1' }];
    exp.rosters.home[1]!.num = '10';
    const err = await refused(exp);
    expect(err.message).toContain('the tracker export of game 91010 is not valid');
    expect(err.problems).toEqual(
      expect.arrayContaining([
        'events[3].period: expected number, received the text "second"',
        `events[7].players[0].team: must be 'home' or 'away', received the text "visitors"`,
        'rosters.home[1].num: number 10 appears twice in the home roster',
      ]),
    );
  });

  // The value is what a person needs to find the event; only values of the fields the
  // warehouse reads are quoted (settings never are), short ones whole, long ones cut.
  it('names the value it refused', async () => {
    const exp = syntheticExport({ gameId: 91013 }) as { events: Record<string, unknown>[]; shifts: Record<string, unknown>[] };
    exp.events[5]!.isHighlight = 'yes';
    exp.events[6]!.isHighlight = 1;
    exp.events[7]!.team = 'visitors';
    exp.events[8]!.start_time = 'x'.repeat(500);
    exp.events[9]!.players = { num: 10 };
    exp.shifts[2]!.period = 'second';
    const err = await refused(exp);
    expect(err.problems).toEqual(
      expect.arrayContaining([
        'events[5].isHighlight: expected boolean, received the text "yes"',
        'events[6].isHighlight: expected boolean, received the number 1',
        `events[7].team: must be 'home' or 'away', received the text "visitors"`,
        `events[8].start_time: must be a clock time mm:ss, received the text "${'x'.repeat(40)}…" (500 characters)`,
        'events[9].players: expected array, received an object',
        'shifts[2].period: expected number, received the text "second"',
      ]),
    );
    expect(err.message).toContain('events[5].isHighlight: expected boolean, received the text "yes"');
  });

  it('refuses an event without its period: the ETL cannot place it', async () => {
    const exp = syntheticExport({ gameId: 91012 }) as { events: Record<string, unknown>[] };
    delete exp.events[5]!.period;
    expect((await refused(exp)).problems).toEqual(['events[5].period: is missing (expected number)']);
  });

  it('names missing fields', async () => {
    const err = await refused({ homeTeam: 'A', awayTeam: 'B', rosters: { home: [], away: [] } });
    expect(err.problems).toContain('gameId: is missing (expected number)');
  });

  it('refuses text that is not JSON without quoting it', async () => {
    const text = `{"gameId": 5, "settings": {"sbKey": "${FAKE_SETTINGS.sbKey}"}, oops}`;
    const err = await refused(text);
    expect(err.message).toMatch(/^the tracker export is not valid JSON \(at character \d+, line 1\)$/);
    expect(err.message).not.toContain(FAKE_SETTINGS.sbKey);
  });

  it('records the refusal in load_history', async () => {
    await refused({ gameId: 91011, homeTeam: 'A' });
    const h = await t.db.query("SELECT status, game_id, error_message FROM load_history WHERE operation = 'ingest' AND game_id = 91011");
    expect(h.rows[0]).toMatchObject({ status: 'refused', game_id: 91011, error_message: expect.stringContaining('awayTeam: is missing') });
  });
});

describe('exports as people make them during a game: odd values are staged, each reported', () => {
  it('stages negative stoppage and duration, ends before starts, unknown numbers and a repeated idx, with a finding per value', async () => {
    type Shift = { stoppageTime: number; duration: number; start_time: string; end_time: string; away: Record<string, { num: number; name: string }> };
    const exp = syntheticExport({ gameId: 91020 }) as { events: Record<string, unknown>[]; shifts: Shift[] };
    exp.shifts[1]!.stoppageTime = -20;
    exp.shifts[2]!.duration = -5;
    exp.shifts[3]!.end_time = '19:10'; // after 18:00 on a clock that counts down
    exp.shifts[4]!.away.F2 = { num: 84, name: 'Not Rostered' };
    const events = exp.events as { idx: number; players: { num: number }[]; start_time: string | null }[];
    events[7]!.players[0]!.num = 93;
    events[9]!.idx = 8; // a second event 8
    events[11]!.start_time = null;
    const r = await ingestTrackerExport(t.db, exp, who);
    expect(r.events).toBe(exp.events.length - 1);
    expect(r.shifts).toBe(exp.shifts.length);
    const seen = r.findings.map((f) => [f.kind, f.item, f.index, f.field, f.value]);
    expect(seen).toEqual(
      expect.arrayContaining([
        ['negative_stoppage', 'shift', 2, 'stoppageTime', '-20'],
        ['negative_duration', 'shift', 3, 'duration', '-5'],
        ['end_before_start', 'shift', 4, 'end_time', '19:10'],
        ['unknown_player_number', 'shift', 5, 'away.F2', '84'],
        ['unknown_player_number', 'event', 7, 'players[0].num', '93'],
        ['duplicate_event_index', 'event', 8, 'idx', '8'],
        ['missing_time', 'event', 11, 'start_time', null],
      ]),
    );
    for (const f of r.findings) expect(f.message).toMatch(/^game 91020, (shift|event) \d+/);
    // Staged as written, and kept with the game.
    const shift = await t.db.query('SELECT stoppage_time, duration FROM staging_shifts WHERE game_id = 91020 AND shift_index IN (2, 3) ORDER BY shift_index');
    expect(shift.rows).toEqual([
      { stoppage_time: -20, duration: exp.shifts[1]!.duration },
      { stoppage_time: exp.shifts[2]!.stoppageTime, duration: -5 },
    ]);
    const kept = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tracker_findings WHERE game_id = 91020');
    expect(kept.rows[0]!.n).toBe(r.findings.length);
    // The first event 8 is the one staged.
    const e8 = await t.db.query('SELECT event_type FROM staging_events WHERE game_id = 91020 AND event_index = 8');
    expect(e8.rows).toEqual([{ event_type: (exp.events[8] as { type: string }).type }]);
    // Sent again without the oddities: the findings go with the old export.
    await ingestTrackerExport(t.db, syntheticExport({ gameId: 91020 }), who);
    expect((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tracker_findings WHERE game_id = 91020')).rows[0]!.n).toBe(0);
  });
});

describe.skipIf(!hasRealData)('the real tracker exports', () => {
  it('stores game 18969 (1,593 events, 98 shifts) and queues it; 18955 has rosters and no events', async () => {
    const file = path.join(REAL_TRACKER, 'benchsight_game_Platinum_vs_Velodrome_18969.json');
    const settings = JSON.parse(readFileSync(file, 'utf8')).settings as Record<string, string>;
    const r = await ingestTrackerExport(t.db, Readable.from(readFileSync(file)), { source: file, initiatedBy: 'test' });
    expect(r).toMatchObject({ gameId: 18969, events: 1593, shifts: 98, gameEnded: true, queued: { joined: false } });
    const empty = await ingestTrackerExport(t.db, readFileSync(path.join(REAL_TRACKER, 'benchsight_game_Velodrome_vs_Orphans_18955.json'), 'utf8'), {
      source: 'x',
      initiatedBy: 'test',
    });
    expect(empty).toMatchObject({ gameId: 18955, events: 0, shifts: 0, gameEnded: false, queued: null });
    const stored = await everythingStored();
    expect(stored).not.toContain(settings.sbKey);
    expect(stored).not.toContain(settings.sbUrl);
  });
  it("report the real export's own oddities: four jersey numbers the rosters lack and a GameStart without its time; 18955 none", async () => {
    const r = await ingestTrackerExport(t.db, readFileSync(path.join(REAL_TRACKER, 'benchsight_game_Platinum_vs_Velodrome_18969.json')), who);
    expect(r.findings.map((f) => `${f.kind} ${f.item} ${f.index} ${f.field} ${f.value}`)).toEqual([
      'unknown_player_number event 251 players[0].num 93',
      'missing_time event 494 start_time null',
      'unknown_player_number event 498 players[0].num 53',
      'unknown_player_number event 1181 players[1].num 41',
      'unknown_player_number event 1214 players[1].num 48',
    ]);
    expect(r.findings[0]!.message).toBe(
      'game 18969, event 251 (Zone_Entry_Exit, period 1 at 09:10): event_player_1 (home) is number 93 (#93), which the home roster does not have: its rows get no player',
    );
    const empty = await ingestTrackerExport(t.db, readFileSync(path.join(REAL_TRACKER, 'benchsight_game_Velodrome_vs_Orphans_18955.json')), who);
    expect(empty.findings).toEqual([]);
  });
});
