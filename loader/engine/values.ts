/**
 * Values as the exports write them, made into values PostgreSQL's own COPY reads for
 * the column's type, on the way to COPY: so a file lands in a typed staging table in
 * one pass, and no SQL cast runs per cell afterwards.
 *
 *   integer, bigint, smallint  `1730.0` → `1730` (pandas' float ints); any other fraction,
 *                              `0x1A`, `1_000`, or a value out of range is refused (the
 *                              message gives the type's range)
 *   boolean                    `1.0`/`0.0` → `1`/`0`; True/False/true/t/… as PostgreSQL reads them
 *   numeric, double precision  plain decimal or exponent notation only
 *   timestamp, date, time      ISO only (`2024-09-15 00:00:00`); a date takes no time of day
 *                              other than midnight; the calendar is checked
 *   every other type           as written
 * Empty cells, and in non-text columns the missing-value spellings pandas has written
 * (nan, NaN, None, null, NULL), are NULL. Text passes through untouched (but for keys
 * and relations, where those spellings are NULL too: csv-records.ts); its empty cells
 * are NULL by the COPY's FORCE_NULL.
 *
 * The rules are those the SQL casts of sql/functions/casts.sql apply to text that reaches
 * the database another way (landing tables, load_table()): the same file loads to the
 * same values whichever path it takes (test/engine/values.test.ts holds them side by side).
 * Every check works on the bytes of one field; nothing is allocated per cell unless the
 * cell is a date or time, or is refused.
 */
export type ValueKind = 'integer' | 'bigint' | 'smallint' | 'boolean' | 'numeric' | 'timestamp' | 'date' | 'time';

/** The kind of normalization a column type takes, or null when values pass as written. */
export function valueKind(columnType: string): ValueKind | null {
  switch (columnType) {
    case 'integer':
    case 'bigint':
    case 'smallint':
    case 'boolean':
    case 'numeric':
    case 'date':
      return columnType;
    case 'double precision':
      return 'numeric';
    case 'timestamp without time zone':
      return 'timestamp';
    case 'time without time zone':
      return 'time';
    default:
      return null;
  }
}

/** One column of the file that needs normalizing. */
export interface FieldRule {
  kind: ValueKind;
  /** The header as written in the file, for messages. */
  header: string;
}

const SPACE = 0x20;
const TAB = 0x09;
const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

const isDigit = (b: number) => b >= ZERO && b <= NINE;
const isSpace = (b: number) => b === SPACE || b === TAB;

/**
 * nan, NaN, None, null, NULL: exactly bs_is_missing() of sql/functions/casts.sql. (The reader
 * also reads them as missing in text keys and relations: csv-records.ts.)
 */
export function isMissingWord(buf: Uint8Array, s: number, e: number): boolean {
  const n = e - s;
  if (n === 3) {
    // nan, NaN
    return buf[s + 1] === 0x61 && ((buf[s] === 0x6e && buf[s + 2] === 0x6e) || (buf[s] === 0x4e && buf[s + 2] === 0x4e));
  }
  if (n === 4) {
    const w = String.fromCharCode(buf[s]!, buf[s + 1]!, buf[s + 2]!, buf[s + 3]!);
    return w === 'None' || w === 'null' || w === 'NULL';
  }
  return false;
}

/** The range of each whole-number type (a value outside it is refused). */
export const LIMITS: Record<'integer' | 'bigint' | 'smallint', [bigint, bigint]> = {
  integer: [-2147483648n, 2147483647n],
  bigint: [-9223372036854775808n, 9223372036854775807n],
  smallint: [-32768n, 32767n],
};

/**
 * Writes field `buf[s, e)` of a column of `kind`, normalized, into `out` at `o`, and
 * returns the new end. NULL is written as nothing (an unquoted empty field).
 * Returns -1 when the value is refused: the caller reports it with its line.
 */
