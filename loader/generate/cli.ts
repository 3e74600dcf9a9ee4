/**
 * `benchsight generate --games N --out DIR [--seed S] [--first-game ID] [--dirty] [--drift KIND,...] [--json]`
 * and `benchsight generate --from DIR --drift KIND,... --out DIR` (a later ETL version of an
 * export that is there already): checks the flags commander read (zod, at the edge), runs generateExport, prints
 * progress on stderr and a summary (or JSON) on stdout. Exit 0 on success, 2 on a usage
 * error, 1 on failure.
 */
import path from 'node:path';
import { z } from 'zod';
import { DRIFT_KINDS, type DriftKind, type DriftReport, driftExport } from './drift';
import { DEFAULT_SEED, GenerateError, generateExport, MAX_GAMES, type GenerateProgress, type GenerateResult } from './export';

export interface GenerateIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

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

/** The flags as commander read them (loader/cli/program.ts): strings, checked here with zod. */
export interface GenerateArgs {
  games?: string;
  out?: string;
  seed?: string;
  firstGame?: string;
  dirty?: boolean;
  workers?: string;
  drift?: string;
  from?: string;
  json?: boolean;
}

export async function runGenerate(flags: GenerateArgs, io: GenerateIo): Promise<number> {
  const usage = (message: string) => {
    io.stderr.write(`benchsight generate: ${message} (see benchsight generate --help)\n`);
    return 2;
  };
  // (--games is required unless an export is drifted --from a folder)
  const schema = flags.from ? ArgsSchema : ArgsSchema.extend({ games: wholeNumber('--games', 1, MAX_GAMES) });
  const parsed = schema.safeParse({ ...flags, 'first-game': flags.firstGame });
  if (!parsed.success) return usage(parsed.error.issues.map((i) => i.message).join('; '));
  const args = parsed.data;
  if (args.from) {
    if (!args.drift) return usage('--from drifts an export: it needs --drift');
    try {
      const started = performance.now();
      const report = await driftExport(args.from, args.out, args.drift);
      const seconds = (performance.now() - started) / 1000;
      if (flags.json)
        io.stdout.write(
          `${JSON.stringify({ ok: true, from: path.resolve(args.from), out: path.resolve(args.out), ...report, seconds: Math.round(seconds * 100) / 100 }, null, 2)}\n`,
        );
      else io.stdout.write(driftSummary(report, args.from, args.out, seconds));
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
    const drift = args.drift ? await driftExport(args.out, args.out, args.drift) : undefined;
    const seconds = (performance.now() - started) / 1000;
    if (flags.json) {
      io.stdout.write(
        `${JSON.stringify(
          {
            ok: true,
            out: path.resolve(args.out),
            seed: args.seed ?? DEFAULT_SEED,
            dirty: args.dirty ?? false,
            gameIds: result.gameIds,
            files: result.files.map((f) => ({ file: f.path, rows: f.rows, bytes: f.bytes })),
            ...(drift ? { drift } : {}),
            seconds: Math.round(seconds * 100) / 100,
          },
          null,
          2,
        )}\n`,
      );
    } else {
      io.stdout.write(summary(result, args.out, args.seed ?? DEFAULT_SEED, args.dirty ?? false, seconds));
      if (drift) io.stdout.write(driftSummary(drift, args.out, args.out, 0));
    }
    return 0;
  } catch (e) {
    progress.finish();
    // Known failures (bad folder, full disk) say what to do; anything else is a bug: show where.
    const message = e instanceof GenerateError || /^cannot write /.test((e as Error)?.message) ? (e as Error).message : String((e as Error)?.stack ?? e);
    io.stderr.write(`benchsight generate: ${message}\n`);
    if (flags.json) io.stdout.write(`${JSON.stringify({ ok: false, error: message })}\n`);
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
