/**
 * One CSV record on its way to COPY (csv-records.ts finds where records start and end):
 * split into fields, each typed field's value normalized as PostgreSQL reads it
 * (values.ts), pandas' missing words in a text key or relation made NULL, the key and
 * the watched fields shown to key-watch.ts and distinct-values.ts, a bad value refused
 * with its line, column and value. Also the header's fields, and a record's field count.
 */
import { badValue, LoadError } from './errors';
import { DistinctValues } from './distinct-values';
import { KeyLines, KeyWatch } from './key-watch';
import { copyBytes as copyBytesFn, isMissingWord as isMissingWordFn, writeValue as writeValueFn, type FieldRule } from './values';

// Called per cell: bound once here rather than read through the module's export getters.
const writeValue = writeValueFn;
const copyBytes = copyBytesFn;
const isMissingWord = isMissingWordFn;

const NL = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;

export interface ReleaseOptions {
  /** The key column's field: a text key is watched (keysIncreasing, keysMissing). */
  keyField?: number;
  /** Each record goes out with its line first (`<line>,`), for a staging table. */
  linePrefix?: boolean;
  /** Fields whose distinct values to collect (distinctValues). */
  watch?: number[];
  /** The key field whose values' lines to keep (linesByKey). */
  keyLines?: number;
  /**
   * Text fields whose values nan, NaN, None, null and NULL (pandas' missing values) are
   * NULL: the key and the relations, where such a word is no key and points nowhere.
   */
  missingAsNull?: number[];
}

// What RecordWriter does with a field besides normalizing it (bits of `todo`).
/** pandas' missing words are NULL (a text key or relation). */
const FIELD_MISSING_AS_NULL = 1;
/** The text key, watched (KeyWatch). */
const FIELD_KEY = 2;
/** Its values' lines are kept (KeyLines). */
const FIELD_KEY_LINE = 4;
/** Its distinct values are gathered (DistinctValues). */
const FIELD_WATCHED = 8;

/** Writes whole records with their fields looked at: normalized, watched, checked. */
export class RecordWriter {
  /** The text key's values, when the key is one text column. */
  readonly keys: KeyWatch | undefined;
  /** Each key's line, when asked for (ReleaseOptions.keyLines). */
  readonly keyLines: KeyLines | undefined;
  private readonly linePrefix: boolean;
  /**
   * What to do with each field besides normalizing it, by position (FIELD_*): most fields
   * need nothing, and cost one look here.
   */
  private readonly todo: Uint8Array;
  /** Fields whose distinct values are collected (by field position). */
  private readonly watched: (DistinctValues | undefined)[] = [];
  /** Past this field nothing needs looking at: the rest of a record is copied as it is. */
  private readonly lastField: number;

  constructor(
    private readonly fileName: string,
    /** By field position: how its values are normalized (undefined: as written). */
    private readonly rules: (FieldRule | undefined)[],
    private readonly headers: string[],
    opts: ReleaseOptions,
    maxKeyLines: number,
  ) {
    this.linePrefix = opts.linePrefix ?? true;
    const missing = (opts.missingAsNull ?? []).filter((f) => f >= 0);
    const watch = opts.watch ?? [];
    const keyLinesField = opts.keyLines ?? -1;
    // Only a text key is watched (its bytes are its value). A file whose keys only go up
    // has no duplicate key: the database need not look for them.
    const keyField = (opts.keyField ?? -1) >= 0 && rules[opts.keyField!] === undefined ? opts.keyField! : -1;
    // (COPY itself refuses a row with too many values.)
    this.lastField = Math.max(keyField, keyLinesField, ...rules.map((r, i) => (r ? i : -1)), ...watch, ...missing);
    // One more than any field that is looked at: a record with too many values reads 0 there.
    this.todo = new Uint8Array(Math.max(headers.length, rules.length, this.lastField + 1) + 1);
    for (const f of missing) this.todo[f]! |= FIELD_MISSING_AS_NULL;
    if (keyField >= 0) this.todo[keyField]! |= FIELD_KEY;
    if (keyLinesField >= 0) this.todo[keyLinesField]! |= FIELD_KEY_LINE;
    for (const f of watch) {
      this.todo[f]! |= FIELD_WATCHED;
      this.watched[f] = new DistinctValues();
    }
    this.keys = keyField >= 0 ? new KeyWatch() : undefined;
    this.keyLines = keyLinesField >= 0 ? new KeyLines(maxKeyLines) : undefined;
  }

