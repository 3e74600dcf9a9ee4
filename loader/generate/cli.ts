/**
 * `benchsight generate --games N --out DIR [--seed S] [--first-game ID] [--dirty]`:
 * parses the arguments (zod, at the edge), runs generateExport, prints progress on
 * stderr and a summary on stdout. Exit 0 on success, 2 on a usage error, 1 on failure.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DRIFT_KINDS, driftExport, type DriftKind, type DriftReport } from './drift';
import { DEFAULT_FIRST_GAME_ID, DEFAULT_SEED, GenerateError, generateExport, MAX_GAMES, type GenerateProgress, type GenerateResult } from './export';

export interface GenerateIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

export const GENERATE_USAGE = `usage: benchsight generate --games N --out DIR [--seed S] [--first-game ID] [--dirty] [--workers W] [--drift KIND[,KIND]]
       benchsight generate --from DIR --drift KIND[,KIND] --out DIR

Writes a synthetic BenchSight export, the 12 <table>.csv files, in exactly the format of
the real export (headers, value styles, key formats): per game about 1,500 events,
2,800 event-player rows and 1.9 MB of CSV.

  --games N          games to play, 1 to ${MAX_GAMES.toLocaleString('en-US')}
  --out DIR          folder for the files (created if missing; existing files are replaced)
  --seed S           seed of the generator (default ${DEFAULT_SEED}); same seed and options, same bytes
  --first-game ID    id of the first game (default ${DEFAULT_FIRST_GAME_ID}); the others follow it
  --dirty            add the real export's data problems: a duplicate event key, event-player
                     rows pointing at a missing event, rows without a player
  --workers W        threads rendering games (default: one per CPU from 16 games on; 0: none)
  --drift KIND,...   write the export as a later ETL version would (loader/generate/drift.ts):
                     ${DRIFT_KINDS.join(', ')}
  --from DIR         drift an export that is there already (a generated one, a real one) instead
`;

const wholeNumber = (flag: string, min: number, max: number) =>
  z
    .string({ error: `${flag} is required` })
    .regex(/^-?\d+$/, `${flag} must be a whole number`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${flag} must be from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}`);

const DriftKinds = z
  .string()
  .transform((s) => s.split(',').map((k) => k.trim()))
  .refine((ks) => ks.every((k) => (DRIFT_KINDS as readonly string[]).includes(k)), `--drift takes ${DRIFT_KINDS.join(', ')} (or several, comma-separated)`)
  .transform((ks) => ks as DriftKind[]);

const ArgsSchema = z.object({
  games: wholeNumber('--games', 1, MAX_GAMES).optional(),
  from: z.string().trim().min(1, '--from needs a folder').optional(),
  drift: DriftKinds.optional(),
  out: z.string({ error: '--out is required' }).trim().min(1, '--out needs a folder'),
  seed: wholeNumber('--seed', -(2 ** 31), 2 ** 32 - 1).optional(),
  'first-game': wholeNumber('--first-game', 1, 2 ** 31 - 1 - MAX_GAMES).optional(),
  dirty: z.boolean().optional(),
  workers: wholeNumber('--workers', 0, 64).optional(),
});

export async function runGenerate(argv: string[], io: GenerateIo): Promise<number> {
  const usage = (message: string) => {
    io.stderr.write(`benchsight generate: ${message}\n\n${GENERATE_USAGE}`);
    return 2;
  };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        games: { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string' },
        'first-game': { type: 'string' },
        dirty: { type: 'boolean' },
        workers: { type: 'string' },
        drift: { type: 'string' },
        from: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    return usage((e as Error).message);
  }
  if (values.help) {
    io.stdout.write(GENERATE_USAGE);
    return 0;
  }
  // (--games is required unless an export is drifted --from a folder)
  const parsed = (values.from ? ArgsSchema : ArgsSchema.extend({ games: wholeNumber('--games', 1, MAX_GAMES) })).safeParse(values);
  if (!parsed.success) return usage(parsed.error.issues.map((i) => i.message).join('; '));
  const args = parsed.data;
  if (args.from) {
    if (!args.drift) return usage('--from drifts an export: it needs --drift');
    try {
      const started = performance.now();
      const report = await driftExport(args.from, args.out, args.drift);
      io.stdout.write(driftSummary(report, args.from, args.out, (performance.now() - started) / 1000));
      return 0;
    } catch (e) {
      io.stderr.write(`benchsight generate: ${(e as Error).message}\n`);
      return 1;
    }
  }
  if (args.games === undefined) return usage('--games is required');
  const games = args.games;

  const started = performance.now();
  const progress = progressLine(io.stderr, started);
  try {
    const result = await generateExport({
      games,
      outDir: args.out,
      seed: args.seed,
      firstGameId: args['first-game'],
      dirty: args.dirty,
      workers: args.workers,
      onProgress: progress.update,
    });
    progress.finish();
    io.stdout.write(summary(result, args.out, args.seed ?? DEFAULT_SEED, args.dirty ?? false, (performance.now() - started) / 1000));
    if (args.drift) io.stdout.write(driftSummary(await driftExport(args.out, args.out, args.drift), args.out, args.out, 0));
    return 0;
  } catch (e) {
    progress.finish();
    // Known failures (bad folder, full disk) say what to do; anything else is a bug: show where.
    const message = e instanceof GenerateError || /^cannot write /.test((e as Error)?.message) ? (e as Error).message : String((e as Error)?.stack ?? e);
    io.stderr.write(`benchsight generate: ${message}\n`);
    return 1;
  }
}

/** Rows written and MB/s on stderr: a live line on a terminal, a line every 2 s otherwise. */
function progressLine(stream: GenerateIo['stderr'], started: number) {
  let last = started;
  let live = false;
  return {
    update(p: GenerateProgress) {
      const now = performance.now();
      if (now - last < (stream.isTTY ? 250 : 2000) || now - started < 1000) return;
      last = now;
      const seconds = (now - started) / 1000;
      const text =
        `generate: ${p.gamesDone.toLocaleString('en-US')}/${p.games.toLocaleString('en-US')} games, ` +
        `${p.rows.toLocaleString('en-US')} rows, ${(p.bytes / 1e6).toFixed(1)} MB at ${(p.bytes / 1e6 / seconds).toFixed(1)} MB/s`;
      if (stream.isTTY) {
        stream.write(`\r\x1b[2K${text}`);
        live = true;
      } else stream.write(`${text}\n`);
    },
    finish() {
      if (live) stream.write('\r\x1b[2K');
      live = false;
    },
  };
}

