/**
 * A catalogue of bad inputs: each must fail with an error a person can act on (file,
 * line as seen in an editor, column as written in the header, value), change no row of
 * any warehouse table, and leave a failed record in load_history. Then a few good edge
 * inputs that must load exactly as written.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Queryable } from '../../loader/db/database';
import { DIRECT_PARK_BYTES, folderSource, load, type LoadErrorInfo, type LoadRequest } from '../../loader/engine';
import { TABLE_NAMES, WAREHOUSE, type Group } from '../../loader/warehouse';
import { freshDatabase, type TestDatabase } from '../support/database';
import { csvFor, folderWith, miniLeague, miniLeagueFiles, type Row } from '../support/fixtures';

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
});
afterAll(async () => t?.drop());

async function rows<R = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
  return (await t.db.query<R>(sql, params)).rows;
}

// ── The known-good state every bad input is tried against ─────────────────────
const m = miniLeague();
const shifts: Row[] = [
  { shift_key: 'SH100100001', game_id: 1001, shift_index: '1.0', Period: '1.0', shift_start_sec: '12.5', home_team_id: 'N10001', away_team_id: 'N10002' },
  { shift_key: 'SH100200001', game_id: 1002, shift_index: '1.0', Period: '1.0', shift_start_sec: '3.25', home_team_id: 'N10001', away_team_id: 'N10002' },
];
const BASELINE_TABLES = ['dim_team', 'dim_player', 'dim_schedule', 'fact_shifts', 'fact_events', 'fact_events_player'];

/** Every warehouse table's rows (and the columns of the schema) as hashes. */
async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of TABLE_NAMES) {
    const [r] = await rows<{ n: string; h: string | null }>(`SELECT count(*) AS n, md5(string_agg(x::text, '|' ORDER BY x::text)) AS h FROM ${table} x`);
    out[table] = `${r!.n} rows, ${r!.h ?? 'empty'}`;
  }
  const [cols] = await rows<{ h: string }>(
    `SELECT md5(string_agg(table_name || '.' || column_name || ' ' || data_type, ',' ORDER BY table_name, ordinal_position)) AS h
     FROM information_schema.columns WHERE table_schema = 'public'`,
  );
  out['(columns)'] = cols!.h;
  return out;
}

let pristine: Record<string, string> | undefined;

/** Loads the mini league unless the database already holds exactly it. */
async function ensureBaseline(): Promise<Record<string, string>> {
  if (pristine) {
    const now = await snapshot();
    if (JSON.stringify(now) === JSON.stringify(pristine)) return now;
  }
  await t.db.query(`TRUNCATE ${TABLE_NAMES.join(', ')}`);
  const r = await load(t.db, {
    initiatedBy: 'test',
    scope: { kind: 'tables', tables: BASELINE_TABLES },
    operation: 'replace',
    source: folderSource(folderWith({ ...miniLeagueFiles(), 'fact_shifts.csv': csvFor('fact_shifts', shifts) })),
  });
  expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
  pristine = await snapshot();
  return pristine;
}

// ── Building bad files ───────────────────────────────────────────────────────
const TEAM_CSV = csvFor('dim_team', m.teams);
const [TEAM_HEADER, ACE, BLADES] = TEAM_CSV.trimEnd().split('\n') as [string, string, string];
/** A dim_team line: index, name, id, then the 12 other columns (league is the 4th of them). */
const teamLine = (index: number | string, name: string, id: string) => `${index},${name},${id},,,,NORAD,,,,,,,,`;

function fileRequest(table: string, content: string | Buffer, extra: Partial<LoadRequest> = {}): LoadRequest {
  return {
    initiatedBy: 'test',
    scope: { kind: 'tables', tables: [table] },
    operation: 'replace',
    source: folderSource(folderWith({ [`${table}.csv`]: content })),
    ...extra,
  };
}
/** fact_events with the second event (CSV line 3) changed. */
const eventsWith = (change: Row, extra: Partial<LoadRequest> = {}) =>
  fileRequest('fact_events', csvFor('fact_events', [m.events[0]!, { ...m.events[1]!, ...change }, m.events[2]!]), extra);
/** dim_schedule with the second game (CSV line 3) changed. */
const scheduleWith = (change: Row) => fileRequest('dim_schedule', csvFor('dim_schedule', [m.schedule[0]!, { ...m.schedule[1]!, ...change }, m.schedule[2]!]));
/** fact_shifts with the second shift (CSV line 3) changed. */
const shiftsWith = (change: Row) => fileRequest('fact_shifts', csvFor('fact_shifts', [shifts[0]!, { ...shifts[1]!, ...change }]));
/** A request that never gets as far as a file. */
const requestWith = (extra: Partial<LoadRequest>): LoadRequest => ({ ...fileRequest('fact_events', csvFor('fact_events', m.events)), ...extra });

