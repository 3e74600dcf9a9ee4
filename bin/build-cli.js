// Builds the compiled CLI that bin/benchsight.js runs: esbuild bundles loader/entry/cli.ts
// (and the generator's worker thread) into ESM chunks in dist/cli/, code-split at every
// `import()` of the sources, so a command loads only its own modules. Plain JavaScript (no
// tsx): it runs at install (`prepare`, also under `npm ci --omit=dev`: esbuild is a
// dependency) and from the bin when the build is missing or its sources changed.
//
// - A few pure-JavaScript packages that nearly every command loads are bundled (BUNDLED);
//   every other package stays in node_modules and is loaded with `require()` when the code
//   that imports it runs (each import of it becomes a one-line CommonJS module that
//   requires it): the same CommonJS packages as under tsx, and lazy as the sources are.
// - `__dirname`/`__filename` of a source file are its place in the sources (MIGRATIONS_DIR,
//   the Portal's page), whichever chunk its code lands in.
// - dist/cli/build.json (written last) lists every input with its size and mtime (the
//   bin's staleness check: stat calls, no hashing) and which sources each output holds.
'use strict';
const { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } = require('node:fs');
const { builtinModules } = require('node:module');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
/** dist/cli: two folders down from the root, as the banner's `__bs_root` assumes. */
const OUT = path.join(ROOT, 'dist', 'cli');
const MANIFEST = 'build.json';
/** The outputs' entries: name → source. */
const ENTRIES = { cli: 'loader/entry/cli.ts', 'generate-worker': 'loader/generate/worker.ts' };
/** What a build reads besides the sources: a change to how it builds, or to the bundled packages' versions, rebuilds too. */
const BUILD_FILES = ['bin/build-cli.js', 'package.json', 'package-lock.json'];
/** Every output file starts with this: `require` for the packages, where the sources are, and which chunks loaded (test/cli/support/loaded-modules.cjs). */
const BANNER = [
  "import { createRequire as __bsCreateRequire } from 'node:module';",
  "import { fileURLToPath as __bsFileURLToPath } from 'node:url';",
  'const require = __bsCreateRequire(import.meta.url);',
  "const __bs_cli_dir = __bsFileURLToPath(new URL('.', import.meta.url));",
  "const __bs_root = __bsFileURLToPath(new URL('../..', import.meta.url));",
  '(globalThis.__benchsightChunks ??= []).push(import.meta.url);',
].join('\n');

/**
 * The packages bundled into the chunks: pure JavaScript that nearly every command loads
 * (the option parser, the grammar's and the configuration's zod, pg, the tables and the
 * progress bars). One file read instead of a hundred `require()` resolutions each: zod
 * alone is 95 files, ~45 ms to require and ~22 ms bundled. Every other package (the AWS
 * SDK, Bolt, Hono, s3rver, pino and its thread transports, esbuild, the embedded
 * PostgreSQL binaries) is required from node_modules when the code that imports it runs.
 */
const BUNDLED = new Set(['commander', 'zod', 'pg', 'pg-copy-streams', 'cli-table3', 'cli-progress']);
/** pg's optional native binding: not installed, never loaded unless asked for. */
const NOT_BUNDLED = new Set(['pg-native']);
const packageName = (p) =>
  p
    .split('/')
    .slice(0, p.startsWith('@') ? 2 : 1)
    .join('/');
const BUILTIN = new Set(builtinModules);
const isBuiltin = (p) => p.startsWith('node:') || BUILTIN.has(p) || BUILTIN.has(p.split('/')[0]);
const posix = (p) => p.split(path.sep).join('/');

