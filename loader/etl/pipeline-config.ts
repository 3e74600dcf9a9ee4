/**
 * The team's own ETL pipeline, as configured: a JSON file (BENCHSIGHT_ETL_PIPELINE names it,
 * e.g. `etl-pipeline.json`) listing the steps that make a game's export, and the folder
 * they write it to. `{game_id}` (and `{export_dir}`) in a command, a working directory, an
 * environment value or the export folder are replaced when a game runs. A command is a
 * list of words run as a process, never through a shell. The design notes' example
 * (`etl-pipeline.example.json` in this folder):
 *
 *   { "exportDir": "data/output",
 *     "steps": [
 *       { "name": "etl", "command": ["python", "etl.py", "--game-id", "{game_id}"], "timeoutSeconds": 7200 },
 *       { "name": "fix data integrity", "command": ["python", "scripts/fix_data_integrity.py"] },
 *       { "name": "fix final data", "command": ["python", "scripts/fix_final_data.py"] },
 *       { "name": "validation", "command": ["python", "scripts/etl_validation.py"] } ] }
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const DEFAULT_STEP_TIMEOUT_SECONDS = 3600;

export interface PipelineStep {
  name: string;
  /** argv: the program, then its arguments (placeholders not yet replaced). */
  command: string[];
  /** Absolute (relative ones are resolved against the config file's folder). */
  cwd: string;
  /** Added to the worker's environment. */
  env: Record<string, string>;
  timeoutSeconds: number;
}

export interface Pipeline {
  /** Where it was read from (for messages). */
  file: string;
  /** The folder the steps write the game's export to (`<table>.csv`), absolute, placeholders not yet replaced. */
  exportDir: string;
  steps: PipelineStep[];
}

export class PipelineConfigError extends Error {
  override readonly name = 'PipelineConfigError';
}

const Step = z
  .object({
    name: z.string().trim().min(1).optional(),
    command: z.array(z.string()).min(1, 'a command needs at least the program to run'),
    cwd: z.string().trim().min(1).optional(),
    env: z.record(z.string(), z.string()).optional(),
    timeoutSeconds: z
      .number()
      .positive()
      .max(7 * 24 * 3600)
      .optional(),
  })
  .strict();

const File = z
  .object({
    $comment: z.string().optional(),
    exportDir: z.string().trim().min(1),
    cwd: z.string().trim().min(1).optional(),
    env: z.record(z.string(), z.string()).optional(),
    timeoutSeconds: z
      .number()
      .positive()
      .max(7 * 24 * 3600)
      .optional(),
    steps: z.array(Step).min(1, 'a pipeline needs at least one step'),
  })
  .strict();

/** Validates a pipeline (the file's JSON); relative folders are taken from `baseDir`. */
export function parsePipeline(json: unknown, file: string, baseDir = path.dirname(path.resolve(file))): Pipeline {
  const parsed = File.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top)'}: ${i.message}`);
    throw new PipelineConfigError(`the ETL pipeline ${file} is not valid:\n  ${lines.join('\n  ')}`);
  }
  const p = parsed.data;
  const dir = path.resolve(baseDir, p.cwd ?? '.');
  return {
    file,
    exportDir: path.resolve(baseDir, p.exportDir),
    steps: p.steps.map((s, i) => ({
      name: s.name ?? `step ${i + 1}`,
      command: s.command,
      cwd: path.resolve(dir, s.cwd ?? '.'),
      env: { ...p.env, ...s.env },
      timeoutSeconds: s.timeoutSeconds ?? p.timeoutSeconds ?? DEFAULT_STEP_TIMEOUT_SECONDS,
    })),
  };
}

/** Reads and validates the pipeline file; its errors name the file (and the JSON's line and column). */
export function readPipeline(file: string): Pipeline {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PipelineConfigError(`the ETL pipeline ${file} cannot be read: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    const at = m ? lineColumn(text, Number(m[1])) : undefined;
    throw new PipelineConfigError(`the ETL pipeline ${file} is not JSON${at ? ` (line ${at.line}, column ${at.column})` : ''}: ${(err as Error).message}`);
  }
  return parsePipeline(json, file);
}

function lineColumn(text: string, pos: number): { line: number; column: number } {
  const before = text.slice(0, pos).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

/** The pipeline BENCHSIGHT_ETL_PIPELINE names, or undefined (then the SQL live ETL runs a game). */
export function pipelineFromEnv(env: NodeJS.ProcessEnv): Pipeline | undefined {
  const file = env.BENCHSIGHT_ETL_PIPELINE?.trim();
  return file ? readPipeline(file) : undefined;
}

/** A game id as the placeholder takes it: a positive whole number, nothing else (no shell, no injection). */
export function checkGameId(gameId: unknown): number {
  if (typeof gameId !== 'number' || !Number.isSafeInteger(gameId) || gameId <= 0 || gameId > 2147483647) {
    throw new PipelineConfigError(`game id ${JSON.stringify(String(gameId))} is not a positive whole number`);
  }
  return gameId;
}

/** `{game_id}` and `{export_dir}` replaced. */
export function fillPlaceholders(s: string, v: { gameId: number; exportDir?: string }): string {
  return s.replaceAll('{game_id}', String(checkGameId(v.gameId))).replaceAll('{export_dir}', v.exportDir ?? '{export_dir}');
}