function summary(r: GenerateResult, out: string, seed: number, dirty: boolean, seconds: number): string {
  const rows = r.files.reduce((a, f) => a + f.rows, 0);
  const mb = r.files.reduce((a, f) => a + f.bytes, 0) / 1e6;
  const n = (x: number) => x.toLocaleString('en-US');
  const first = r.gameIds[0];
  const last = r.gameIds[r.gameIds.length - 1];
  const lines = [
    `generated ${n(r.gameIds.length)} games (ids ${first}–${last}, seed ${seed}, ${dirty ? 'dirty' : 'clean'}) in ${path.resolve(out)} in ${seconds.toFixed(1)} s`,
    ...r.files.map((f) => `  ${path.basename(f.path).padEnd(28)} ${n(f.rows).padStart(12)} rows ${(f.bytes / 1e6).toFixed(1).padStart(9)} MB`),
    `  ${`${r.files.length} files`.padEnd(28)} ${n(rows).padStart(12)} rows ${mb.toFixed(1).padStart(9)} MB  (${(mb / seconds).toFixed(1)} MB/s)`,
  ];
  if (dirty) {
    const q = r.quirks;
    lines.push(
      `  injected: duplicate event key ${q.duplicateEventKeys.join(', ')}; ${n(q.orphanEventPlayerRows)} event-player rows with a missing event; ` +
        `${n(q.eventPlayerRowsWithoutPlayer)} event-player and ${n(q.shiftPlayerRowsWithoutPlayer)} shift-player rows without a player`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function driftSummary(r: DriftReport, from: string, out: string, seconds: number): string {
  const lines = [
    `drifted (${r.kinds.join(', ')}) ${from === out ? path.resolve(out) : `${path.resolve(from)} → ${path.resolve(out)}`}${seconds ? ` in ${seconds.toFixed(1)} s` : ''}`,
    ...r.changes.flatMap((c) => c.what.map((w) => `  ${c.table.padEnd(24)} ${w}`)),
  ];
  return `${lines.join('\n')}\n`;
}
