/**
 * The Lambda bundles: which source file each function is built from (one map, one
 * place), where `npm run build` writes it and where the stack reads it from.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');

export const LAMBDA_ENTRIES = {
  loader: 'loader/entry/loader-lambda.ts',
  worker: 'loader/entry/worker-lambda.ts',
  bot: 'loader/entry/bot-lambda.ts',
  migrate: 'loader/entry/migrate-lambda.ts',
  portal: 'loader/entry/portal-lambda.ts',
} as const;

export type LambdaName = keyof typeof LAMBDA_ENTRIES;
export const LAMBDA_NAMES = Object.keys(LAMBDA_ENTRIES) as LambdaName[];

export function isLambdaName(name: string): name is LambdaName {
  return Object.hasOwn(LAMBDA_ENTRIES, name);
}

/** `dist/<name>`: the folder the stack uploads as the function's code. */
export function bundleDir(name: LambdaName, root = ROOT): string {
  return path.join(root, 'dist', name);
}

/** The bundle's file; the functions' handler is `index.handler`. */
export function bundleFile(name: LambdaName, root = ROOT): string {
  return path.join(bundleDir(name, root), 'index.js');
}

/** Where the migrate bundle carries the migration files (the handler reads them there). */
export const BUNDLED_MIGRATIONS = path.join('sql', 'migrations');

export class StaleBundleError extends Error {}

/**
 * `dist/<name>.build.json`, beside the bundle's folder (not in it: it is not uploaded):
 * every file the bundle was built from with the hash of its content, and the SQL folders
 * the migrate bundle carries. The stack compares it with the files as they are now.
 */
export function stampFile(name: LambdaName, root = ROOT, outDir = path.join(root, 'dist')): string {
  return path.join(outDir, `${name}.build.json`);
}

export interface BuildStamp {
  bundle: LambdaName;
  entry: string;
  /** root-relative path → sha256 of its content */
  files: Record<string, string>;
  /** root-relative folder → sha256 of its file names and contents */
  folders: Record<string, string>;
  /** The files whose code is in the bundle (tree-shaken parts left out): what its code can call. */
  sources: string[];
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function fileHash(root: string, file: string): string | undefined {
  const full = path.join(root, file);
  return existsSync(full) ? sha256(readFileSync(full)) : undefined;
}

function folderHash(root: string, folder: string): string | undefined {
  const full = path.join(root, folder);
  if (!existsSync(full)) return undefined;
  const h = createHash('sha256');
  for (const f of readdirSync(full).sort())
    h.update(f)
      .update('\0')
      .update(readFileSync(path.join(full, f)))
      .update('\0');
  return h.digest('hex');
}

export function buildStamp(name: LambdaName, inputs: string[], folders: string[], sources: string[], root = ROOT): BuildStamp {
  return {
    bundle: name,
    entry: LAMBDA_ENTRIES[name],
    files: Object.fromEntries([...inputs].sort().map((f) => [f, fileHash(root, f) ?? ''])),
    folders: Object.fromEntries(folders.map((f) => [f, folderHash(root, f) ?? ''])),
    sources,
  };
}

/** The stamp `npm run build` left for bundle `name`, if any. */
export function readStamp(name: LambdaName, root = ROOT): BuildStamp | undefined {
  const file = stampFile(name, root);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as BuildStamp) : undefined;
}

/**
 * What is wrong with the bundles the stack would upload: missing, built by an older
 * `npm run build` (no stamp), or built from files that have changed since. Each message
 * names the bundle and the first files that changed, and says what to run.
 */
export function bundleProblems(root = ROOT, names: readonly LambdaName[] = LAMBDA_NAMES): string[] {
  const out: string[] = [];
  for (const name of names) {
    const where = `dist/${name}`;
    if (!existsSync(bundleFile(name, root))) {
      out.push(`${where}/index.js is missing: run \`npm run build\` before \`pulumi up\``);
      continue;
    }
    const stamp = readStamp(name, root);
    if (!stamp) {
      out.push(`${where} has no build stamp (dist/${name}.build.json): it was built by an older \`npm run build\`; run \`npm run build\` again`);
      continue;
    }
    const changed: string[] = [];
    if (stamp.entry !== LAMBDA_ENTRIES[name]) changed.push(`its entry is now ${LAMBDA_ENTRIES[name]} (built from ${stamp.entry})`);
    for (const [f, hash] of Object.entries(stamp.files)) if (fileHash(root, f) !== hash) changed.push(f);
    for (const [f, hash] of Object.entries(stamp.folders)) if (folderHash(root, f) !== hash) changed.push(`${f}/`);
    if (changed.length) {
      const shown = changed.slice(0, 5).join(', ') + (changed.length > 5 ? ` and ${changed.length - 5} more` : '');
      out.push(`${where} is stale: ${shown} changed since it was built; run \`npm run build\` before \`pulumi up\``);
    }
  }
  return out;
}

/** The part of esbuild's metafile this module reads. */
export interface Metafile {
  inputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;
}

/**
 * The chain of files through which `entry` loads `pkg` when the bundle starts (static
 * imports and requires; a dynamic `import()` is lazy and does not count), or null.
 * Used to keep the embedded database server (loader/db/embedded.ts) out of the Lambdas: it is not shipped.
 */
export function staticImportChain(meta: Metafile, entry: string, pkg: string): string[] | null {
  const seen = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  while (queue.length) {
    const file = queue.shift()!;
    const chain = seen.get(file)!;
    for (const imp of meta.inputs[file]?.imports ?? []) {
      if (imp.kind === 'dynamic-import') continue;
      if (imp.path === pkg || imp.path.startsWith(`${pkg}/`)) return [...chain, imp.path];
      if (imp.external || seen.has(imp.path) || !meta.inputs[imp.path]) continue;
      seen.set(imp.path, [...chain, imp.path]);
      queue.push(imp.path);
    }
  }
  return null;
}
