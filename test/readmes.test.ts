/**
 * A README that names a file is checked when the file moves (STYLE.md 12): every
 * backquoted path in a README that looks like a file of this repository (a name ending in
 * .ts, .js, .sql, .md, .yaml, .yml or .json) must exist. A README names files relative to
 * itself, to the repository's root, to one of the folders below it (loader/README.md's
 * `naming.ts` is loader/warehouse/naming.ts), or to the folder of a path it names in full
 * (`sql/functions/exposure.sql`, then `exposure.sql`). Globs must match a file.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '.benchsight', 'coverage']);
const FILE = /^[\w.@/*-]+\.(ts|js|sql|md|ya?ml|json)$/;
/** Not files of the repository: what the code writes (dist/, the data folder), S3 keys, the data outside it, name patterns (NNNNNN). */
const NOT_REPO = [/^dist\//, /^\.benchsight\//, /^\.\.\/shared\//, /^_manifest\.json$/, /^batches\//, /^benchsight_game_/, /NNN/];

function folders(dir: string): string[] {
  const out = [dir];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory() && !SKIP_DIRS.has(e.name)) out.push(...folders(path.join(dir, e.name)));
  }
  return out;
}

const readmes = folders(ROOT)
  .map((d) => path.join(d, 'README.md'))
  .filter((f) => existsSync(f));

function matches(base: string, name: string): boolean {
  if (!name.includes('*')) return existsSync(path.join(base, name));
  const dir = path.join(base, path.dirname(name));
  const glob = path
    .basename(name)
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*');
  return existsSync(dir) && readdirSync(dir).some((f) => new RegExp(`^${glob}$`).test(f));
}

/** The backquoted names of a README that look like files of the repository, with where they do not resolve. */
function missingIn(readme: string): string[] {
  const dir = path.dirname(readme);
  const below = folders(dir);
  const names = [...new Set([...readFileSync(readme, 'utf8').matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!))].filter(
    (n) => FILE.test(n) && !NOT_REPO.some((r) => r.test(n)),
  );
  const bases = [dir, ROOT, ...below];
  const named = names.filter((n) => n.includes('/')).flatMap((n) => bases.filter((b) => matches(b, n)).map((b) => path.dirname(path.join(b, n))));
  return names.filter((n) => ![...bases, ...named].some((base) => matches(base, n)));
}

describe('READMEs name files that exist', () => {
  it('finds the READMEs', () => {
    expect(readmes.map((r) => path.relative(ROOT, r))).toEqual(
      expect.arrayContaining(['README.md', 'loader/README.md', 'bot/README.md', 'infra/README.md', 'test/README.md']),
    );
  });

  for (const readme of readmes) {
    it(path.relative(ROOT, readme), () => {
      expect(missingIn(readme)).toEqual([]);
    });
  }
});
