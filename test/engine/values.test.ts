/**
 * Values on their way to COPY (loader/engine/values.ts, the reader csv-records.ts and the
 * field splitting of csv-record.ts): what each column type takes and refuses, that the
 * reader gives the same bytes however the file is cut into chunks, that it reads a header
 * as csv-parse does, and that the engine's reader and the SQL casts behind load_table()
 * (000003_loading.sql) agree on every value.
 */
import { parse } from 'csv-parse/sync';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsvRecords, type ReleaseOptions } from '../../loader/engine/csv-records';
import { isoValue, valueKind, writeValue, type FieldRule, type ValueKind } from '../../loader/engine/values';
import { freshDatabase, type TestDatabase } from '../support/database';

/** The value PostgreSQL is sent for `v`: a string, null (NULL), or 'REFUSED'. */
function normalized(kind: ValueKind, v: string): string | null {
  const buf = Buffer.from(v);
  const out = Buffer.alloc(buf.length + 8);
  const o = writeValue(kind, buf, 0, buf.length, out, 0);
  if (o < 0) return 'REFUSED';
  return o === 0 ? null : out.toString('utf8', 0, o);
}

describe('values as the exports write them', () => {
  it.each([
    ['integer', '1730.0', '1730'],
    ['integer', '1730', '1730'],
    ['integer', '-3.000', '-3'],
    ['integer', ' 42 ', '42'],
    ['integer', '5.', '5'],
    ['integer', '', null],
    ['integer', 'nan', null],
    ['integer', 'NaN', null],
    ['integer', 'None', null],
    ['integer', 'NULL', null],
    ['integer', '2147483647', '2147483647'],
    ['integer', '000000000002147483647', '000000000002147483647'],
    ['bigint', '9223372036854775807.0', '9223372036854775807'],
    ['smallint', '32767', '32767'],
    ['boolean', '1.0', '1'],
    ['boolean', '0', '0'],
    ['boolean', 'True', 'True'],
    ['boolean', 'nan', null],
    ['numeric', '12.5', '12.5'],
    ['numeric', '-1e400', '-1e400'],
    ['numeric', '.5', '.5'],
    ['numeric', 'NaN', null],
    ['numeric', 'Infinity', 'Infinity'],
    ['timestamp', '2024-09-15 00:00:00', '2024-09-15 00:00:00'],
    ['timestamp', '2024-09-15T19:30', '2024-09-15T19:30'],
    ['timestamp', '2024-02-29 23:59:59.5', '2024-02-29 23:59:59.5'],
    ['date', '2024-09-15 00:00:00', '2024-09-15'],
    ['date', '2024-09-15', '2024-09-15'],
    ['time', '19:30:00', '19:30:00'],
    ['time', '7:05', '7:05'],
    ['time', '24:00:00', '24:00:00'],
  ] as [ValueKind, string, string | null][])('%s %j → %j', (kind, v, want) => {
    expect(normalized(kind, v)).toBe(want);
  });

  it.each([
    ['integer', '1.5'],
    ['integer', '12abc'],
    ['integer', '0x1A'],
    ['integer', '1_000'],
    ['integer', '1e3'],
    ['integer', '.0'],
    ['integer', '-'],
    ['integer', '2147483648'],
    ['integer', '-2147483649'],
    ['smallint', '32768'],
    ['bigint', '9223372036854775808'],
    ['integer', 'nan '],
    ['numeric', '1,5'],
    ['numeric', 'NaNx'],
    ['numeric', '0x1A'],
    ['numeric', '1_000'],
    ['numeric', '1e'],
    ['numeric', '.'],
    ['timestamp', '09/15/2024'],
    ['timestamp', '2024-13-45 00:00:00'],
    ['timestamp', '2023-02-29'],
    ['timestamp', '2024-09-15 25:00:00'],
    ['date', '2024-09-15 19:30:00'],
    ['date', '0000-01-01'],
    ['time', '25:99:00'],
    ['time', '6:45 PM'],
    ['time', '24:00:01'],
  ] as [ValueKind, string][])('%s %j is refused', (kind, v) => {
    expect(normalized(kind, v)).toBe('REFUSED');
  });

  it('maps the column types to their rules, and leaves every other type as written', () => {
    expect(valueKind('double precision')).toBe('numeric');
    expect(valueKind('timestamp without time zone')).toBe('timestamp');
    expect(valueKind('text')).toBeNull();
    expect(valueKind('character varying(20)')).toBeNull();
    expect(isoValue('date', '2024-02-29')).toBe('2024-02-29');
    expect(isoValue('date', '1900-02-29')).toBeNull();
  });
});

