/**
 * A load runs the data-quality rules over what it wrote, inside its transaction: the
 * findings come back with the result and are committed with the request's history row.
 * Rules that cannot run leave a warning; they never undo the load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderSource, load } from '../../loader/engine';
import { generateExport } from '../../loader/generate';
import { validate } from '../../loader/quality';
import { freshDatabase, type TestDatabase } from '../support/database';

let t: TestDatabase;
let dir: string;

beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  dir = mkdtempSync(path.join(tmpdir(), 'benchsight-quality-'));
  await generateExport({ games: 3, outDir: dir, seed: 11 });
}, 120_000);

afterAll(async () => {
  await t?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function historyOf(id: number): Promise<{ status: string; warnings: { messages?: string[]; findings?: { errors: number; warnings: number } } }> {
  return (await t.db.query<{ status: string; warnings: never }>('SELECT status, warnings FROM load_history WHERE id = $1', [id])).rows[0]!;
}

describe('the data-quality rules of a load', () => {
  it('come back with the result and are recorded with the request, as the rules see the committed data', async () => {
    const r = await load(t.db, { scope: { kind: 'all' }, operation: 'replace', source: folderSource(dir), initiatedBy: 'test' });
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    // the same findings as running the rules now, over the committed tables
    const now = await validate(t.db);
    expect(now.length).toBeGreaterThan(0);
    const errors = now.filter((f) => f.severity === 'ERROR').length;
    expect(r.findings).toMatchObject({ errors, warnings: now.length - errors });
    const h = await historyOf(r.historyId);
    expect(h.status).toBe('succeeded');
    expect(h.warnings.findings).toMatchObject({ errors, warnings: now.length - errors });
  });

  it('that cannot run leave a warning, and the load stands, partial', async () => {
    await t.db.query('ALTER FUNCTION quality_findings(integer[]) RENAME TO quality_findings_away');
    try {
      const r = await load(t.db, { scope: { kind: 'tables', tables: ['fact_events'] }, operation: 'replace', source: folderSource(dir), initiatedBy: 'test' });
      expect(r.status, JSON.stringify(r.error)).toBe('partial');
      expect(r.findings).toBeUndefined();
      expect(r.warnings.some((w) => w.startsWith('the data-quality rules could not run'))).toBe(true);
      expect(r.tables[0]!.inserted).toBeGreaterThan(0);
      const n = await t.db.query<{ n: string }>('SELECT count(*) AS n FROM fact_events');
      expect(Number(n.rows[0]!.n)).toBe(r.tables[0]!.inserted);
      const h = await historyOf(r.historyId);
      expect(h.status).toBe('partial');
      expect(h.warnings.messages!.some((w) => w.startsWith('the data-quality rules could not run'))).toBe(true);
    } finally {
      await t.db.query('ALTER FUNCTION quality_findings_away(integer[]) RENAME TO quality_findings');
    }
  });
});
