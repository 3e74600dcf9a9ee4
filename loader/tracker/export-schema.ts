/**
 * The tracker app's export (benchsight_game_<home>_vs_<away>_<game>.json), as zod reads it.
 * Only the fields the warehouse uses are kept: anything else — notably `settings`, which can
 * hold the tracker's Supabase URL and key — is dropped here and never reaches the database
 * or a log line. Values are normalized: '' → null, jersey numbers → integers, period 'OT' → 4.
 */
import { z } from 'zod';

const emptyToNull = (v: unknown) => (v === '' ? null : v);

/** A whole number, also when written as a string ("12"). */
const wholeNumber = z.preprocess(
  (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
  z.number().int('must be a whole number').nonnegative('must not be negative'),
);

const optionalWhole = z.preprocess(emptyToNull, wholeNumber.nullish()).transform((v) => v ?? null);
/**
 * A count of seconds the tracker may get wrong (a negative stoppage, a negative duration):
 * kept as written, and reported as a finding (findings.ts), never refused.
 */
const optionalSeconds = z
  .preprocess((v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : emptyToNull(v)), z.number().int('must be a whole number').nullish())
  .transform((v) => v ?? null);
/** Free text; the tracker sometimes writes a number where text is usual (pressure: 2). */
const optionalText = z
  .preprocess((v) => (typeof v === 'number' ? String(v) : emptyToNull(v)), z.string().nullish())
  .transform((v) => (v === '' ? null : (v ?? null)));

/** Periods are 1, 2, 3; overtime is 'OT' (stored as 4). */
const period = z.preprocess((v) => (v === 'OT' || v === 'ot' ? 4 : v), wholeNumber);

/** A period-clock time, mm:ss (seconds may have a fraction: 00:0.01). */
const clock = z
  .preprocess(
    emptyToNull,
    z
      .string()
      .regex(/^\s*\d{1,3}:\d{1,2}(\.\d+)?\s*$/, 'must be a clock time mm:ss')
      .nullish(),
  )
  .transform((v) => v ?? null);

const venue = z.enum(['home', 'away'], { message: "must be 'home' or 'away'" });

const point = z.object({ x: z.number(), y: z.number(), seq: z.number().optional() });

const eventPlayer = z.object({
  num: wholeNumber,
  name: optionalText,
  team: venue,
  role: z.string().min(1, 'must name the role (event_player_1, opp_player_1 ...)'),
  roleNum: optionalWhole,
  playD1: optionalText,
  playD2: optionalText,
  playSuccess: optionalText,
  pressure: optionalText,
  sideOfPuck: optionalText,
  xy: z
    .array(point)
    .nullish()
    .transform((v) => v ?? []),
});

const successFlag = z
  .union([z.boolean(), z.null(), z.undefined(), z.enum(['', 'true', 'false', 's', 'u'])])
  .transform((v) => (v === true || v === 'true' || v === 's' ? true : v === false || v === 'false' || v === 'u' ? false : null));

const event = z.object({
  idx: wholeNumber,
  period,
  type: z.string().min(1, 'must name the event type'),
  team: z.preprocess(emptyToNull, venue.nullish()).transform((v) => v ?? null),
  zone: optionalText,
  success: successFlag,
  detail1: optionalText,
  detail2: optionalText,
  start_time: clock,
  end_time: clock,
  strength: optionalText,
  linkedEventIdx: optionalWhole,
  assistToGoalIdx: optionalWhole,
  sequenceIdx: optionalWhole,
  playIdx: optionalWhole,
  players: z
    .array(eventPlayer)
    .nullish()
    .transform((v) => v ?? []),
  puckXY: z
    .array(point)
    .nullish()
    .transform((v) => v ?? null),
  netXY: z
    .array(point)
    .nullish()
    .transform((v) => v ?? null),
  isHighlight: z
    .boolean()
    .nullish()
    .transform((v) => v ?? null),
});

const slotPlayer = z.object({ num: wholeNumber, name: optionalText }).nullable();

/** Line slots F1 F2 F3 D1 D2 (forwards, defense), G (goalie), X (extra skater). */
const slots = z.record(z.enum(['F1', 'F2', 'F3', 'D1', 'D2', 'G', 'X'], { message: 'slots are F1 F2 F3 D1 D2 G X' }), slotPlayer);

const shift = z.object({
  period,
  start_time: clock,
  end_time: clock,
  start_type: optionalText,
  stop_type: optionalText,
  strength: optionalText,
  duration: optionalSeconds,
  stoppageTime: optionalSeconds,
  home: slots.nullish().transform((v) => v ?? null),
  away: slots.nullish().transform((v) => v ?? null),
});

const rosterPlayer = z.object({
  id: optionalText,
  num: wholeNumber,
  name: z.string().min(1, 'must have a name'),
  pos: optionalText,
});

function uniqueNumbers(side: 'home' | 'away') {
  return (players: { num: number }[], ctx: z.RefinementCtx) => {
    const seen = new Set<number>();
    players.forEach((p, i) => {
      if (seen.has(p.num)) ctx.addIssue({ code: 'custom', path: [i, 'num'], message: `number ${p.num} appears twice in the ${side} roster` });
      seen.add(p.num);
    });
  };
}

// Refused is only what makes the ETL impossible: no game id, no rosters, an event without its
// index, period or type, a value of the wrong kind. Odd values (negative durations, ends
// before starts, unknown numbers, an idx seen twice) are staged and reported: findings.ts.
export const trackerExportSchema = z.object({
  gameId: z.preprocess(
    (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
    z.number().int('must be a whole number').positive('must be positive').max(2147483647, 'is too large'),
  ),
  homeTeam: z.string().min(1, 'must name the home team'),
  awayTeam: z.string().min(1, 'must name the away team'),
  version: optionalText,
  exportDate: z
    .preprocess(
      emptyToNull,
      z
        .string()
        .refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO date and time')
        .nullish(),
    )
    .transform((v) => v ?? null),
  rosters: z.object({
    home: z.array(rosterPlayer).superRefine(uniqueNumbers('home')),
    away: z.array(rosterPlayer).superRefine(uniqueNumbers('away')),
  }),
  periodLengths: z
    .record(z.string(), z.number().nullable())
    .nullish()
    .transform((v) => v ?? null),
  events: z
    .array(event)
    .nullish()
    .transform((v) => v ?? []),
  shifts: z
    .array(shift)
    .nullish()
    .transform((v) => v ?? []),
});

/** A validated export: only these fields exist; `settings` and the rest are gone. */
export type TrackerExport = z.output<typeof trackerExportSchema>;
