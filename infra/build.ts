/**
 * `npm run build [name ...]`: bundles the Lambda functions with esbuild into
 * `dist/<name>/index.js` (CommonJS, Node 20, exporting `handler`), which the stack
 * uploads. Without names it builds all of them. The migrate bundle also carries the
 * SQL it applies: `dist/migrate/sql/migrations` and `dist/migrate/sql/functions`.
 */
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import {
  BUNDLED_MIGRATIONS,
  buildStamp,
  isLambdaName,
  LAMBDA_ENTRIES,
  LAMBDA_NAMES,
  ROOT,
  stampFile,
  staticImportChain,
  type LambdaName,
  type Metafile,
} from './bundles';
import { buildUi } from '../portal/ui-build';

/** Not shipped: pg-native is pg's optional binding. */
const EXTERNAL = ['pg-native'];

/**
 * Packages that @slack/bolt loads when it starts but a Lambda never uses: it takes HTTP
 * events through AwsLambdaReceiver, never Socket Mode or an Express server. Shipping them
 * costs every cold start (their code is ~1.6 MB: undici, express, iconv-lite, mime-db) for
 * nothing, so each is replaced by a stand-in that fails, saying so, if it is ever called.
 */
export const NOT_IN_LAMBDAS: Record<string, string> = {
  '@slack/socket-mode': "Slack's Socket Mode (the Lambdas take HTTP events)",
  express: "Bolt's ExpressReceiver (the bot Lambda uses AwsLambdaReceiver)",
};

const notInLambdas: Plugin = {
  name: 'not-in-lambdas',
  setup(b) {
    const filter = new RegExp(
      `^(${Object.keys(NOT_IN_LAMBDAS)
        .map((p) => p.replace(/[/\\^$*+?.()|[\]{}-]/g, '\\$&'))
        .join('|')})$`,
    );
    b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'not-in-lambdas' }));
    b.onLoad({ filter: /.*/, namespace: 'not-in-lambdas' }, (args) => ({
      loader: 'js',
      contents: `function unavailable() { throw new Error(${JSON.stringify(`${args.path} is not in the Lambda bundles: ${NOT_IN_LAMBDAS[args.path]} (infra/build.ts)`)}); }
module.exports = new Proxy(unavailable, { get: (target, key) => (key === '__esModule' ? false : unavailable) });`,
    }));
  },
};

/** The module that runs the local embedded PostgreSQL server: never part of a Lambda. */
const EMBEDDED = 'loader/db/embedded.ts';

export class BuildError extends Error {}

/** Where the migrate bundle carries the files of sql/functions (the handler reads them there). */
const BUNDLED_FUNCTIONS = path.join('sql', 'functions');

/** The name esbuild gives the generated entry of every bundle. */
const STUB = '<stdin>';

export interface BuildOptions {
  /** The repository root: entries are read relative to it. */
  root?: string;
  /** Where `<name>/index.js` is written (default `<root>/dist`). */
  outDir?: string;
}

export interface BuiltBundle {
  name: LambdaName;
  file: string;
  bytes: number;
  /**
   * The files (relative to the root, `/`-separated) whose code is in the bundle: tree-shaken
   * away parts do not count. What the bundle's code can call is in these.
   */
  sources: string[];
}

export async function buildLambdas(names: readonly LambdaName[], opts: BuildOptions = {}): Promise<BuiltBundle[]> {
  const root = opts.root ?? ROOT;
  const outDir = opts.outDir ?? path.join(root, 'dist');
  const missing = names.filter((n) => !existsSync(path.join(root, LAMBDA_ENTRIES[n])));
  if (missing.length) {
    throw new BuildError(missing.map((n) => `cannot build the ${n} bundle: its entry ${LAMBDA_ENTRIES[n]} does not exist`).join('\n'));
  }
  const built: BuiltBundle[] = [];
  for (const name of names) {
    const dir = path.join(outDir, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'index.js');
    const entry = LAMBDA_ENTRIES[name];
    // The bundle's entry re-exports `handler`: an entry without one fails here, not on AWS.
    const result = await build({
      absWorkingDir: root,
      stdin: { contents: `export { handler } from './${entry}';`, resolveDir: root, sourcefile: STUB, loader: 'js' },
      outfile: file,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      sourcemap: true,
      sourcesContent: false,
      external: EXTERNAL,
      plugins: [notInLambdas],
      metafile: true,
      logLevel: 'silent',
    }).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      if (/No matching export .* for import "handler"/.test(message)) {
        throw new BuildError(`cannot build the ${name} bundle: ${entry} does not export handler`);
      }
      throw new BuildError(`cannot build the ${name} bundle: ${message}`);
    });
    const chain = staticImportChain(result.metafile as Metafile, STUB, EMBEDDED);
    if (chain) {
      throw new BuildError(
        `the ${name} bundle loads the embedded database, which Lambdas do not ship: ${chain.slice(1).join(' → ')}. ` +
          'Open PostgreSQL with openPostgres (loader/db/postgres.ts), not loader/db/connect.ts.',
      );
    }
    if (name === 'migrate') {
      cpSync(path.join(root, 'sql', 'migrations'), path.join(dir, BUNDLED_MIGRATIONS), { recursive: true });
      cpSync(path.join(root, 'sql', 'functions'), path.join(dir, BUNDLED_FUNCTIONS), { recursive: true });
    }
    // The Portal serves its page from the bundle: dist/portal/ui.
    if (name === 'portal') await buildUi(path.join(dir, 'ui'));
    const output = result.metafile.outputs[path.relative(root, file).split(path.sep).join('/')];
    const sources = Object.entries(output?.inputs ?? {})
      .filter(([input, o]) => o.bytesInOutput > 0 && input !== STUB)
      .map(([input]) => input)
      .sort();
    // The stamp: what the bundle was built from, so the stack can refuse a stale one.
    // Files only (not esbuild's virtual modules), and how they are built (this file).
    const inputs = Object.keys(result.metafile.inputs).filter((i) => i !== STUB && !/^[a-z-]+:/.test(i));
    if (existsSync(path.join(root, 'infra', 'build.ts'))) inputs.push('infra/build.ts');
    // folders the bundle carries besides its code: the migrate bundle's SQL, the Portal's page
    const sql = name === 'migrate' ? ['migrations', 'functions'].map((d) => `sql/${d}`) : name === 'portal' ? ['portal/ui'] : [];
    writeFileSync(stampFile(name, root, outDir), `${JSON.stringify(buildStamp(name, inputs, sql, sources, root), null, 2)}\n`);
    built.push({ name, file, bytes: output?.bytes ?? 0, sources });
  }
  return built;
}

export function parseBuildArgs(argv: string[]): LambdaName[] {
  if (argv.length === 0) return [...LAMBDA_NAMES];
  const unknown = argv.filter((a) => !isLambdaName(a));
  if (unknown.length) throw new BuildError(`unknown bundle ${unknown.join(', ')}: the bundles are ${LAMBDA_NAMES.join(', ')}`);
  return argv as LambdaName[];
}

async function main(argv: string[]): Promise<void> {
  const names = parseBuildArgs(argv);
  for (const b of await buildLambdas(names)) {
    const extra =
      b.name === 'migrate' ? ` (with ${path.join('dist', 'migrate', BUNDLED_MIGRATIONS)} and ${path.join('dist', 'migrate', BUNDLED_FUNCTIONS)})` : '';
    process.stdout.write(`${path.relative(ROOT, b.file)}  ${Math.round(b.bytes / 1024)} KiB${extra}\n`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`build failed: ${message}\n`);
    process.exit(1);
  });
}