/** Runs `input` through a reader that normalizes `rules`, fed `chunk` bytes at a time. */
async function readThrough(
  input: string,
  rules: (FieldRule | undefined)[],
  headers: string[],
  chunk: number,
  keyField = -1,
  more: ReleaseOptions = {},
  maxLineBreaks?: number,
) {
  const records = new CsvRecords('t.csv', maxLineBreaks);
  const bytes = Buffer.from(input);
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  const out: Buffer[] = [];
  void records.header.then(
    () => records.release(rules, headers, { keyField, ...more }),
    () => undefined,
  );
  await pipeline(
    Readable.from(parts),
    records,
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return { text: Buffer.concat(out).toString('utf8'), records };
}

describe('the reader normalizes typed fields on the way', () => {
  const headers = ['key', 'n', 'note', 'd'];
  const rules: (FieldRule | undefined)[] = [undefined, { kind: 'integer', header: 'n' }, undefined, { kind: 'date', header: 'd' }];
  const csv = 'key,n,note,d\r\n' + 'A1,1730.0,"a, ""quoted""\r\nnote",2024-09-15 00:00:00\r\n' + 'A2,,plain,\r\n' + 'A3,"7.0",é ü,2024-01-01\r\n';
  const want = '2,A1,1730,"a, ""quoted""\r\nnote",2024-09-15\r\n' + '4,A2,,plain,\r\n' + '5,A3,7,é ü,2024-01-01\r\n';

  it.each([1, 2, 3, 7, 64, 1 << 16])('gives the same bytes fed %i bytes at a time', async (chunk) => {
    const { text, records } = await readThrough(csv, rules, headers, chunk, 0);
    expect(text).toBe(want);
    expect(records.rows).toBe(3);
    expect(records.keysIncreasing).toBe(true);
  });

  it('sees keys that do not go up, and empty keys', async () => {
    const { records } = await readThrough('key,n,note,d\nB,1,x,\nA,2,y,\n,3,z,\n', rules, headers, 5, 0);
    expect(records.keysIncreasing).toBe(false);
    expect(records.keysMissing).toBe(1);
    const again = await readThrough('key,n,note,d\nA,1,x,\nA,2,y,\n', rules, headers, 64, 0);
    expect(again.records.keysIncreasing).toBe(false);
  });

  it('without line numbers, says where records start after multi-line ones and blank lines', async () => {
    const { text, records } = await readThrough('key,n,note,d\nA,1,"two\nlines",\n\nB,2,x,\nC,3,y,\n', rules, headers, 3, 0, { linePrefix: false });
    expect(text).toBe('A,1,"two\nlines",\nB,2,x,\nC,3,y,\n');
    // record 1 on line 2; record 2 after a two-line record and a blank line: line 5 = 2 + 3
    expect(records.recordLines).toEqual({ base: 1, breaks: [[2, 3]] });
    // past the most it keeps track of, it says it cannot tell (the engine then stages the file)
    const many = await readThrough('key,n,note,d\nA,1,"a\nb",\nB,2,"c\nd",\nC,3,x,\n', rules, headers, 64, 0, { linePrefix: false }, 1);
    expect(many.records.recordLines).toBeNull();
  });

  it('gathers the distinct values of watched fields as the database stores them', async () => {
    const input = 'key,n,note,d\nA,1730.0,N1,\nB,1730,N1,\nC,,N2,\nD,"7.0",,\nE,nan,N1,\n';
    const { records } = await readThrough(input, rules, headers, 5, 0, { watch: [1, 2] });
    expect(records.distinctValues(1)!.sort()).toEqual(['1730', '7']);
    expect(records.distinctValues(2)!.sort()).toEqual(['N1', 'N2']);
    expect(records.distinctValues(3)).toBeNull(); // not watched
    // a quoted text value is not taken as written: the database is asked instead
    const quoted = await readThrough('key,n,note,d\nA,1,"N1",\n', rules, headers, 64, 0, { watch: [2] });
    expect(quoted.records.distinctValues(2)).toBeNull();
    // two values whose hashes collide (FNV-1a) are both kept, once each
    const collide = await readThrough('key,n,note,d\nA,1,P329599,\nB,2,P532382,\nC,3,P329599,\nD,4,P532382,\n', rules, headers, 64, 0, { watch: [2] });
    expect(collide.records.distinctValues(2)).toEqual(['P329599', 'P532382']);
    // nor are more than 50,000 (memory stays flat)
    const many = 'key,n,note,d\n' + Array.from({ length: 50_001 }, (_, i) => `K${i},${i},N${i},\n`).join('');
    const big = await readThrough(many, rules, headers, 1 << 16, 0, { watch: [1, 2] });
    expect(big.records.distinctValues(1)).toBeNull();
    expect(big.records.distinctValues(2)).toBeNull();
  });

  it('keeps the line of each key, as the database stores the key', async () => {
    const intKey: (FieldRule | undefined)[] = [{ kind: 'integer', header: 'key' }, ...rules.slice(1)];
    const { records } = await readThrough('key,n,note,d\n18969.0,1,"two\nlines",\n18970,2,x,\n', intKey, headers, 3, -1, { linePrefix: false, keyLines: 0 });
    expect(records.linesByKey).toEqual({ 18969: 2, 18970: 4 });
    // a quoted key is its value inside the quotes; more keys than the reader keeps are not kept
    const quoted = await readThrough('key,n,note,d\n"A ""1""",1,x,\n', rules, headers, 64, -1, { linePrefix: false, keyLines: 0 });
    expect(quoted.records.linesByKey).toEqual({ 'A "1"': 2 });
    const records2 = new CsvRecords('t.csv', undefined, 2);
    void records2.header.then(
      () => records2.release(rules, headers, { linePrefix: false, keyLines: 0 }),
      () => undefined,
    );
    await pipeline(
      Readable.from([Buffer.from('key,n,note,d\nA,1,x,\nB,2,y,\nC,3,z,\n')]),
      records2,
      new Writable({
        write(_c, _e, cb) {
          cb();
        },
      }),
    );
    expect(records2.linesByKey).toBeNull();
  });

  it('refuses a bad value with its line, column and value', async () => {
    await expect(readThrough('key,n,note,d\nA,1,"two\nlines",\nB,1.5,x,\n', rules, headers, 4)).rejects.toMatchObject({
      info: { file: 't.csv', line: 4, column: 'n', value: '1.5', message: "'1.5' is not a whole number" },
    });
  });

  it('names a row with too few or too many values before its values', async () => {
    await expect(readThrough('key,n,note,d\nA,x\n', rules, headers, 64)).rejects.toMatchObject({
      info: { line: 2, message: 'this row has fewer values than the header: nothing for column note' },
    });
    await expect(readThrough('key,n,note,d\nA,1,x,,extra\n', rules, headers, 64)).rejects.toMatchObject({
      info: { line: 2, message: 'this row has more values than the header has columns' },
    });
  });
});

// The engine's reader and the SQL casts of load_table() must make the same value of
// every cell, or refuse it both.
describe('the reader and the SQL casts agree', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshDatabase({ migrated: true });
  });
  afterAll(async () => t?.drop());

  const samples: Record<string, string[]> = {
    integer: ['1730.0', '1730', '-3.000', ' 42 ', '5.', '', 'nan', 'None', '1.5', '12abc', '1e3', '2147483647', '2147483648', '.0'],
    bigint: ['9223372036854775807.0', '9223372036854775808', '-12'],
    boolean: ['1.0', '0', 'True', 'false', 't', 'nan', '', 'maybe', '2'],
    numeric: ['12.5', '-1e5', '.5', 'NaN', '', '1,5', 'abc', '1e'],
    'double precision': ['12.5', '1e-3', 'nan', 'x'],
    'timestamp without time zone': ['2024-09-15 00:00:00', '2024-09-15T19:30', '2024-09-15', '09/15/2024', '2024-13-45 00:00:00', ''],
    date: ['2024-09-15 00:00:00', '2024-09-15', '2024-09-15 19:30:00', '2024-02-30', 'None'],
    'time without time zone': ['19:30:00', '7:05', '25:99:00', '6:45 PM', ''],
  };

  it.each(Object.keys(samples))('%s', async (type) => {
    const kind = valueKind(type)!;
    const [{ e }] = (await t.db.query<{ e: string }>("SELECT bs_cast_expr('$1::text', $1) AS e", [type])).rows as [{ e: string }];
    for (const raw of samples[type]!) {
      const viaSql = await t.db.query<{ v: string | null }>(`SELECT (${e})::text AS v`, [raw]).then(
        (r) => r.rows[0]!.v,
        () => 'REFUSED',
      );
      const sent = normalized(kind, raw);
      const viaCopy =
        sent === 'REFUSED'
          ? 'REFUSED'
          : sent === null
            ? null
            : await t.db.query<{ v: string }>(`SELECT $1::${type}::text AS v`, [sent]).then(
                (r) => r.rows[0]!.v,
                () => 'REFUSED',
              );
      expect({ type, raw, value: viaCopy }).toEqual({ type, raw, value: viaSql });
    }
  });
});

