/**
 * Builds the Portal's page (portal/ui: Preact, bundled by esbuild — the bundler the Lambdas
 * already use) into portal/dist/ui: index.html and hashed assets, nothing fetched from the
 * internet at run time. There is no separate build step: whatever serves the page calls
 * ensureUiBuilt(), which builds when the sources changed since the last build (a hash of
 * them is kept beside the output) — `npm start`, the tests, and `npm run build` for the
 * Lambda. A build goes to a new folder that replaces the old one at once, so two
 * processes building together never serve half a build.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const UI_SRC = path.join(__dirname, 'ui');
export const UI_OUT = path.join(__dirname, 'dist', 'ui');
const STAMP = '.source-hash';

function sourceHash(): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else h.update(p.slice(UI_SRC.length)).update(readFileSync(p));
    }
  };
  walk(UI_SRC);
  h.update(readFileSync(path.join(__dirname, 'ui-build.ts')));
  return h.digest('hex').slice(0, 16);
}

/** Builds the page into `outDir` (default portal/dist/ui); returns the folder. */
export async function buildUi(outDir = UI_OUT): Promise<string> {
  const { build } = await import('esbuild');
  const hash = sourceHash();
  const tmp = `${outDir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  const result = await build({
    entryPoints: [path.join(UI_SRC, 'main.tsx')],
    bundle: true,
    minify: true,
    sourcemap: false,
    format: 'esm',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: tmp,
    entryNames: 'assets/[name]-[hash]',
    metafile: true,
    logLevel: 'silent',
    tsconfig: path.join(UI_SRC, 'tsconfig.json'),
  });
  const outputs = Object.keys(result.metafile.outputs).map((f) => path.relative(tmp, path.resolve(f)).split(path.sep).join('/'));
  const js = outputs.find((f) => f.endsWith('.js'));
  const css = outputs.find((f) => f.endsWith('.css'));
  if (!js) throw new Error('the Portal page built no script');
  const html = readFileSync(path.join(UI_SRC, 'index.html'), 'utf8')
    .replace('<!--styles-->', css ? `<link rel="stylesheet" href="/${css}">` : '')
    .replace('<!--script-->', `<script type="module" src="/${js}"></script>`);
  writeFileSync(path.join(tmp, 'index.html'), html);
  writeFileSync(path.join(tmp, STAMP), hash);
  const old = `${outDir}.old-${process.pid}-${Date.now()}`;
  if (existsSync(outDir)) renameSync(outDir, old);
  renameSync(tmp, outDir);
  rmSync(old, { recursive: true, force: true });
  return outDir;
}

/** The built page's folder, built first when the sources changed since. */
export async function ensureUiBuilt(outDir = UI_OUT): Promise<string> {
  const stamp = path.join(outDir, STAMP);
  if (existsSync(stamp) && existsSync(path.join(outDir, 'index.html')) && readFileSync(stamp, 'utf8') === sourceHash()) return outDir;
  // Where only the built page was shipped (a Lambda bundle), there are no sources to compare.
  if (!existsSync(UI_SRC) && existsSync(path.join(outDir, 'index.html'))) return outDir;
  try {
    return await buildUi(outDir);
  } catch (err) {
    // Another process replaced the folder under this one: its build is as good.
    if (existsSync(stamp) && statSync(stamp).isFile() && readFileSync(stamp, 'utf8') === sourceHash()) return outDir;
    throw err;
  }
}
