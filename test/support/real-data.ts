/**
 * The real BenchSight export sits beside the checkout (../shared/data) on development
 * machines and in CI, never on users' machines. Tests that read it skip, saying so,
 * when it is absent.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

export const REAL_EXPORT = path.resolve(__dirname, '../../../shared/data/benchsight-2025-12-29');
export const REAL_CSV = path.join(REAL_EXPORT, 'csv');
export const REAL_TRACKER = path.join(REAL_EXPORT, 'tracker');
export const hasRealData = existsSync(REAL_CSV);

if (!hasRealData) {
  process.stderr.write(`[skip] the real BenchSight export is not at ${REAL_EXPORT}: tests that read it are skipped\n`);
}