describe('the end of the file', () => {
  const headers = ['key', 'n', 'note', 'd'];
  const rules: (FieldRule | undefined)[] = [undefined, { kind: 'integer', header: 'n' }, undefined, { kind: 'date', header: 'd' }];

  // Editors and hand-made exports often end the last line without a newline: that row
  // is a row like any other.
  it.each([1, 2, 3, 7, 64, 1 << 16])('writes a last row that has no final newline (fed %i bytes at a time)', async (chunk) => {
    const { text, records } = await readThrough('key,n,note,d\nA1,1.0,x,2024-01-01\nA2,2,"y\nz",2024-01-02', rules, headers, chunk, 0);
    expect(text).toBe('2,A1,1,x,2024-01-01\n3,A2,2,"y\nz",2024-01-02\n');
    expect(records.rows).toBe(2);
    // without line numbers, and with nothing to normalize (the bytes go as written)
    const plain = await readThrough('key,n,note,d\nA1,1,x,\r\nA2,2,y,', [], headers, chunk, -1, { linePrefix: false });
    expect(plain.text).toBe('A1,1,x,\r\nA2,2,y,\n');
    const alone = await readThrough('key,n,note,d\nA1,1,x,', rules, headers, chunk, 0, { linePrefix: false });
    expect(alone.text).toBe('A1,1,x,\n');
  });

  // Decision: a last line without a newline that has fewer values than the header, or
  // ends inside a quoted field, was cut short (an interrupted copy or upload) and is
  // refused with its line. One with every value cannot be told from a complete row: it
  // loads (a value cut inside the last column goes unnoticed unless it stops being valid).
  it.each([1, 3, 64])('refuses a last row cut short (fed %i bytes at a time)', async (chunk) => {
    for (const rs of [rules, [] as (FieldRule | undefined)[]]) {
      await expect(readThrough('key,n,note,d\nA1,1,x,\nA2,2', rs, headers, chunk, 0)).rejects.toMatchObject({
        info: { file: 't.csv', line: 3, message: expect.stringMatching(/^the file ends in the middle of this row: it has 2 of the header's 4 values/) },
      });
      await expect(readThrough('key,n,note,d\nA1,1,x,\nA2,2,"y\nz', rs, headers, chunk, 0)).rejects.toMatchObject({
        info: { file: 't.csv', line: 3, message: expect.stringMatching(/quoted field starts on this line and is never closed: the file ends inside it/) },
      });
    }
    // a cut that leaves every value, the last one no longer valid, is refused for its value
    await expect(readThrough('key,n,note,d\nA1,1,x,2024-01-01\nA2,2,y,2024-0', rules, headers, chunk, 0)).rejects.toMatchObject({
      info: { line: 3, column: 'd', value: '2024-0' },
    });
  });
});

describe("pandas' missing values in keys and relations", () => {
  const headers = ['key', 'n', 'parent', 'note'];
  const rules: (FieldRule | undefined)[] = [undefined, { kind: 'integer', header: 'n' }, undefined, undefined];

  it.each([1, 3, 64])('nan, NaN, None, null and NULL are empty there, and count as missing keys (fed %i bytes at a time)', async (chunk) => {
    const input = 'key,n,parent,note\nA,1,nan,nan\nnan,2,P1,None\n"None",3,"NULL",x\nnull,nan,NaN,\nNULL,5,P1,null\nB,6,nanny,\n';
    const { text, records } = await readThrough(input, rules, headers, chunk, 0, { missingAsNull: [0, 2], watch: [2] });
    // (other text columns keep the words: they may be text)
    expect(text).toBe('2,A,1,,nan\n3,,2,P1,None\n4,,3,,x\n5,,,,\n6,,5,P1,null\n7,B,6,nanny,\n');
    expect(records.keysMissing).toBe(4);
    expect(records.distinctValues(2)!.sort()).toEqual(['P1', 'nanny']);
  });

  it('keeps no line for a missing key', async () => {
    const { records } = await readThrough('key,n,parent,note\nA,1,,\nNone,2,,\n', rules, headers, 64, -1, {
      linePrefix: false,
      keyLines: 0,
      missingAsNull: [0],
    });
    expect(records.linesByKey).toEqual({ A: 2 });
  });
});

describe('files that are not what they seem', () => {
  const headers = ['key', 'n', 'note', 'd'];
  const rules: (FieldRule | undefined)[] = [undefined, { kind: 'integer', header: 'n' }, undefined, { kind: 'date', header: 'd' }];
  const csv = 'key,n,note,d\nA1,1,x,\nA2,2,y,\n';

  it.each([
    ['UTF-16 LE with a BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv, 'utf16le')])],
    ['UTF-16 LE without a BOM', Buffer.from(csv, 'utf16le')],
    ['UTF-16 BE with a BOM', Buffer.from(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv, 'utf16le')]).swap16())],
    ['UTF-16 BE without a BOM', Buffer.from(Buffer.from(csv, 'utf16le').swap16())],
  ])('a %s file is named as UTF-16, with how to save it as UTF-8', async (_name, bytes) => {
    // (from the file's first two bytes on: a stream that hands over its first byte alone
    // before a NUL is told only that the file has a NUL byte)
    for (const chunk of [2, 3, 1 << 16]) {
      const records = new CsvRecords('t.csv');
      const parts: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
      void records.header.then(
        () => records.release(rules, headers),
        () => undefined,
      );
      await expect(
        pipeline(
          Readable.from(parts),
          records,
          new Writable({
            write(_c, _e, cb) {
              cb();
            },
          }),
        ),
      ).rejects.toMatchObject({
        info: { file: 't.csv', line: 1, message: expect.stringMatching(/^the file is UTF-16 text, not UTF-8/), hint: expect.stringMatching(/UTF-8/) },
      });
    }
  });

  it("skips Excel's sep=, first line, says so, and counts it in every line number", async () => {
    const { text, records } = await readThrough(`sep=,\r\n${csv.replace(/\n/g, '\r\n')}`, rules, headers, 3, 0);
    expect(await records.header).toEqual(headers);
    expect(records.headerLine).toBe(2);
    expect(text).toBe('3,A1,1,x,\r\n4,A2,2,y,\r\n');
    expect(records.warnings).toEqual([expect.stringMatching(/^t\.csv: line 1 is Excel's separator line "sep=,": skipped, the header is line 2/)]);
    await expect(readThrough(`sep=,\n${csv}A3,x,z,\n`, rules, headers, 64, 0)).rejects.toMatchObject({ info: { line: 5, column: 'n', value: 'x' } });
    const lines = await readThrough(`sep=,\n${csv}`, rules, headers, 64, 0, { linePrefix: false });
    expect(lines.records.recordLines).toEqual({ base: 2, breaks: [] });
  });

  it('refuses a sep= line that names another separator', async () => {
    await expect(readThrough(`sep=;\nkey;n;note;d\nA1;1;x;\n`, rules, headers, 64, 0)).rejects.toMatchObject({
      info: { line: 1, message: expect.stringMatching(/separated by ";" \(Excel's "sep=;" line\)/), hint: expect.stringMatching(/comma/) },
    });
  });

  it.each([
    ['integer', '2147483648', /^'2147483648' is out of range for a whole-number column of type integer: it takes -2147483648 to 2147483647$/],
    ['integer', '-2147483649.0', /out of range .* integer: it takes -2147483648 to 2147483647$/],
    ['bigint', '9223372036854775808', /out of range .* bigint: it takes -9223372036854775808 to 9223372036854775807$/],
    ['smallint', '40000', /out of range .* smallint: it takes -32768 to 32767$/],
    ['integer', '1.5', /^'1\.5' is not a whole number$/],
  ] as const)('%s %s: says what is wrong with it', async (kind, value, message) => {
    const rs: (FieldRule | undefined)[] = [undefined, { kind, header: 'n' }, undefined, undefined];
    await expect(readThrough(`key,n,note,d\nA1,${value},x,\n`, rs, headers, 64, 0)).rejects.toMatchObject({
      info: { line: 2, column: 'n', value, message: expect.stringMatching(message) },
    });
  });
});

describe('the header line', () => {
  async function headerOf(text: string, chunk: number): Promise<string[]> {
    const records = new CsvRecords('t.csv');
    const bytes = Buffer.from(text);
    const parts: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
    void records.header.then(
      () => records.release(),
      () => undefined,
    );
    await pipeline(
      Readable.from(parts),
      records,
      new Writable({
        write(_c, _e, cb) {
          cb();
        },
      }),
    );
    return records.header;
  }

  const headerLines = [
    'key,n,note,d\n',
    'key,n,note,d\r\n',
    'key,n,note,d',
    'a,,c,\n',
    'Type,Period,2on1_rushes\n',
    ' a , b \n',
    '"a,b","c ""quoted""",d\n',
    '"two\nlines",x\r\n',
    '"two\r\nlines",x\n',
    '"",x\n',
    'é ü,5 – Francis Forte (G)\n',
  ];
  it.each(headerLines.flatMap((h) => [1, 3, 64].map((chunk) => [h, chunk] as const)))(
    'reads %j as csv-parse does (fed %i bytes at a time)',
    async (line, chunk) => {
      // csv-parse: an independent reading of the same line
      const oracle = (parse(Buffer.from(line), { relax_column_count: true }) as string[][])[0];
      const text = line.endsWith('\n') ? `${line}x\n` : line; // (a header with no line end: the file has only it)
      expect(await headerOf(text, chunk)).toEqual(oracle);
    },
  );

  it.each([
    ['a"b,c\n', /^the header line cannot be read: a quote in the middle of a field$/],
    ['"a"b,c\n', /^the header line cannot be read: text follows the closing quote of a field$/],
    ['a, "b"\n', /^the header line cannot be read: a quote in the middle of a field$/],
    ['"a,b', /^the header line cannot be read: a quoted field is never closed$/],
  ])('refuses %j, as csv-parse does, saying why', async (line, message) => {
    expect(() => parse(Buffer.from(line), { relax_column_count: true })).toThrow();
    await expect(headerOf(line, 64)).rejects.toMatchObject({
      info: { file: 't.csv', line: 1, message: expect.stringMatching(message), hint: expect.stringMatching(/"/) },
    });
  });
});
