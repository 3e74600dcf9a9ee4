/**
 * Exports that change, on a generated export (always runs: no real data needed): a small
 * synthetic league loaded, then every kind of drift of it (loader/generate/drift.ts) loaded
 * with each operation and scope, and checked as the real export's are (drift-support.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateExport } from '../../loader/generate';
import { DRIFT_KINDS, driftExport } from '../../loader/generate/drift';
import type { Operation } from '../../loader/warehouse';
import { checkCase, templateWith } from './drift-support';

const GAME = 50001;
const CASES: { operation: Operation; scope: 'all' | 'game' | 'table'; table: string }[] = [
  { operation: 'replace', scope: 'all', table: '' },
  { operation: 'upsert', scope: 'all', table: '' },
  { operation: 'merge', scope: 'game', table: '' },
  { operation: 'merge', scope: 'table', table: 'fact_wowy' },
];

describe('a generated export, drifted: every kind of change, each operation and scope', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'bs-drift-gen-'));
  const base = path.join(scratch, 'base');
  let template: Awaited<ReturnType<typeof templateWith>>;
  beforeAll(async () => {
    await generateExport({ games: 1, outDir: base, seed: 15, dirty: true, workers: 0 });
    template = await templateWith(base);
    for (const kind of DRIFT_KINDS) await driftExport(base, path.join(scratch, kind), [kind]);
  }, 120_000);
  afterAll(async () => {
    await template?.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  for (const kind of DRIFT_KINDS) {
    for (const c of CASES) {
      it(`${kind}: ${c.scope === 'all' ? 'load all' : c.scope === 'game' ? `load game ${GAME}` : `load table ${c.table} game ${GAME}`} ${c.operation}`, async () => {
        await checkCase(template.name, path.join(scratch, kind), { kind, ...c, gameId: GAME });
      }, 120_000);
    }
  }

  it('goalie stats with another key format, upserted: the same goalie in the same game stays one row and takes the new key', async () => {
    const r = await checkCase(template.name, path.join(scratch, 'key-format'), {
      kind: 'key-format',
      operation: 'upsert',
      scope: 'table',
      table: 'fact_goalie_game_stats',
      gameId: GAME,
    });
    const g = r.tables[0]!;
    expect(g).toMatchObject({ inserted: 0, rejected: 0 });
    expect(g.updated).toBeGreaterThan(0);
    expect(g.drift!.rekeyed!.examples[0]!.to).toMatch(/^GGK50001_P\d+$/);
  }, 120_000);
});