  /** The distinct values of a watched field (null: not watched, or given up). */
  distinctValues(field: number): string[] | null {
    return this.watched[field]?.values ?? null;
  }

  /**
   * Writes the whole record `rec[rs, re)` that starts on `line` into `out` at `o`
   * (`<line>,` first when asked), each typed field's value normalized; returns the new
   * end. One loop over its bytes: fields as written are copied byte by byte (faster than
   * a native copy for a few bytes), typed fields go through writeValue.
   */
  write(rec: Buffer, rs: number, re: number, out: Buffer, o: number, line: number): number {
    const { rules, todo, lastField } = this;
    const fieldCount = this.headers.length;
    if (this.linePrefix) o = writeLinePrefix(line, out, o);
    let end = re;
    if (end > rs && rec[end - 1] === NL) end--;
    if (end > rs && rec[end - 1] === CR) end--;
    let i = rs;
    let field = 0;
    let copied = rs; // rec[copied, i) goes out as it is
    for (;;) {
      const rule = rules[field];
      const does = field < todo.length ? todo[field]! : 0;
      if (rule === undefined) {
        // as written: find the end of the field; the bytes are copied in one go later
        const fs = i;
        if (i < end && rec[i] === QUOTE) {
          i++;
          for (;;) {
            while (i < end && rec[i] !== QUOTE) i++;
            if (i + 1 < end && rec[i + 1] === QUOTE) i += 2;
            else break;
          }
          if (i < end) i++;
        }
        while (i < end && rec[i] !== COMMA) i++;
        if (does !== 0) {
          if ((does & FIELD_MISSING_AS_NULL) !== 0 && i - fs >= 3 && i - fs <= 6 && isMissingField(rec, fs, i)) {
            // pandas' nan/None/null in a key or a relation: no value, written as an empty field
            o = copyBytes(rec, copied, fs, out, o);
            copied = i;
            if ((does & FIELD_KEY) !== 0) this.keys!.missing++;
          } else {
            if ((does & FIELD_KEY) !== 0) this.keys!.see(rec, fs, i);
            if ((does & FIELD_KEY_LINE) !== 0) this.keyLines!.see(rec, fs, i, line);
            if ((does & FIELD_WATCHED) !== 0) this.watched[field]!.see(rec, fs, i);
          }
        }
        if (i >= end) break;
        if (field >= lastField && field + 1 < fieldCount) return copyBytes(rec, copied, re, out, o);
        i++;
        field++;
        continue;
      }
      o = copyBytes(rec, copied, i, out, o);
      if (i < end && rec[i] === QUOTE) {
        // Rare: a quoted number or date. Its value is what is inside the quotes.
        let j = i + 1;
        for (;;) {
          while (j < end && rec[j] !== QUOTE) j++;
          if (j + 1 < end && rec[j + 1] === QUOTE) j += 2;
          else break;
        }
        const inner = Buffer.from(rec.toString('utf8', i + 1, j).replace(/""/g, '"'));
        const r = writeValue(rule.kind, inner, 0, inner.length, out, o);
        if (r < 0) throw this.refuse(rec, rs, end, line, rule, inner.toString('utf8'));
        if (does !== 0) this.sawValue(does, field, out, o, r, line);
        o = r;
        i = Math.min(j + 1, end);
      } else {
        let j = i;
        while (j < end && rec[j] !== COMMA) j++;
        const r = writeValue(rule.kind, rec, i, j, out, o);
        if (r < 0) throw this.refuse(rec, rs, end, line, rule, rec.toString('utf8', i, j));
        if (does !== 0) this.sawValue(does, field, out, o, r, line);
        o = r;
        i = j;
      }
      copied = i;
      if (i >= end) break;
      if (field >= lastField && field + 1 < fieldCount) return copyBytes(rec, copied, re, out, o);
      i++;
      field++;
    }
    if (field + 1 !== fieldCount) throw wrongCount(this.fileName, line, this.headers, field + 1);
    return copyBytes(rec, copied, re, out, o);
  }

