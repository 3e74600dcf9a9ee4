/**
 * Exports that change, on the real export (../shared/data): the 2025-12-29 export loaded,
 * then the same export as a later ETL version writes it — every kind of change
 * (loader/generate/drift.ts) — loaded with each operation and scope, and checked
 * (drift-support.ts): it loads (with at most the one option its refusal names), every cell
 * lands in its column, nothing is lost, no logical row twice, absent columns follow the
 * rule, the plan said what the load did, and every schema change is recorded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_KINDS, driftExport, type DriftKind } from '../../loader/generate/drift';
import type { Operation } from '../../loader/warehouse';
import { hasRealData, REAL_CSV } from '../support/real-data';
import { checkCase, templateWith } from './drift-support';

const GAME = 18969;
/** The table each kind changes most, for the one-table case. */
const TABLE_OF: Record<DriftKind, string> = {
  'columns-added': 'fact_goalie_game_stats',
  'columns-dropped': 'fact_h2h',
  'key-dropped': 'fact_h2h',
  renamed: 'fact_wowy',
  'index-leaked': 'fact_events',
  'second-key': 'fact_goalie_game_stats',
  'key-format': 'fact_goalie_game_stats',
  grain: 'fact_wowy',
  retyped: 'fact_shifts',
};

const CASES: { operation: Operation; scope: 'all' | 'game' | 'table' }[] = [
  { operation: 'replace', scope: 'all' },
  { operation: 'upsert', scope: 'all' },
  { operation: 'merge', scope: 'game' },
  { operation: 'upsert', scope: 'table' },
];

describe.skipIf(!hasRealData)('the real export, drifted: every kind of change, each operation and scope', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'bs-drift-real-'));
  let template: Awaited<ReturnType<typeof templateWith>>;
  beforeAll(async () => {
    template = await templateWith(REAL_CSV);
    for (const kind of DRIFT_KINDS) await driftExport(REAL_CSV, path.join(scratch, kind), [kind]);
  }, 120_000);
  afterAll(async () => {
    await template?.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  for (const kind of DRIFT_KINDS) {
    for (const c of CASES) {
      it(`${kind}: ${c.scope === 'all' ? 'load all' : c.scope === 'game' ? `load game ${GAME}` : `load table ${TABLE_OF[kind]} game ${GAME}`} ${c.operation}`, async () => {
        await checkCase(template.name, path.join(scratch, kind), { kind, ...c, table: TABLE_OF[kind], gameId: GAME });
      }, 180_000);
    }
  }

  it('a later version with every kind of change at once loads with load all replace --evolve, and upsert of it on top leaves no row twice', async () => {
    const all = path.join(scratch, 'all-kinds');
    // (renamed before index-leaked: the order of the kinds is the order of the versions)
    await driftExport(REAL_CSV, all, ['columns-added', 'renamed', 'second-key', 'key-format', 'grain', 'retyped', 'index-leaked']);
    const r = await checkCase(template.name, all, { kind: 'grain', operation: 'replace', scope: 'all', gameId: GAME });
    expect(r.tables.find((t) => t.table === 'fact_wowy')!.drift!.grain?.action).toBe('evolved');
    await checkCase(template.name, all, { kind: 'grain', operation: 'upsert', scope: 'all', gameId: GAME });
  }, 300_000);
});
