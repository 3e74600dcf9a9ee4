/**
 * Tracker exports as they really are: made by hand during a game, with odd values a person
 * must see but that do not make the ETL impossible. Each such value is staged as written and
 * reported as a data-quality finding naming the game, the shift or event, the field and the
 * value (kept in tracker_findings, shown by `ingest` and `etl run`); the ETL computes from
 * the values as written, as the league's own ETL does (loader/etl/README.md, "Odd values").
 *
 *   negative_stoppage       a shift's stoppageTime below 0 (its playing time then exceeds its duration)
 *   negative_duration       a shift's duration below 0
 *   stoppage_over_duration  a shift's stoppageTime above its duration (a negative playing time)
 *   end_before_start        a shift or event whose end is before its start on the period clock
 *                           (the clock counts down: more time left at the end than at the start)
 *   missing_time            an event without a start or end time
 *   unknown_player_number   a jersey number the team's roster does not have (its rows get no player)
 *   duplicate_event_index   an event whose idx another event of the export had first: the first
 *                           is staged, this one is not (the ETL keys events by game and idx)
 */
import type { TrackerExport } from './export-schema';

export type TrackerFindingKind =
  | 'negative_stoppage'
  | 'negative_duration'
  | 'stoppage_over_duration'
  | 'end_before_start'
  | 'missing_time'
  | 'unknown_player_number'
  | 'duplicate_event_index';

export interface TrackerFinding {
  gameId: number;
  kind: TrackerFindingKind;
  /** A shift (its 1-based place in the export, as fact_shifts numbers it) or an event (its idx). */
  item: 'shift' | 'event';
  index: number;
  /** The field, as the export names it: `stoppageTime`, `players[1].num`, `away.F2`. */
  field: string;
  value: string | null;
  message: string;
}

type Event = TrackerExport['events'][number];

/** Seconds left on the period clock (`17:59` → 1079; `00:0.01` → 0.01). */
function clockSeconds(t: string | null): number | null {
  if (t === null) return null;
  const m = /^\s*(\d{1,3}):(\d{1,2}(?:\.\d+)?)\s*$/.exec(t);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

/** The export's findings, and the events to stage (the first of each idx). */
export function trackerFindings(x: TrackerExport): { findings: TrackerFinding[]; events: Event[] } {
  const g = x.gameId;
  const findings: TrackerFinding[] = [];
  const add = (f: Omit<TrackerFinding, 'gameId'>) => findings.push({ gameId: g, ...f });
  const roster = { home: new Set(x.rosters.home.map((p) => p.num)), away: new Set(x.rosters.away.map((p) => p.num)) };

  x.shifts.forEach((s, i) => {
    const n = i + 1;
    const where = `game ${g}, shift ${n} (period ${s.period}, ${s.start_time ?? '?'}–${s.end_time ?? '?'})`;
    if (s.stoppageTime !== null && s.stoppageTime < 0)
      add({
        kind: 'negative_stoppage',
        item: 'shift',
        index: n,
        field: 'stoppageTime',
        value: String(s.stoppageTime),
        message: `${where}: stoppageTime is ${s.stoppageTime}, below 0`,
      });
    if (s.duration !== null && s.duration < 0)
      add({
        kind: 'negative_duration',
        item: 'shift',
        index: n,
        field: 'duration',
        value: String(s.duration),
        message: `${where}: duration is ${s.duration}, below 0`,
      });
    if (s.duration !== null && s.stoppageTime !== null && s.duration >= 0 && s.stoppageTime > s.duration)
      add({
        kind: 'stoppage_over_duration',
        item: 'shift',
        index: n,
        field: 'stoppageTime',
        value: String(s.stoppageTime),
        message: `${where}: stoppageTime ${s.stoppageTime} is more than its duration ${s.duration}`,
      });
    const [start, end] = [clockSeconds(s.start_time), clockSeconds(s.end_time)];
    if (start !== null && end !== null && end > start)
      add({
        kind: 'end_before_start',
        item: 'shift',
        index: n,
        field: 'end_time',
        value: s.end_time,
        message: `${where}: it ends (${s.end_time}) before it starts (${s.start_time}) on the period clock`,
      });
    for (const venue of ['home', 'away'] as const) {
      for (const [slot, p] of Object.entries(s[venue] ?? {})) {
        if (p && !roster[venue].has(p.num))
          add({
            kind: 'unknown_player_number',
            item: 'shift',
            index: n,
            field: `${venue}.${slot}`,
            value: String(p.num),
            message: `${where}: ${venue} ${slot} is number ${p.num}${p.name ? ` (${p.name})` : ''}, which the ${venue} roster does not have: its rows get no player`,
          });
      }
    }
  });

  const seen = new Set<number>();
  const events: Event[] = [];
  for (const e of x.events) {
    const where = `game ${g}, event ${e.idx} (${e.type}, period ${e.period}${e.start_time ? ` at ${e.start_time}` : ''})`;
    if (seen.has(e.idx)) {
      add({
        kind: 'duplicate_event_index',
        item: 'event',
        index: e.idx,
        field: 'idx',
        value: String(e.idx),
        message: `${where}: another event has idx ${e.idx} already; the first is staged, this one is not`,
      });
      continue;
    }
    seen.add(e.idx);
    events.push(e);
    if (e.start_time === null || e.end_time === null) {
      const field = e.start_time === null ? 'start_time' : 'end_time';
      add({ kind: 'missing_time', item: 'event', index: e.idx, field, value: null, message: `${where}: it has no ${field.replace('_', ' ')}` });
    }
    const [start, end] = [clockSeconds(e.start_time), clockSeconds(e.end_time)];
    if (start !== null && end !== null && end > start)
      add({
        kind: 'end_before_start',
        item: 'event',
        index: e.idx,
        field: 'end_time',
        value: e.end_time,
        message: `${where}: it ends (${e.end_time}) before it starts on the period clock`,
      });
    e.players.forEach((p, j) => {
      if (!roster[p.team].has(p.num))
        add({
          kind: 'unknown_player_number',
          item: 'event',
          index: e.idx,
          field: `players[${j}].num`,
          value: String(p.num),
          message: `${where}: ${p.role} (${p.team}) is number ${p.num}${p.name ? ` (${p.name})` : ''}, which the ${p.team} roster does not have: its rows get no player`,
        });
    });
  }
  return { findings, events };
}