export function writeValue(kind: ValueKind, buf: Buffer, s: number, e: number, out: Buffer, o: number): number {
  if (e === s || isMissingWord(buf, s, e)) return o;
  // numbers may stand between spaces: what is written is what is between them
  let a = s;
  let b = e;
  while (a < b && isSpace(buf[a]!)) a++;
  while (b > a && isSpace(buf[b - 1]!)) b--;
  switch (kind) {
    case 'integer':
    case 'bigint':
    case 'smallint':
    case 'boolean': {
      let p = a;
      if (p < b && (buf[p] === PLUS || buf[p] === MINUS)) p++;
      const d0 = p;
      while (p < b && isDigit(buf[p]!)) p++;
      const d1 = p;
      let whole = d1 > d0;
      if (whole && p < b) {
        // pandas' `.0`: a dot and nothing but zeros after it
        if (buf[p] === DOT) {
          p++;
          while (p < b && buf[p] === ZERO) p++;
        }
        whole = p === b;
      }
      if (kind === 'boolean') {
        // 1.0 / 0.0 → 1 / 0; every other spelling is PostgreSQL's to read (true, t, yes, …)
        if (whole && d1 - d0 === 1 && d0 === a) {
          out[o] = buf[d0]!;
          return o + 1;
        }
        return copyBytes(buf, s, e, out, o);
      }
      if (!whole) return -1;
      if (d1 - d0 >= 5) {
        // only long numbers can be out of range: check those exactly
        let z = d0;
        while (z < d1 - 1 && buf[z] === ZERO) z++;
        if (d1 - z >= (kind === 'smallint' ? 5 : kind === 'integer' ? 10 : 19)) {
          const v = BigInt(buf.toString('latin1', a, d1));
          const [lo, hi] = LIMITS[kind];
          if (v < lo || v > hi) return -1;
        }
      }
      return copyBytes(buf, a, d1, out, o);
    }
    case 'numeric': {
      let p = a;
      if (p < b && (buf[p] === PLUS || buf[p] === MINUS)) p++;
      let digits = 0;
      while (p < b && isDigit(buf[p]!)) {
        p++;
        digits++;
      }
      if (p < b && buf[p] === DOT) {
        p++;
        while (p < b && isDigit(buf[p]!)) {
          p++;
          digits++;
        }
      }
      if (digits > 0 && p < b && (buf[p] === LOWER_E || buf[p] === UPPER_E)) {
        p++;
        if (p < b && (buf[p] === PLUS || buf[p] === MINUS)) p++;
        const x0 = p;
        while (p < b && isDigit(buf[p]!)) p++;
        if (p === x0) return -1;
      }
      if (digits === 0 || p !== b) {
        if (!/^[+-]?(inf|infinity)$/i.test(buf.toString('latin1', a, b))) return -1;
      }
      return copyBytes(buf, a, b, out, o);
    }
    case 'timestamp':
    case 'date':
    case 'time': {
      const v = buf.toString('latin1', a, b).trim();
      const iso = isoValue(kind, v);
      if (iso === null) return -1;
      return o + out.write(iso, o, 'latin1');
    }
  }
}

/** Copies `buf[s, e)` to `out` at `o`: a loop beats a native call for a field's few bytes. */
export function copyBytes(buf: Buffer, s: number, e: number, out: Buffer, o: number): number {
  if (e - s > 64) return o + buf.copy(out, o, s, e);
  for (let k = s; k < e; k++) out[o++] = buf[k]!;
  return o;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$/;
const TIME = /^(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?$/;

/** The value PostgreSQL gets for an ISO date, time or timestamp, or null when it is not one. */
export function isoValue(kind: 'timestamp' | 'date' | 'time', v: string): string | null {
  if (kind === 'time') {
    const m = TIME.exec(v);
    return m && timeOk(+m[1]!, +m[2]!, m[3] === undefined ? 0 : +m[3], m[4]) ? v : null;
  }
  if (kind === 'date') {
    const m = DATE.exec(v);
    return m && dateOk(+m[1]!, +m[2]!, +m[3]!) ? v.slice(0, 10) : null;
  }
  const m = TIMESTAMP.exec(v);
  if (!m || !dateOk(+m[1]!, +m[2]!, +m[3]!)) return null;
  if (m[4] !== undefined && !timeOk(+m[4], +m[5]!, m[6] === undefined ? 0 : +m[6], m[7])) return null;
  return v;
}

function dateOk(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  const days = m === 2 ? ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;
  return d <= days;
}

/** PostgreSQL takes 24:00:00 and a leap second :60; nothing else past the clock. */
function timeOk(h: number, m: number, s: number, fraction: string | undefined): boolean {
  if (h === 24) return m === 0 && s === 0 && (fraction === undefined || /^\.0+$/.test(fraction));
  return h <= 23 && m <= 59 && s <= 60;
}
