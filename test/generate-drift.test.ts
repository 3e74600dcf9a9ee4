/**
 * `benchsight generate --drift <kind>`: an export as a later ETL version writes it, one
 * kind of change at a time (loader/generate/drift.ts). What each kind does to the files;
 * that they load is drift-generated.test.ts and drift-real.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateExport } from '../loader/generate';
import { PassThrough } from 'node:stream';
import { main } from '../loader/entry/cli';
import { Capture } from './support/capture';
import { DRIFT_KINDS, driftExport, parseCsv, formatCsv } from '../loader/generate/drift';
import { columnNameFor } from '../loader/warehouse';

const scratch = mkdtempSync(path.join(tmpdir(), 'bs-gen-drift-'));
const base = path.join(scratch, 'base');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
beforeAll(async () => {
  await generateExport({ games: 1, outDir: base, seed: 7, workers: 0 });
}, 60_000);

const read = (dir: string, table: string) => {
  const [header, ...rows] = parse(readFileSync(path.join(dir, `${table}.csv`))) as string[][];
  return { header: header!.map(columnNameFor), rows };
};

describe('generate --drift', () => {
  it('writes every kind, from the command line, and says what it changed', async () => {
    const out = new Capture();
    const err = new Capture();
    const stdin = Object.assign(new PassThrough(), { isTTY: false });
    const generate = (...argv: string[]) => main(['generate', ...argv], { stdout: out, stderr: err, stdin }, {});
    const code = await generate('--from', base, '--drift', DRIFT_KINDS.join(','), '--out', path.join(scratch, 'all'));
    expect(err.text).toBe('');
    expect(code).toBe(0);
    expect(out.text).toMatch(/^drifted \(columns-added, columns-dropped, key-dropped, renamed, index-leaked, second-key, key-format, grain, retyped\)/);
    expect(await generate('--from', base, '--drift', 'sideways', '--out', scratch)).toBe(2);
    expect(err.text).toMatch(/--drift takes columns-added, /);
  });

  it('does to each table what its kind says', async () => {
    const d = async (kind: (typeof DRIFT_KINDS)[number]) => {
      const dir = path.join(scratch, kind);
      await driftExport(base, dir, [kind]);
      return dir;
    };
    const added = read(await d('columns-added'), 'fact_goalie_game_stats');
    expect(added.header).toEqual(expect.arrayContaining(['toi_minutes', 'playing_toi_seconds', 'gaa', 'xga', 'gsax']));
    expect(added.header).toHaveLength(19 + 16);
    const dropped = await d('columns-dropped');
    expect(read(dropped, 'fact_player_game_stats').header).toHaveLength(63);
    expect(read(dropped, 'fact_h2h').header).toEqual(['game_id', 'player_1_id', 'player_2_id', 'toi_together']);
    expect(read(dropped, 'fact_events').header.filter((h) => h.endsWith('_id'))).toEqual(['game_id']);
    const keyless = await d('key-dropped');
    expect(read(keyless, 'fact_h2h').header).not.toContain('h2h_key');
    expect(read(keyless, 'fact_shifts').header).not.toContain('shift_key');
    const renamed = await d('renamed');
    expect(read(renamed, 'dim_schedule').header).toContain('game_date_str');
    expect(read(renamed, 'dim_schedule').rows[0]![read(renamed, 'dim_schedule').header.indexOf('game_date_str')]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(read(renamed, 'fact_wowy').header).toEqual(expect.arrayContaining(['total_p1_shifts', 'total_p2_shifts']));
    const leaked = read(await d('index-leaked'), 'fact_events');
    expect(leaked.header[0]).toBe('row_index');
    expect(leaked.rows.slice(0, 3).map((r) => r[0])).toEqual(['0', '1', '2']);
    const second = await d('second-key');
    expect(read(second, 'fact_goalie_game_stats').header.slice(0, 2)).toEqual(['goalie_game_key', 'player_game_key']);
    expect(read(second, 'fact_shifts').header.slice(0, 2)).toEqual(['shift_key', 'shift_tracking_key']);
    const formats = await d('key-format');
    expect(read(formats, 'fact_goalie_game_stats').rows[0]![0]).toMatch(/^GGK50001_P\d+$/);
    // Relations follow the keys they point to.
    const events = new Set(read(formats, 'fact_events').rows.map((r) => r[0]));
    const ep = read(formats, 'fact_events_player');
    expect(ep.rows.every((r) => events.has(r[ep.header.indexOf('event_key')]!))).toBe(true);
    const grain = read(await d('grain'), 'fact_wowy');
    expect(grain.rows).toHaveLength(2 * read(base, 'fact_wowy').rows.length);
    expect(grain.header.slice(-2)).toEqual(['player_id', 'teammate_id']);
    const retyped = read(await d('retyped'), 'fact_goalie_game_stats');
    expect(retyped.rows[0]![retyped.header.indexOf('toi_seconds')]).toMatch(/\.5$/);
  });

  it('reads and writes CSV as the export has it: quotes, commas and line breaks in a field', () => {
    const text = 'a,b\n"x, ""y""",2\n"line\nbreak",3\n';
    expect(parseCsv(text)).toEqual({
      header: ['a', 'b'],
      rows: [
        ['x, "y"', '2'],
        ['line\nbreak', '3'],
      ],
    });
    expect(formatCsv(parseCsv(text))).toBe(text);
  });
});
