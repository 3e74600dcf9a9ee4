/**
 * The real export at ×N, as a league N times the size would write it: the dimension
 * files as they are, plus dim_schedule's rows again for the new games; every fact row
 * repeated for N-1 more games, the game id offset (game + k·1,000,000) in `game_id` and
 * inside every `*_key` value. Cached under .benchsight/bench-data/real-xN.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';

export const REAL_CSV = path.resolve(__dirname, '../../shared/data/benchsight-2025-12-29/csv');

const OFFSET = 1_000_000;

function field(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The game of a row, as written (pandas may write `18969.0`). */
function gameOf(v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : null;
}

export function scaledExport(factor: number, src = REAL_CSV): string {
  const out = path.resolve('.benchsight', 'bench-data', `real-x${factor}`);
  if (existsSync(path.join(out, 'fact_wowy.csv'))) return out;
  if (!existsSync(src)) throw new Error(`the real export is not at ${src}`);
  const tmp = `${out}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  process.stderr.write(`writing the real export ×${factor} into ${out} ...\n`);
  for (const file of readdirSync(src).filter((f) => f.endsWith('.csv'))) {
    const text = readFileSync(path.join(src, file), 'utf8');
    const rows = parse(text, { bom: true, relax_column_count: true }) as string[][];
    const [header, ...body] = rows;
    const table = file.replace(/\.csv$/, '');
    const gameCol = header!.indexOf('game_id');
    const keyCols = header!.map((h, i) => (h.endsWith('_key') ? i : -1)).filter((i) => i >= 0);
    const scale = table.startsWith('fact_') || table === 'dim_schedule';
    const lines = [header!.map(field).join(',')];
    for (let k = 0; k < (scale ? factor : 1); k++) {
      for (const r of body) {
        const game = gameOf(r[gameCol]);
        if (k > 0 && game === null) continue; // a row of no game is written once
        const copy = [...r];
        if (k > 0 && game !== null) {
          const to = String(game + k * OFFSET);
          copy[gameCol] = to;
          for (const c of keyCols) copy[c] = (copy[c] ?? '').split(String(game)).join(to);
        }
        lines.push(copy.map(field).join(','));
      }
    }
    writeFileSync(path.join(tmp, file), `${lines.join('\n')}\n`);
  }
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  return out;
}
