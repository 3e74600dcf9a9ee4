/**
 * Turns what a caller hands over (an object, a JSON string or buffer, or a stream) into a
 * validated TrackerExport, with errors that say what is wrong, where, and which value it
 * was. Only a refused value of a field the warehouse reads is quoted (short, cut when
 * long): the rest of the input, `settings` above all (it can hold credentials), never is.
 */
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import { trackerExportSchema, type TrackerExport } from './export-schema';

export type TrackerInput = Record<string, unknown> | string | Uint8Array | Readable;

export class TrackerExportError extends Error {
  override readonly name = 'TrackerExportError';
  constructor(
    message: string,
    /** One line per problem: `events[12].period: must be a whole number`. */
    readonly problems: string[] = [],
    /** The game id, when it could be read. */
    readonly gameId: number | null = null,
  ) {
    super(message);
  }
}

/** The biggest export accepted (the real 1,593-event game is 1.3 MB). */
export const MAX_EXPORT_BYTES = 64 * 1024 * 1024;

function isReadable(v: unknown): v is Readable {
  return typeof v === 'object' && v !== null && typeof (v as Readable).pipe === 'function' && Symbol.asyncIterator in (v as object);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += b.length;
    if (size > MAX_EXPORT_BYTES) {
      stream.destroy();
      throw new TrackerExportError(`the tracker export is larger than ${MAX_EXPORT_BYTES / 1024 / 1024} MB; is this the right file?`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** JSON.parse, with an error message that names the position but never quotes the text. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    const line = at !== undefined ? text.slice(0, Number(at)).split('\n').length : undefined;
    const where = at !== undefined ? ` (at character ${at}${line !== undefined ? `, line ${line}` : ''})` : '';
    const hint = text.trim() === '' ? ': it is empty' : `${where}`;
    throw new TrackerExportError(`the tracker export is not valid JSON${hint}`);
  }
}

function pathText(path: PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(the export)';
}

const MAX_PROBLEMS = 12;

export async function readTrackerExport(input: TrackerInput): Promise<TrackerExport> {
  let raw: unknown;
  if (typeof input === 'string') raw = parseJson(input);
  else if (input instanceof Uint8Array) raw = parseJson(Buffer.from(input).toString('utf8'));
  else if (isReadable(input)) raw = parseJson((await readAll(input)).toString('utf8'));
  else raw = input;

  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new TrackerExportError('the tracker export must be a JSON object with gameId, rosters, events and shifts');
  }
  const parsed = trackerExportSchema.safeParse(raw);
  if (parsed.success) return parsed.data;

  const rawGame = (raw as Record<string, unknown>).gameId;
  const gameId =
    typeof rawGame === 'number' && Number.isSafeInteger(rawGame) ? rawGame : typeof rawGame === 'string' && /^\d+$/.test(rawGame) ? Number(rawGame) : null;
  const problems = parsed.error.issues.map((i) => `${pathText(i.path)}: ${issueMessage(i, raw)}`);
  const shown = problems.slice(0, MAX_PROBLEMS);
  const more = problems.length > MAX_PROBLEMS ? `\n  ... and ${problems.length - MAX_PROBLEMS} more` : '';
  throw new TrackerExportError(
    `the tracker export${gameId !== null ? ` of game ${gameId}` : ''} is not valid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${shown.join('\n  ')}${more}`,
    problems,
    gameId,
  );
}

/**
 * zod's message, and the value it refused (zod names the type it received, not the value:
 * `expected boolean` says nothing of which of 1,593 events to fix).
 */
function issueMessage(i: z.core.$ZodIssue, raw: unknown): string {
  // (our own checks name their values: `idx 4 appears twice`)
  if (i.code === 'custom') return i.message;
  const value = valueAt(raw, i.path);
  if (i.code === 'invalid_type') {
    if (value === undefined) return `is missing (expected ${i.expected})`;
    return `expected ${i.expected}, received ${describeValue(value)}`;
  }
  return value === undefined ? i.message : `${i.message}, received ${describeValue(value)}`;
}

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  let v = raw;
  for (const p of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

const MAX_QUOTED = 40;

/** A value in a message: a short one whole, a long text by its start, a list or an object by its kind. */
function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string':
      return v.length > MAX_QUOTED
        ? `the text ${JSON.stringify(v.slice(0, MAX_QUOTED)).slice(0, -1)}…" (${v.length.toLocaleString('en-US')} characters)`
        : `the text ${JSON.stringify(v)}`;
    case 'number':
    case 'boolean':
      return `the ${typeof v} ${String(v)}`;
    case 'object':
      return 'an object';
    default:
      return `a ${typeof v}`;
  }
}