/** The esbuild plugin: packages required at run time; a source's own `__dirname`. */
function cliPlugin(root) {
  return {
    name: 'benchsight-cli',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (path.isAbsolute(args.path)) return undefined;
        if (isBuiltin(args.path) || args.namespace === 'package' || NOT_BUNDLED.has(args.path)) return { path: args.path, external: true };
        // A bundled package's own dependencies are bundled with it.
        if (args.importer.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        if (BUNDLED.has(packageName(args.path))) return undefined;
        // `require()` stays a require; `import()` stays an import(), which Node answers with the
        // package's named exports as it does for any CommonJS package (a wrapper would hide them).
        if (args.kind !== 'import-statement') return { path: args.path, external: true };
        return { path: args.path, namespace: 'package' };
      });
      b.onLoad({ filter: /.*/, namespace: 'package' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.path)});`,
        loader: 'js',
        resolveDir: root,
      }));
      // pg asks whether it runs in a Cloudflare Worker by constructing a `Response`, which
      // on Node 20 loads Node's whole fetch implementation (undici, ~8 ms) for nothing.
      b.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, (args) => ({
        contents: readFileSync(args.path, 'utf8').replace('if (isCloudflareRuntime()) {', 'if (false) {'),
        loader: 'js',
      }));
      b.onLoad({ filter: /\.tsx?$/ }, (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        let contents = readFileSync(args.path, 'utf8');
        const rel = posix(path.relative(root, args.path));
        if (/\b__(dirname|filename)\b/.test(contents)) {
          contents = contents
            .replace(/\b__dirname\b/g, `(__bs_root + ${JSON.stringify(path.posix.dirname(rel))})`)
            .replace(/\b__filename\b/g, `(__bs_root + ${JSON.stringify(rel)})`);
        }
        // zod's `z` is a namespace re-exported as a value, which keeps all of zod (800 KB, every
        // locale) in the bundle; imported as a namespace, only what the code calls is kept (~180 KB).
        contents = contents.replace(/^import \{ z \} from 'zod';$/m, "import * as z from 'zod';");
        return { contents, loader: args.path.endsWith('x') ? 'tsx' : 'ts' };
      });
    },
  };
}

/** Builds dist/cli; returns the manifest. */
async function buildCli(root = ROOT) {
  const { build } = require('esbuild');
  const out = path.join(root, 'dist', 'cli');
  const result = await build({
    absWorkingDir: root,
    entryPoints: Object.entries(ENTRIES).map(([out, input]) => ({ in: input, out })),
    outdir: out,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunk-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    sourcesContent: false,
    banner: { js: BANNER },
    define: { BENCHSIGHT_CLI_DIR: '__bs_cli_dir' },
    plugins: [cliPlugin(root)],
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  mkdirSync(out, { recursive: true });
  // Chunks are named by their content: a process still running an older build finds its own.
  // Each file is written beside, then renamed into place: a reader never sees half of one.
  const written = new Set([MANIFEST]);
  const isChunk = (f) => path.basename(f.path).startsWith('chunk-');
  const files = [...result.outputFiles.filter(isChunk), ...result.outputFiles.filter((f) => !isChunk(f))];
  for (const f of files) {
    const tmp = `${f.path}.${process.pid}.tmp`;
    writeFileSync(tmp, f.contents);
    renameSync(tmp, f.path);
    written.add(path.basename(f.path));
  }
  const inputs = {};
  // The sources, one by one; the bundled packages by the lock file (npm changes them only with it).
  const sources = Object.keys(result.metafile.inputs).filter((i) => !i.includes(':') && !i.includes('node_modules/'));
  for (const i of [...sources, ...BUILD_FILES.filter((f) => existsSync(path.join(root, f)))]) {
    const s = statSync(path.join(root, i));
    inputs[i] = [s.size, s.mtimeMs];
  }
  const outputs = {};
  for (const [o, v] of Object.entries(result.metafile.outputs)) {
    if (!o.endsWith('.mjs')) continue;
    outputs[path.basename(o)] = Object.keys(v.inputs)
      .map((i) => (i.startsWith('package:') ? `node_modules/${i.slice('package:'.length)}` : i))
      .sort();
  }
  const manifest = { inputs, outputs };
  const tmp = path.join(out, `${MANIFEST}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(manifest)}\n`);
  renameSync(tmp, path.join(out, MANIFEST));
  // An older build's chunks go once nothing started in the last hour can still want them.
  // (Another build may be writing and renaming beside this one: its files come and go.)
  for (const f of readdirSync(out)) {
    if (written.has(f) || written.has(f.replace(/\.map$/, '')) || f.endsWith('.tmp')) continue;
    try {
      const p = path.join(out, f);
      if (Date.now() - statSync(p).mtimeMs > 3600_000) unlinkSync(p);
    } catch {
      /* another build removed it */
    }
  }
  return manifest;
}

/** Why dist/cli must be built again (missing, or an input changed since), or null when it is current. Cheap: one stat per input. */
function staleReason(root = ROOT) {
  const file = path.join(root, 'dist', 'cli', MANIFEST);
  if (!existsSync(file)) return 'it is not built';
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return `${MANIFEST} is unreadable`;
  }
  for (const [f, [size, mtime]] of Object.entries(manifest.inputs)) {
    const s = statSync(`${root}/${f}`, { throwIfNoEntry: false });
    if (!s) return `${f} is gone`;
    if (s.size !== size || s.mtimeMs !== mtime) return `${f} changed`;
  }
  return null;
}

/** The compiled CLI's entry, built first when missing or stale. */
async function ensureBuilt(root = ROOT) {
  const why = staleReason(root);
  if (why) {
    try {
      await buildCli(root);
    } catch (err) {
      // esbuild's message names the file, line and column of what it could not build.
      throw new Error(`cannot build the compiled CLI in dist/cli (${why}): ${err?.message ?? String(err)}`);
    }
  }
  return path.join(root, 'dist', 'cli', 'cli.mjs');
}

module.exports = { buildCli, staleReason, ensureBuilt, ENTRIES, OUT };

if (require.main === module) {
  const started = Date.now();
  buildCli().then(
    (m) =>
      process.stdout.write(
        `dist/cli: the compiled CLI, ${Object.keys(m.outputs).length} files from ${Object.keys(m.inputs).length} inputs in ${Date.now() - started} ms\n`,
      ),
    (err) => {
      process.stderr.write(`building the CLI failed: ${err?.message ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
