/**
 * The stack refuses missing or stale bundles (infra/bundles.ts, bundleProblems), so the
 * tests that run the program build dist/ first when it needs it. Test files run in
 * parallel: one builds while the others wait on a lock folder, then find it fresh.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { buildLambdas } from '../../../infra/build';
import { bundleProblems, LAMBDA_NAMES, ROOT } from '../../../infra/bundles';

const LOCK = path.join(ROOT, 'dist', '.build-lock');

/** Runs `fn` while holding dist/'s lock (a folder: mkdir is atomic). A lock older than 5 minutes is taken over. */
export async function withDistLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(path.dirname(LOCK), { recursive: true });
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      if (Date.now() - started > 300_000) rmSync(LOCK, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** dist/ as `npm run build` makes it, built now only if a bundle is missing or stale. */
export async function freshBundles(): Promise<void> {
  await withDistLock(async () => {
    if (bundleProblems().length) await buildLambdas(LAMBDA_NAMES);
  });
}
