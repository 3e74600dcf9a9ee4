/**
 * The boundaries of the source (STYLE.md 10): every composition root lives in
 * loader/entry/; the core (the rest of loader/) imports neither an entry point nor the
 * bot; the bot imports no entry point; and no import cycle runs between files or between
 * folders at run time. Runtime imports are those TypeScript leaves in the JavaScript
 * (support/import-graph.ts): `import type` and imports used only as types do not count
 * for cycles. For the direction rules every import counts, types included.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cycles, importGraph, importsOf, sourceFiles, type ImportEdge } from './support/import-graph';

const ROOT = path.resolve(__dirname, '..');
const ENTRY = 'loader/entry/';

/**
 * Known cycles, left to another change. Each entry is a cycle exactly as this test names
 * it; an entry whose cycle is gone fails the test until it is removed, so the list only
 * shrinks.
 */
const KNOWN_FILE_CYCLES: string[] = [];

const files = sourceFiles(ROOT, ['loader', 'bot', 'infra']);
const edges = importGraph(ROOT, files);
const runtime = edges.filter((e) => e.runtime);

/** bot/, infra/, loader/ (its own files), or a folder of loader/ with everything below it. */
function folderOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] === 'loader' && parts.length > 2) return `loader/${parts[1]}/`;
  return `${parts[0]}/`;
}

const name = (cycle: string[]) => cycle.join(' ↔ ');
const show = (e: ImportEdge) => `${e.from} → ${e.to}${e.runtime ? '' : ' (types)'}`;
const isEntry = (f: string) => f.startsWith(ENTRY);
const isBot = (f: string) => f.startsWith('bot/');
const isCore = (f: string) => f.startsWith('loader/') && !isEntry(f);

describe('import cycles (at run time)', () => {
  it('none between files', () => {
    const found = cycles(runtime).map(name);
    expect(
      found.filter((c) => !KNOWN_FILE_CYCLES.includes(c)),
      'new cycles between files',
    ).toEqual([]);
    expect(
      KNOWN_FILE_CYCLES.filter((c) => !found.includes(c)),
      'gone: remove them from KNOWN_FILE_CYCLES',
    ).toEqual([]);
  });

  it('none between folders', () => {
    const between = runtime.map((e) => ({ ...e, from: folderOf(e.from), to: folderOf(e.to) })).filter((e) => e.from !== e.to);
    const found = cycles(between).map((folders) => ({
      folders: name(folders),
      // The imports that make the cycle: where to cut it.
      through: runtime.filter((e) => folders.includes(folderOf(e.from)) && folders.includes(folderOf(e.to)) && folderOf(e.from) !== folderOf(e.to)).map(show),
    }));
    expect(found).toEqual([]);
  });
});

describe('who may import whom', () => {
  it('the core (loader/ outside loader/entry/) imports neither an entry point nor the bot', () => {
    expect(edges.filter((e) => isCore(e.from) && (isEntry(e.to) || isBot(e.to))).map(show)).toEqual([]);
  });

  it('the bot and the Pulumi program import no entry point; the Pulumi program does not import the bot', () => {
    expect(edges.filter((e) => !e.from.startsWith('loader/') && isEntry(e.to)).map(show)).toEqual([]);
    expect(edges.filter((e) => e.from.startsWith('infra/') && isBot(e.to)).map(show)).toEqual([]);
  });
});

describe('the import graph this test reads', () => {
  it('counts an import at run time only when its names are used as values', () => {
    const text = [
      "import type { A } from './a';",
      "import { B } from './b';",
      "import { C } from './c';",
      "import './d';",
      "export { E } from './e';",
      "export type { F } from './f';",
      'export const x: A & B = new C();',
    ].join('\n');
    const r = importsOf('x.ts', text);
    expect(r.all.sort()).toEqual(['./a', './b', './c', './d', './e', './f']);
    expect(r.runtime.sort()).toEqual(['./c', './d', './e']);
  });

  it('finds every cycle, and only cycles', () => {
    const e = (from: string, to: string) => ({ from, to });
    expect(cycles([e('a', 'b'), e('b', 'c'), e('c', 'a'), e('c', 'd'), e('d', 'e'), e('e', 'd'), e('f', 'f')])).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
    expect(cycles([e('a', 'b'), e('b', 'c')])).toEqual([]);
  });

  it('reads the source (the entry points and the core are there)', () => {
    expect(files).toContain('loader/history.ts');
    expect(runtime.length).toBeGreaterThan(100);
  });
});
