/**
 * The Lambda bundles: which source file each function is built from (one map, one
 * place), where `npm run build` writes it and where the stack reads it from.
 */
import { existsSync } from 'node:fs';
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

/** The bundles `npm run build` has not produced (yet). */
export function missingBundles(root = ROOT): LambdaName[] {
  return LAMBDA_NAMES.filter((n) => !existsSync(bundleFile(n, root)));
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