/** Bytes that look random but are the same every run. */
function noise(length: number): Buffer {
  const b = Buffer.alloc(length);
  let x = 0x2545f491;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const TEN_MB = 10 * 1024 * 1024;

// ── Every way a file goes in ─────────────────────────────────────────────────
// load.ts takes a file one of three ways: staged (an upsert into a table that has rows),
// or straight into the emptied table (a whole-table replace) as a small file (emptied
// with DELETE, each key's line kept) or as one of DIRECT_PARK_BYTES or more (TRUNCATE,
// indexes parked, the rows' lines by position). Cases about the reader run on all three.
const PATHS = [
  { path: 'staged', operation: 'upsert', big: false },
  { path: 'direct', operation: 'replace', big: false },
  { path: 'direct, big file', operation: 'replace', big: true },
] as const;
type Path = (typeof PATHS)[number];
/** Text for a text column of an early row, that makes a file a big one. */
const PAD = 'p'.repeat(DIRECT_PARK_BYTES + 16 * 1024);
const padFor = (p: Path) => (p.big ? PAD : '');
/** A request for `table` the way `p` goes, its file made by `content` (given the padding). */
function onPath(p: Path, table: string, content: (pad: string) => string | Buffer, extra: Partial<LoadRequest> = {}): LoadRequest {
  const c = content(padFor(p));
  if (p.big) expect(Buffer.byteLength(c)).toBeGreaterThanOrEqual(DIRECT_PARK_BYTES);
  return fileRequest(table, c, { operation: p.operation, ...extra });
}
function onEveryPath(c: { name: string; table: string; content: (pad: string) => string | Buffer; error: BadCase['error'] }): BadCase[] {
  return PATHS.map((p) => ({ name: `${c.name} (${p.path})`, request: () => onPath(p, c.table, c.content), error: c.error }));
}
/**
 * The way a load of one table went, as its statements show: its COPY into a staging
 * table, or into the table itself, and then with each key's line kept (a small file,
 * emptied with DELETE) or by position (a big one, TRUNCATEd).
 */
async function loadSeeingPath(req: LoadRequest): Promise<{ r: Awaited<ReturnType<typeof load>>; path: Path['path'] }> {
  const seen: { sql: string; arg: unknown }[] = [];
  const wrap = <Q extends Queryable>(q: Q): Q =>
    new Proxy(q, {
      get(target, p) {
        const v = Reflect.get(target, p) as unknown;
        if (p === 'query' || p === 'copyFrom') {
          return (sql: string, arg: unknown) => (seen.push({ sql, arg }), (v as (a: string, b: unknown) => unknown).call(target, sql, arg));
        }
        if (p === 'transaction')
          return (fn: (tx: Queryable) => Promise<unknown>, o?: unknown) => (v as Database['transaction']).call(target, (tx) => fn(wrap(tx)), o as undefined);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  const r = await load(wrap(t.db), req);
  const copy = seen.find((x) => x.sql.startsWith('COPY '))!.sql;
  const applied = seen.find((x) => x.sql.includes('bs_apply_loaded'));
  const lines = applied && (JSON.parse((applied.arg as string[])[1]!) as { lines: object }).lines;
  return { r, path: /^COPY bs_stage_/.test(copy) ? 'staged' : lines && 'by_key' in lines ? 'direct' : 'direct, big file' };
}

/** The first team, its team_url (the last column) made of `pad`. */
const aceWith = (pad: string) => `${teamLine(0, 'Ace', 'N10001')}${pad}`;
/** fact_events: the mini league's first three events, the first one's event_detail `pad`, the second changed. */
const eventsCsv = (pad: string, change: Row = {}) =>
  csvFor('fact_events', [{ ...m.events[0]!, event_detail: pad }, { ...m.events[1]!, ...change }, m.events[2]!]);
/** Text as Excel and Windows tools write "Unicode text": UTF-16, little-endian unless swapped. */
const utf16 = (text: string, opts: { bom: boolean; bigEndian?: boolean }) => {
  const b = Buffer.concat([opts.bom ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), Buffer.from(text, 'utf16le')]);
  return opts.bigEndian ? b.swap16() : b;
};

interface BadCase {
  name: string;
  request: () => LoadRequest;
  /** What the error must say; `file` is the file's base name. */
  error: Omit<LoadErrorInfo, 'message'> & { message: RegExp };
}

const BAD: BadCase[] = [
  // ── Malformed CSV ──
  {
    name: 'an unclosed quote at the end of the file',
    request: () => fileRequest('dim_team', `${TEAM_HEADER}\n${ACE}\n${teamLine(2, '"Cats', 'N10003')}\n`),
    error: { message: /quote.*never closed/, file: 'dim_team.csv', table: 'dim_team', line: 3 },
  },
  ...onEveryPath({
    name: 'an unclosed quote on the last line, which has no newline',
    table: 'dim_team',
    content: (pad) => `${TEAM_HEADER}\n${aceWith(pad)}\n2,"Cats,N10003`,
    error: { message: /quote.*never closed: the file ends inside it/, file: 'dim_team.csv', line: 3 },
  }),
  // A file cut short (an interrupted copy or upload): its last line has no newline and
  // fewer values than the header. (One that still has every value cannot be told from a
  // complete row: test/engine/values.test.ts.)
  ...onEveryPath({
    name: 'the last row cut short, without a final newline',
    table: 'dim_team',
    content: (pad) => `${TEAM_HEADER}\n${aceWith(pad)}\n${BLADES}\n2,Cats,N10003,`,
    error: { message: /^the file ends in the middle of this row: it has 4 of the header's 15 values/, file: 'dim_team.csv', table: 'dim_team', line: 4 },
  }),
  ...onEveryPath({
    name: 'fact_events cut 40 bytes into its last row',
    table: 'fact_events',
    content: (pad) => {
      const csv = eventsCsv(pad);
      const last = csv.lastIndexOf('\n', csv.length - 2) + 1;
      return csv.slice(0, last + 40);
    },
    error: {
      message: /^the file ends in the middle of this row: it has \d+ of the header's 54 values/,
      file: 'fact_events.csv',
      table: 'fact_events',
      line: 4,
    },
  }),
  {
    name: 'an unclosed quote mid-file',
    request: () =>
      fileRequest('dim_team', `${TEAM_HEADER}\n${teamLine(0, '"Ace', 'N10001')}\n${teamLine(2, 'Cats', 'N10003')}\n${teamLine(3, 'Dogs', 'N10004')}\n`),
    error: { message: /quote.*never closed/, file: 'dim_team.csv', line: 2 },
  },
  {
    // The quote opened on line 2 pairs with the quotes of line 3's properly quoted field,
    // so the last quote left open is on line 3; the row to fix is line 2.
    name: 'an unclosed quote mid-file, before a row with a properly quoted field',
    request: () => fileRequest('dim_team', `${TEAM_HEADER}\n${teamLine(0, '"Ace', 'N10001')}\n${BLADES}\n${teamLine(3, 'Dogs', 'N10004')}\n`),
    error: { message: /quote/, file: 'dim_team.csv', line: 2 },
  },
  {
    name: 'a row with too many values',
    request: () => fileRequest('dim_team', `${TEAM_HEADER}\n${ACE}\n${BLADES},surplus\n`),
    error: { message: /more values than the header/, file: 'dim_team.csv', table: 'dim_team', line: 3 },
  },
  {
    name: 'a row with too few values',
    request: () => fileRequest('dim_team', `${TEAM_HEADER}\n${ACE}\n1,Blades,N10002\n`),
    error: { message: /fewer values than the header.*norad_team/, file: 'dim_team.csv', line: 3 },
  },
  {
    name: 'a line of spaces between rows',
    request: () => fileRequest('dim_team', `${TEAM_HEADER}\n${ACE}\n   \n${BLADES}\n`),
    error: { message: /fewer values than the header/, file: 'dim_team.csv', line: 3 },
  },
  {
    name: 'a stray quote inside an unquoted field',
    request: () => fileRequest('dim_team', `${TEAM_HEADER}\n${ACE}\n${teamLine(1, 'Bla"des', 'N10002')}\n`),
    error: { message: /quote/, file: 'dim_team.csv', line: 3 },
  },
  {
    // PostgreSQL's CSV reader drops quotes in the middle of an unquoted field: this row
    // would load as `The Blades Club`, silently changed.
    name: 'a pair of stray quotes inside an unquoted field',
    request: () => fileRequest('dim_team', `${TEAM_HEADER}\n${ACE}\n${teamLine(1, 'The "Blades" Club', 'N10002')}\n`),
    error: { message: /quote/i, file: 'dim_team.csv', line: 3 },
  },
  {
    name: 'a NUL byte inside a field',
    request: () => fileRequest('dim_team', `${TEAM_HEADER}\n${ACE}\n${teamLine(1, 'Bla\0des', 'N10002')}\n`),
    error: { message: /NUL|0x00|zero byte/i, file: 'dim_team.csv', line: 3 },
  },
  {
    name: 'a CRLF file with an LF line',
    request: () => fileRequest('dim_team', `${TEAM_HEADER}\r\n${ACE}\r\n${BLADES}\n`),
    error: { message: /newline|line end|CRLF|carriage/i, file: 'dim_team.csv', line: 3 },
  },
  {
    name: 'a file with CR-only (old Mac) line endings',
    request: () => fileRequest('dim_team', TEAM_CSV.replace(/\n/g, '\r')),
    error: { message: /\bCR\b|carriage return|line end/i, file: 'dim_team.csv' },
  },

  // ── Values that do not fit their column ──
  {
    name: 'a fraction 1.5 in an integer column',
    request: () => eventsWith({ period: '1.5' }),
    error: { message: /'1\.5' is not a whole number/, file: 'fact_events.csv', table: 'fact_events', line: 3, column: 'period', value: '1.5' },
  },
  {
    name: 'abc in an integer column',
    request: () => fileRequest('dim_player', csvFor('dim_player', [m.players[0]!, m.players[1]!, { ...m.players[2]!, current_skill_rating: 'abc' }])),
    error: { message: /not a whole number/, file: 'dim_player.csv', line: 4, column: 'current_skill_rating', value: 'abc' },
  },
  {
    name: '12abc in an integer column',
    request: () => eventsWith({ period: '12abc' }),
    error: { message: /not a whole number/, line: 3, column: 'period', value: '12abc' },
  },
  {
    name: 'a hexadecimal 0x1A in an integer column (PostgreSQL 16 would read it as 26)',
    request: () => eventsWith({ period: '0x1A' }),
    error: { message: /not a whole number/, line: 3, column: 'period', value: '0x1A' },
  },
  {
    name: '1_000 in an integer column (PostgreSQL 16 would read it as 1000)',
    request: () => eventsWith({ event_index: '1_000' }),
    error: { message: /not a whole number/, line: 3, column: 'event_index', value: '1_000' },
  },
  {
    name: 'a number too large for integer',
    request: () => eventsWith({ event_index: '99999999999' }),
    error: { message: /out of range .* integer: it takes -2147483648 to 2147483647/, line: 3, column: 'event_index', value: '99999999999' },
  },
  ...onEveryPath({
    name: '2147483648 (one past the largest integer) in an integer column',
    table: 'fact_events',
    content: (pad) => eventsCsv(pad, { event_index: '2147483648' }),
    error: {
      message: /^'2147483648' is out of range for a whole-number column of type integer: it takes -2147483648 to 2147483647$/,
      file: 'fact_events.csv',
      line: 3,
      column: 'event_index',
      value: '2147483648',
    },
  }),
  {
    name: 'a fraction in the key column',
    request: () => scheduleWith({ game_id: '1002.5' }),
    error: { message: /not a whole number/, file: 'dim_schedule.csv', line: 3, column: 'game_id', value: '1002.5' },
  },
  {
    name: 'abc in the game column, in a one-game load',
    request: () => eventsWith({ game_id: 'abc' }, { gameId: 1001 }),
    error: { message: /'abc' is not a whole number/, file: 'fact_events.csv', line: 3, column: 'game_id', value: 'abc' },
  },
  {
    name: 'an unparseable date 2024-13-45 00:00:00',
    request: () => scheduleWith({ date: '2024-13-45 00:00:00' }),
    error: { message: /not a date/, file: 'dim_schedule.csv', line: 3, column: 'date', value: '2024-13-45 00:00:00' },
  },
  {
    name: 'a non-ISO date 09/15/2024',
    request: () => scheduleWith({ date: '09/15/2024' }),
    error: { message: /not a date/, line: 3, column: 'date', value: '09/15/2024' },
  },
  {
    name: 'a time of day 25:99:00',
    request: () => scheduleWith({ game_time: '25:99:00' }),
    error: { message: /not a time of day/, line: 3, column: 'game_time', value: '25:99:00' },
  },
  {
    name: 'a time of day 6:45 PM',
    request: () => scheduleWith({ game_time: '6:45 PM' }),
    error: { message: /not a time of day/, line: 3, column: 'game_time', value: '6:45 PM' },
  },
  {
    name: 'NaNx in a numeric column',
    request: () => shiftsWith({ shift_start_sec: 'NaNx' }),
    error: { message: /'NaNx' is not a number/, file: 'fact_shifts.csv', line: 3, column: 'shift_start_sec', value: 'NaNx' },
  },
  {
    name: 'a decimal comma 1,5 in a numeric column',
    request: () => shiftsWith({ shift_start_sec: '1,5' }),
    error: { message: /not a number/, line: 3, column: 'shift_start_sec', value: '1,5' },
  },
  {
    // The error names the value; a megabyte of it does not belong in a message.
    name: 'a 1 MB value in an integer column',
    request: () => fileRequest('dim_player', csvFor('dim_player', [{ ...m.players[0]!, birth_year: '9'.repeat(1 << 20) }])),
    error: { message: /out of range for a whole-number column of type integer/, file: 'dim_player.csv', line: 2, column: 'birth_year' },
  },
  {
    name: 'a bad value after a multi-line quoted field (the line numbers count its lines)',
    request: () =>
      fileRequest(
        'dim_player',
        csvFor('dim_player', [
          { ...m.players[0]!, player_notes: 'a\nb\r\nc' },
          { ...m.players[1]!, birth_year: 'x' },
        ]),
      ),
    error: { message: /not a whole number/, file: 'dim_player.csv', line: 5, column: 'birth_year', value: 'x' },
  },
  {
    name: 'a row with too many values after a multi-line quoted field',
    request: () => fileRequest('dim_team', `${TEAM_HEADER}\n${teamLine(0, '"Ace\nof\nspades"', 'N10001')}\n${BLADES},surplus\n`),
    error: { message: /more values than the header/, file: 'dim_team.csv', line: 5 },
  },

  // ── Headers ──
  {
    name: 'an unknown header column',
    request: () => fileRequest('dim_team', TEAM_CSV.replace('team_name', 'team_nom')),
    error: { message: /dim_team has no column team_nom/, file: 'dim_team.csv', line: 1, column: 'team_nom' },
  },
  {
    name: 'a duplicate header',
    request: () => fileRequest('dim_team', TEAM_CSV.replace('team_name', 'team_id')),
    error: { message: /"team_id" twice/, file: 'dim_team.csv', line: 1, column: 'team_id' },
  },
  {
    name: 'two headers that map to the same column (type and Type)',
    request: () => fileRequest('fact_events', csvFor('fact_events', m.events).replace('event_type', 'type')),
    error: {
      message: /"type" and "Type" both mean column type|"Type" and "type" both mean column type/,
      file: 'fact_events.csv',
      line: 1,
      column: expect.stringMatching(/^(type|Type)$/) as unknown as string,
    },
  },
  // Excel writes (and reads) a first line `sep=,` naming the separator: the reader skips
  // it with a warning, and the line numbers count it.
  ...onEveryPath({
    name: "Excel's sep=, line, then a bad value (line numbers count the sep line)",
    table: 'dim_team',
    content: (pad) => `sep=,\r\n${TEAM_HEADER}\r\n${aceWith(pad)}\r\n${teamLine('x', 'Cats', 'N10003')}\r\n`,
    error: { message: /'x' is not a whole number/, file: 'dim_team.csv', line: 4, column: 'index', value: 'x' },
  }),
  {
    name: "Excel's sep=, line, then an unknown header column (on line 2)",
    request: () => fileRequest('dim_team', `sep=,\n${TEAM_CSV.replace('team_name', 'team_nom')}`),
    error: { message: /dim_team has no column team_nom/, file: 'dim_team.csv', line: 2, column: 'team_nom' },
  },
  {
    name: "Excel's sep=; line: a file separated by semicolons",
    request: () => fileRequest('dim_team', `sep=;\n${TEAM_CSV.replace(/,/g, ';')}`),
    error: { message: /separated by ";" \(Excel's "sep=;" line\)/, hint: expect.stringMatching(/comma/) as unknown as string, file: 'dim_team.csv', line: 1 },
  },
  {
    name: 'an empty header name',
    request: () => fileRequest('dim_team', TEAM_CSV.replace('team_name', '')),
    error: { message: /header column 2 has no name/, file: 'dim_team.csv', line: 1 },
  },
  {
    name: 'a header too long to be a column name',
    request: () => fileRequest('dim_team', TEAM_CSV.replace('team_name', 'x'.repeat(70))),
    error: { message: /does not make a usable column name/, file: 'dim_team.csv', line: 1, column: 'x'.repeat(70) },
  },
  {
    name: 'a file without the key column',
    request: () => fileRequest('dim_player', csvFor('dim_player', m.players, { headers: ['index', 'player_full_name'] })),
    error: { message: /no column player_id/, file: 'dim_player.csv', line: 1 },
  },
  {
    name: 'a fact file without game_id',
    request: () => fileRequest('fact_events', csvFor('fact_events', m.events, { headers: ['event_key', 'period', 'event_type'] })),
    error: { message: /no column game_id/, file: 'fact_events.csv', line: 1 },
  },
  {
    name: "another table's file",
    request: () => fileRequest('dim_player', TEAM_CSV),
    error: { message: /dim_player has no columns team_name/, file: 'dim_player.csv', line: 1 },
  },

  // ── Files ──
  {
    name: 'an empty file (0 bytes)',
    request: () => fileRequest('dim_team', ''),
    error: { message: /the file is empty/, file: 'dim_team.csv', table: 'dim_team' },
  },
  {
    name: 'a header only',
    request: () => fileRequest('dim_team', `${TEAM_HEADER}\n`),
    error: { message: /header but no rows/, file: 'dim_team.csv' },
  },
  {
    name: 'only a BOM',
    request: () => fileRequest('dim_team', Buffer.from([0xef, 0xbb, 0xbf])),
    error: { message: /the file is empty/, file: 'dim_team.csv' },
  },
  {
    name: 'a BOM and a header only',
    request: () => fileRequest('dim_team', `\ufeff${TEAM_HEADER}\r\n`),
    error: { message: /header but no rows/, file: 'dim_team.csv' },
  },
  // Excel's "Unicode text" and PowerShell's default output are UTF-16 (two bytes per
  // character, so ASCII text is full of NUL bytes): named as such, with how to save UTF-8.
  ...(
    [
      ['UTF-16 (little-endian, with a BOM)', { bom: true }],
      ['UTF-16 (little-endian, without a BOM)', { bom: false }],
      ['UTF-16 (big-endian, with a BOM)', { bom: true, bigEndian: true }],
    ] as const
  ).flatMap(([label, opts]) =>
    onEveryPath({
      name: `a file in ${label}`,
      table: 'dim_team',
      content: (pad) => utf16(`${TEAM_HEADER}\r\n${aceWith(pad)}\r\n${BLADES}\r\n`, opts),
      error: {
        message: /^the file is UTF-16 text, not UTF-8/,
        hint: expect.stringMatching(/save it as UTF-8/) as unknown as string,
        file: 'dim_team.csv',
        line: 1,
      },
    }),
  ),
  {
    name: 'a file that is not UTF-8 (latin-1)',
    request: () => fileRequest('dim_player', Buffer.from(csvFor('dim_player', m.players.slice(0, 2)), 'latin1')),
    error: { message: /not UTF-8/, file: 'dim_player.csv', line: 3 },
  },
  {
    name: 'a gzip file',
    request: () => fileRequest('dim_team', gzipSync(TEAM_CSV)),
    error: { message: /not UTF-8|NUL byte: is this a binary file/, file: 'dim_team.csv', line: 1 },
  },
  {
    name: 'random bytes',
    request: () => fileRequest('dim_team', noise(64 * 1024)),
    error: { message: /not UTF-8|NUL byte: is this a binary file/, file: 'dim_team.csv', line: 1 },
  },
  {
    // Valid UTF-8, so it gets as far as the header: the message must not quote 200 KB of it.
    name: 'a binary file of NUL bytes',
    request: () => fileRequest('dim_team', Buffer.alloc(200_000)),
    error: { message: /./, file: 'dim_team.csv', line: 1 },
  },
  {
    name: 'a 10 MB quoted field that is never closed',
    request: () => fileRequest('dim_player', `${csvFor('dim_player', [m.players[0]!])}9,,,,P100009,,,,,,,,"${'x'.repeat(TEN_MB)}\n`),
    error: { message: /quote.*never closed/, file: 'dim_player.csv', line: 3 },
  },

  // ── Requests ──
  {
    name: 'an unknown table',
    request: () => requestWith({ scope: { kind: 'tables', tables: ['fact_event'] } }),
    error: { message: /unknown table "fact_event"/, hint: expect.stringContaining('fact_events') as unknown as string, file: undefined, line: undefined },
  },
  {
    name: 'an injection attempt as table name (; DROP TABLE)',
    request: () => requestWith({ scope: { kind: 'tables', tables: ['fact_events; DROP TABLE dim_player'] } }),
    error: { message: /unknown table "fact_events; DROP TABLE dim_player"/, file: undefined },
  },
  {
    name: 'an injection attempt as table name (quote and comment)',
    request: () => requestWith({ scope: { kind: 'tables', tables: ['dim_player"--'] } }),
    error: { message: /unknown table/, file: undefined },
  },
  ...(
    [
      ['NaN', Number.NaN],
      ['-1', -1],
      ['0', 0],
      ['1.5', 1.5],
      ['2**40', 2 ** 40],
      ['"1001; DROP TABLE dim_player"', '1001; DROP TABLE dim_player'],
    ] as const
  ).map(
    ([label, gameId]): BadCase => ({
      name: `game id ${label}`,
      request: () => requestWith({ gameId: gameId as number }),
      error: { message: /game id .* is not a positive whole number/, file: undefined },
    }),
  ),
  {
    name: "an unknown operation ('truncate')",
    request: () => requestWith({ operation: 'truncate' as unknown as LoadRequest['operation'] }),
    error: { message: /unknown operation "truncate"/, hint: expect.stringContaining('replace, append, upsert, merge') as unknown as string },
  },
  {
    name: 'a category that does not exist',
    request: () => requestWith({ scope: { kind: 'category', category: 'nonsense' as unknown as Group } }),
    error: { message: /unknown category "nonsense"/, hint: expect.stringContaining('dims') as unknown as string },
  },
  {
    name: 'a game scope on a table without a game column',
    request: () => fileRequest('dim_player', csvFor('dim_player', m.players), { gameId: 1001 }),
    error: { message: /dim_player cannot be loaded for one game: it has no game column/ },
  },
  {
    name: 'a full refresh for one game',
    request: () => requestWith({ scope: { kind: 'full-refresh' }, gameId: 1001 }),
    error: { message: /full refresh covers every game/ },
  },
  {
    name: 'no table at all',
    request: () => requestWith({ scope: { kind: 'tables', tables: [] } }),
    error: { message: /no table given/ },
  },
  {
    name: 'a missing file for a table of the category',
    request: () => fileRequest('dim_team', TEAM_CSV, { scope: { kind: 'category', category: 'dims' } }),
    error: { message: /no file for dim_player, dim_schedule/, hint: expect.stringContaining('<table>.csv') as unknown as string },
  },

  // ── Policies ──
  {
    name: "a duplicate key with {duplicates: 'fail'}",
    request: () =>
      fileRequest('dim_team', csvFor('dim_team', [...m.teams, { ...m.teams[0]!, index: 7, team_name: 'Ace again' }]), { policy: { duplicates: 'fail' } }),
    error: { message: /line 4.*N10001.*first on line 2/, file: 'dim_team.csv', line: 4, column: 'team_id', value: 'N10001' },
  },
  {
    name: "an orphan with {orphans: 'fail'}",
    request: () => eventsWith({ game_id: 4242 }, { policy: { orphans: 'fail' } }),
    error: { message: /game_id 4242 is not in dim_schedule/, file: 'fact_events.csv', line: 3, column: 'game_id', value: '4242' },
  },
];

/** A sentence a person can read: no stack, no "undefined", no dump of the input. */
function expectReadable(message: string): void {
  expect.soft(typeof message).toBe('string');
  expect.soft(message.length).toBeGreaterThan(10);
  expect.soft(message.length, `a message to read, not a dump (${message.length} characters)`).toBeLessThan(1000);
  expect.soft(message).not.toMatch(/\bundefined\b|\[object \w+\]|^\w*Error\b|\n\s+at \S+ \(|\bnull\b/);
  expect.soft(message).not.toMatch(/[\u0000-\u0008\u000e-\u001f]/);
}

describe('bad inputs: a clear error, nothing changed, a failed record', () => {
  it('the catalogue has as many cases as test/README.md says', () => {
    const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    expect(readme).toContain(`the bad-input catalogue: ${BAD.length} cases`);
  });

  it.each(BAD)('$name', async (c) => {
    const before = await ensureBaseline();
    const r = await load(t.db, c.request());

    expect(r.status).toBe('failed');
    expect(r.tables).toEqual([]);
    const e = r.error!;
    expect(e, 'an error').toBeDefined();
    expectReadable(e.message);
    const { message, file, ...fields } = c.error;
    expect.soft(e.message).toMatch(message);
    if ('file' in c.error) expect.soft(e.file === undefined ? undefined : path.basename(e.file)).toBe(file);
    for (const [k, v] of Object.entries(fields)) expect.soft(e[k as keyof LoadErrorInfo], `error.${k}`).toEqual(v);

    expect(await snapshot(), 'no warehouse row changed').toEqual(before);

    const history = await rows<{ kind: string; status: string; error_message: string | null; error_detail: unknown }>(
      'SELECT kind, status, error_message, error_detail FROM load_history WHERE request_id = $1 ORDER BY id',
      [r.requestId],
    );
    expect(history.length, 'the request has a history record').toBeGreaterThan(0);
    expect(history.map((h) => h.status)).toEqual(history.map(() => 'failed'));
    const request = history.find((h) => h.kind === 'request')!;
    expect(request.error_message).toContain(e.message.slice(0, 200));
    expect(request.error_detail).toEqual(JSON.parse(JSON.stringify(e)));
    expect(await rows('SELECT 1 FROM load_rejects WHERE request_id = $1', [r.requestId])).toEqual([]);
  });

  it('injection attempts leave dim_player intact and drop no table', async () => {
    await ensureBaseline();
    const players = await rows('SELECT * FROM dim_player ORDER BY player_id');
    for (const table of ['fact_events; DROP TABLE dim_player', 'dim_player"--', "dim_player'; DROP TABLE dim_player; --", 'dim_player; TRUNCATE dim_player']) {
      const r = await load(t.db, requestWith({ scope: { kind: 'tables', tables: [table] } }));
      expect(r.status).toBe('failed');
    }
    const r = await load(t.db, requestWith({ scope: { kind: 'category', category: "dims'; DROP TABLE dim_player; --" as unknown as Group } }));
    expect(r.status).toBe('failed');
    const present = await rows<{ t: string | null }>('SELECT to_regclass(x)::text AS t FROM unnest($1::text[]) x', [[...TABLE_NAMES]]);
    expect(present.map((p) => p.t)).toEqual([...TABLE_NAMES]);
    expect(await rows('SELECT * FROM dim_player ORDER BY player_id')).toEqual(players);
    expect(players).toHaveLength(4);
  });

  // The declaration has no boolean and no date column, so `maybe` in a boolean column,
  // `True`/`false`/`1`/`0` in one, and a date with a time of day in a date column do not
  // apply. This test fails when one appears, as a reminder to add those cases.
  it('has no boolean or date columns (the boolean and date cases do not apply)', () => {
    const typed = WAREHOUSE.flatMap((tb) => tb.columns.filter((c) => c.type === 'boolean' || c.type === 'date').map((c) => `${tb.name}.${c.name}`));
    expect(typed).toEqual([]);
  });
});

describe('good edge inputs load exactly as written', () => {
  async function loadOk(req: LoadRequest) {
    await ensureBaseline();
    const r = await load(t.db, req);
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    pristine = undefined; // the next case reloads the baseline
    return r;
  }

  it('a file with a BOM and CRLF line endings', async () => {
    const teams = m.teams.map((tm, i) => ({ ...tm, team_url: `https://example.org/team?id=${i}&season=2024` }));
    const r = await loadOk(fileRequest('dim_team', `\ufeff${csvFor('dim_team', teams).replace(/\n/g, '\r\n')}`));
    expect(r.tables[0]).toMatchObject({ rowsInFile: 2, inserted: 2, rejected: 0 });
    expect(await rows('SELECT index, team_name, team_id, league, team_url FROM dim_team ORDER BY team_id')).toEqual([
      { index: 0, team_name: 'Ace', team_id: 'N10001', league: 'NORAD', team_url: 'https://example.org/team?id=0&season=2024' },
      { index: 1, team_name: 'Blades, "The"', team_id: 'N10002', league: 'NORAD', team_url: 'https://example.org/team?id=1&season=2024' },
    ]);
  });

  it('non-ASCII text, quoted commas, quotes and newlines, URLs with query strings', async () => {
    const notes = 'He said "hi, there",\nthen left;\r\nback at 10:00 — ok?';
    const players = [
      { ...m.players[0]!, player_notes: notes, player_url: 'https://example.org/p?id=1&tab=stats#top' },
      m.players[1]!,
      m.players[2]!,
      { ...m.players[3]!, player_full_name: 'Zoë "Z" O\'Neil, Jr.', player_notes: '"' },
    ];
    await loadOk(fileRequest('dim_player', csvFor('dim_player', players)));
    expect(await rows('SELECT player_id, player_full_name, player_notes, player_url FROM dim_player ORDER BY player_id')).toEqual([
      { player_id: 'P100001', player_full_name: 'Sam Downs', player_notes: notes, player_url: 'https://example.org/p?id=1&tab=stats#top' },
      { player_id: 'P100002', player_full_name: 'Zoë Ångström', player_notes: null, player_url: null },
      { player_id: 'P100003', player_full_name: '5 – Francis Forte (G)', player_notes: null, player_url: null },
      { player_id: 'P100004', player_full_name: 'Zoë "Z" O\'Neil, Jr.', player_notes: '"', player_url: null },
    ]);
    expect(await rows('SELECT game_id, game_url FROM dim_schedule WHERE game_id = 1001')).toEqual([
      { game_id: 1001, game_url: 'https://example.org/event/1001/?a=1&b=2' },
    ]);
  });

  it('integers written as floats, empty cells and the missing-value spellings of pandas', async () => {
    const players = [
      { ...m.players[0]!, birth_year: '1730.0', current_skill_rating: '' },
      { ...m.players[1]!, birth_year: '1990.000', current_skill_rating: 'nan' },
      { ...m.players[2]!, birth_year: 'NaN', current_skill_rating: 'None' },
      { ...m.players[3]!, birth_year: '1979', current_skill_rating: '3.0', player_notes: '' },
    ];
    await loadOk(fileRequest('dim_player', csvFor('dim_player', players)));
    expect(await rows('SELECT player_id, birth_year, current_skill_rating, player_notes FROM dim_player ORDER BY player_id')).toEqual([
      { player_id: 'P100001', birth_year: 1730, current_skill_rating: null, player_notes: null },
      { player_id: 'P100002', birth_year: 1990, current_skill_rating: null, player_notes: null },
      { player_id: 'P100003', birth_year: null, current_skill_rating: null, player_notes: null },
      { player_id: 'P100004', birth_year: 1979, current_skill_rating: 3, player_notes: null },
    ]);
  });

  it('1e400 in a numeric column is a number numeric holds exactly', async () => {
    await loadOk(shiftsWith({ shift_start_sec: '1e400' }));
    expect(await rows("SELECT shift_start_sec::text = '1' || repeat('0', 400) AS exact FROM fact_shifts WHERE shift_key = 'SH100200001'")).toEqual([
      { exact: true },
    ]);
  });

  // Decision: a 10 MB text field is data, not an attack; PostgreSQL holds it and the
  // reader streams it, so it loads, byte for byte.
  it('a 10 MB quoted text field loads exactly', async () => {
    const big = `"start", ${'x'.repeat(TEN_MB - 32)}\nend,"""`.padEnd(TEN_MB, 'y');
    expect(Buffer.byteLength(big)).toBe(TEN_MB);
    await loadOk(fileRequest('dim_player', csvFor('dim_player', [{ ...m.players[0]!, player_notes: big }, m.players[1]!])));
    const [stored] = await rows<{ n: number; h: string }>(
      "SELECT octet_length(player_notes) AS n, md5(player_notes) AS h FROM dim_player WHERE player_id = 'P100001'",
    );
    expect(stored).toEqual({ n: TEN_MB, h: createHash('md5').update(big).digest('hex') });
  });

  describe.each(PATHS)('on every path: $path', (p) => {
    // The file's last line has no newline: that row loads like every other (it used to be
    // counted, reported inserted, and never written).
    it('a last line without a final newline loads that row', async () => {
      await ensureBaseline();
      const { r, path: taken } = await loadSeeingPath(
        onPath(p, 'dim_team', (pad) => `${TEAM_HEADER}\n${aceWith(pad)}\n${BLADES}\n${teamLine(2, 'Cats', 'N10003')}`),
      );
      pristine = undefined;
      expect(taken, 'the way the file went').toBe(p.path);
      expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
      expect(r.tables[0]).toMatchObject({ rowsInFile: 3, rejected: 0 });
      const t0 = r.tables[0]!;
      expect(t0.inserted + t0.updated + t0.unchanged).toBe(3);
      expect(await rows('SELECT index, team_name, league FROM dim_team WHERE team_id = $1', ['N10003'])).toEqual([
        { index: 2, team_name: 'Cats', league: 'NORAD' },
      ]);
      expect(await rows('SELECT count(*)::int AS n FROM dim_team')).toEqual([{ n: 3 }]);

      const events = (pad: string) =>
        csvFor('fact_events', [
          { ...m.events[0]!, event_detail: pad },
          m.events[1]!,
          { ...m.events[2]!, event_key: 'EV100100009', event_index: '9.0' },
        ]).trimEnd();
      const e = await loadOk(onPath(p, 'fact_events', events));
      expect(e.tables[0]).toMatchObject({ rowsInFile: 3, rejected: 0 });
      expect(await rows("SELECT event_index FROM fact_events WHERE event_key = 'EV100100009'")).toEqual([{ event_index: 9 }]);
    });

    // pandas writes a missing text value as nan (or None, null): in a key column that is
    // a row without its key; in a column that points to another table, no value.
    it("pandas' nan, NaN, None, null, NULL: a missing key (rejected), a missing relation (NULL, not an orphan)", async () => {
      const extra = ['nan', 'NaN', 'None', 'null', 'NULL'].map((k, i) => ({ ...m.events[2]!, event_key: k, event_index: `${i + 10}.0` }));
      const file = (pad: string) =>
        csvFor('fact_events', [
          { ...m.events[0]!, event_detail: pad },
          { ...m.events[1]!, home_team_id: 'nan', away_team_id: 'None' },
          { ...m.events[2]!, home_team_id: 'NULL', away_team_id: 'NaN' },
          ...extra,
        ]);
      // (5 of 8 rows rejected: allowed here, so the outcome is a success)
      const r = await loadOk(onPath(p, 'fact_events', file, { policy: { maxRejects: { count: 5 } } }));
      expect(r.tables[0]).toMatchObject({ rowsInFile: 8, rejected: 5, rejectedByReason: { missing_key: 5 } });
      expect(await rows("SELECT event_key, home_team_id, away_team_id FROM fact_events WHERE event_key IN ('EV100100002', 'EV100100003') ORDER BY 1")).toEqual([
        { event_key: 'EV100100002', home_team_id: null, away_team_id: null },
        { event_key: 'EV100100003', home_team_id: null, away_team_id: null },
      ]);
      expect(await rows("SELECT count(*)::int AS n FROM fact_events WHERE event_key IN ('nan', 'NaN', 'None', 'null', 'NULL')")).toEqual([{ n: 0 }]);
      expect(await rows('SELECT line::int, reason FROM load_rejects WHERE request_id = $1 ORDER BY line', [r.requestId])).toEqual(
        [5, 6, 7, 8, 9].map((line) => ({ line, reason: 'missing_key' })),
      );
    });

    it("Excel's sep=, first line is skipped, with a warning that names it", async () => {
      const r = await loadOk(onPath(p, 'dim_team', (pad) => `sep=,\r\n${TEAM_HEADER}\r\n${aceWith(pad)}\r\n${BLADES}\r\n`));
      expect(r.tables[0]).toMatchObject({ rowsInFile: 2, rejected: 0 });
      expect(r.warnings).toContainEqual(expect.stringMatching(/line 1 is Excel's separator line "sep=,": skipped, the header is line 2/));
      expect(await rows('SELECT team_id FROM dim_team ORDER BY 1')).toEqual([{ team_id: 'N10001' }, { team_id: 'N10002' }]);
    });
  });
});