  /** A typed field's value, normalized into `out[s, e)`: its line kept, its value gathered. */
  private sawValue(does: number, field: number, out: Buffer, s: number, e: number, line: number): void {
    if ((does & FIELD_KEY_LINE) !== 0) this.keyLines!.see(out, s, e, line);
    if ((does & FIELD_WATCHED) !== 0) this.watched[field]!.see(out, s, e);
  }

  /** A refused value; but a row with the wrong number of values is the better explanation. */
  private refuse(rec: Buffer, rs: number, end: number, line: number, rule: FieldRule, value: string): LoadError {
    const fields = countFields(rec, rs, end);
    if (fields !== this.headers.length) return wrongCount(this.fileName, line, this.headers, fields);
    return badValue(this.fileName, line, rule.header, rule.kind, value);
  }
}

/** A row with more or fewer values than the header. */
function wrongCount(file: string, line: number, headers: string[], fields: number): LoadError {
  const hint = 'check the quoting and the number of commas on that line';
  return fields > headers.length
    ? new LoadError({ file, line, message: 'this row has more values than the header has columns', hint })
    : new LoadError({ file, line, message: `this row has fewer values than the header: nothing for column ${headers[fields]}`, hint });
}

/** `<n>,` written as digits: no string per record. */
function writeLinePrefix(n: number, out: Buffer, o: number): number {
  let len = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) len++;
  for (let k = o + len - 1, v = n; k >= o; k--, v = Math.floor(v / 10)) out[k] = 48 + (v % 10);
  out[o + len] = COMMA;
  return o + len + 1;
}

/** The fields of the record `buf[from, to)`: its commas outside quotes, plus one. */
export function countFields(buf: Buffer, from: number, to: number): number {
  let fields = 1;
  for (let i = from, q = false; i < to; i++) {
    if (buf[i] === QUOTE) q = !q;
    else if (buf[i] === COMMA && !q) fields++;
  }
  return fields;
}

/** `buf[s, e)` is one of pandas' missing-value words, quoted or not. */
function isMissingField(buf: Buffer, s: number, e: number): boolean {
  if (buf[s] === QUOTE) return e - s >= 2 && buf[e - 1] === QUOTE && isMissingWord(buf, s + 1, e - 1);
  return isMissingWord(buf, s, e);
}

/** A record whose quoting is wrong; the message says how, `hint` what to do. */
export class RecordSyntaxError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

const QUOTING_HINT = 'a field with quotes in it must be quoted as a whole, and each " inside written twice ("")';

/**
 * The fields of the one record `buf[s, e)` (its line end left out), as text: a quoted
 * field is what is inside its quotes, each "" one ". (Used for the header line; rows go
 * to COPY as they are written.)
 */
export function splitRecord(buf: Buffer, s: number, e: number): string[] {
  const fields: string[] = [];
  let i = s;
  for (;;) {
    if (i < e && buf[i] === QUOTE) {
      const parts: string[] = [];
      let from = i + 1;
      for (i = from; ; i++) {
        if (i >= e) throw new RecordSyntaxError('a quoted field is never closed', 'every " that opens a field needs a closing "');
        if (buf[i] !== QUOTE) continue;
        if (i + 1 < e && buf[i + 1] === QUOTE) {
          parts.push(buf.toString('utf8', from, i + 1));
          from = i + 2;
          i++;
          continue;
        }
        parts.push(buf.toString('utf8', from, i));
        i++;
        break;
      }
      if (i < e && buf[i] !== COMMA) throw new RecordSyntaxError('text follows the closing quote of a field', QUOTING_HINT);
      fields.push(parts.join(''));
    } else {
      let j = i;
      while (j < e && buf[j] !== COMMA) {
        if (buf[j] === QUOTE) throw new RecordSyntaxError('a quote in the middle of a field', QUOTING_HINT);
        j++;
      }
      fields.push(buf.toString('utf8', i, j));
      i = j;
    }
    if (i >= e) return fields;
    i++; // the comma
  }
}
