/**
 * The commands of exports that change, as Slack and the CLI run them: `drift` (the plan),
 * a load's drift options (`--evolve` and the policies, admins only), `schema changes` and
 * `schema diff`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeCommand, type CommandContext } from '../../loader/commands/execute';
import { describeCommand, evolveCommandFor, parseCommand, requiredRole, tablesLoaded, type Command } from '../../loader/commands/grammar';
import { renderOutcome } from '../../loader/commands/render';
import { folderSource } from '../../loader/engine';
import { generateExport } from '../../loader/generate';
import { driftExport } from '../../loader/generate/drift';
import { freshDatabase, type TestDatabase } from '../support/database';

function parsed(input: string): Command {
  const r = parseCommand(input);
  if (!r.ok) throw new Error(`${input}: ${r.error}`);
  return r.command;
}

describe('the words', () => {
  it('parse drift, schema changes, schema diff and the drift options of a load', () => {
    expect(parsed('drift')).toEqual({ kind: 'drift', target: { type: 'all' } });
    expect(parsed('drift game 18969')).toMatchObject({ kind: 'drift', target: { type: 'game' }, gameId: 18969 });
    expect(parsed('drift table fact_wowy upsert')).toMatchObject({ kind: 'drift', target: { type: 'table', table: 'fact_wowy' }, operation: 'upsert' });
    expect(parsed('schema changes fact_h2h limit 5')).toEqual({ kind: 'schema-changes', table: 'fact_h2h', limit: 5 });
    expect(parsed('schema diff')).toEqual({ kind: 'schema-diff' });
    expect(parsed('load all replace --evolve')).toMatchObject({ drift: { newColumns: 'add', misfits: 'widen', grain: 'evolve' } });
    expect(parsed('load game 18969 --new-columns ignore --misfits reject')).toMatchObject({ drift: { newColumns: 'ignore', misfits: 'reject' } });
    expect(parseCommand('load all --new-columns maybe')).toMatchObject({ ok: false, error: expect.stringContaining('new-columns policy') });
  });

  it('lets operators plan and load without changing the schema, and only admins evolve it', () => {
    expect(requiredRole(parsed('drift'))).toBe('operator');
    expect(requiredRole(parsed('load table fact_events upsert'))).toBe('operator');
    expect(requiredRole(parsed('load table fact_events upsert --new-columns ignore'))).toBe('operator');
    expect(requiredRole(parsed('load table fact_events upsert --evolve'))).toBe('admin');
    expect(requiredRole(parsed('schema diff'))).toBe('viewer');
    expect(describeCommand(parsed('load all replace --evolve'))).toBe('load of all tables (replace, --evolve)');
  });
});

describe('run', () => {
  let t: TestDatabase;
  const scratch = mkdtempSync(path.join(tmpdir(), 'bs-drift-cmd-'));
  const ctx = (dir: string): CommandContext => ({ db: t.db, initiatedBy: 'test:alice', source: async () => folderSource(dir) });
  beforeAll(async () => {
    t = await freshDatabase({ migrated: true });
    await generateExport({ games: 1, outDir: path.join(scratch, 'a'), seed: 3, workers: 0 });
    await driftExport(path.join(scratch, 'a'), path.join(scratch, 'b'), ['columns-added', 'grain']);
    const r = await executeCommand(ctx(path.join(scratch, 'a')), parsed('load all replace'));
    expect(r.ok).toBe(true);
  }, 60_000);
  afterAll(async () => {
    await t?.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('drift: the plan of every file, and that the load would be refused; nothing changes', async () => {
    const o = await executeCommand(ctx(path.join(scratch, 'b')), parsed('drift'));
    expect(o.ok).toBe(false);
    const text = renderOutcome(o);
    expect(text).toMatch(/^DRIFT PLAN for .*: 12 files of 12 differ from their tables; the load would be REFUSED \(dim_player, /);
    expect(text).toContain('fact_goalie_game_stats (replace; new columns add, misfits widen, grain refuse)');
    expect(text).toMatch(/new columns, to be added: toi_minutes \w+, playing_toi_seconds/);
    expect(text).toMatch(
      /grain changed: \d+ rows repeat the natural key \(game_id, player_1_id, player_2_id\); \(game_id, player_1_id, player_2_id, player_id\) tells them apart: REFUSED/,
    );
    const cols = await t.db.query("SELECT 1 FROM bs_table_columns('fact_goalie_game_stats') WHERE column_name = 'gaa'");
    expect(cols.rows).toEqual([]);
  });

  it('a refused load names --evolve and shows the plan; with --evolve it loads, every change recorded; schema changes and schema diff tell', async () => {
    const refused = await executeCommand(ctx(path.join(scratch, 'b')), parsed('load all replace'));
    expect(refused.ok).toBe(false);
    expect(renderOutcome(refused)).toMatch(/FAILED[\s\S]*--evolve[\s\S]*Nothing was changed\.\n\nDRIFT PLAN/);

    const done = await executeCommand(ctx(path.join(scratch, 'b')), parsed('load all replace --evolve'));
    expect(done.ok).toBe(true);
    expect(renderOutcome(done)).toMatch(/the files differ from their tables:[\s\S]*grain changed: .* now the natural key/);

    const changes = await executeCommand(ctx(''), parsed('schema changes fact_wowy'));
    expect(renderOutcome(changes)).toMatch(
      /fact_wowy: natural key \(game_id, player_1_id, player_2_id\) → \(game_id, player_1_id, player_2_id, player_id\) — by test:alice, from .*fact_wowy\.csv \(load #\d+\)/,
    );
    expect(renderOutcome(changes)).toMatch(/fact_wowy: added column player_id text/);

    const diff = await executeCommand(ctx(''), parsed('schema diff'));
    expect(renderOutcome(diff)).toContain('loader/warehouse/tables/stats-facts.ts, fact_goalie_game_stats:');
    expect(renderOutcome(diff)).toMatch(/add to its columns block \(a load added them\):\n\s+toi_minutes\s+\w+/);
    expect(renderOutcome(diff)).toContain("naturalKey: ['game_id', 'player_1_id', 'player_2_id', 'player_id'],  (a load extended it: the grain got finer)");
    expect(renderOutcome(diff)).not.toContain('A new migration');
  });

  it('schema diff of a database that matches the code says so', async () => {
    const fresh = await freshDatabase({ migrated: true });
    try {
      const o = await executeCommand({ db: fresh.db, initiatedBy: 'test' }, parsed('schema diff'));
      expect(renderOutcome(o)).toBe('the database and the declaration (loader/warehouse) agree: nothing to change');
    } finally {
      await fresh.drop();
    }
  });
});

describe("a refused drop's evolve command (its Slack button)", () => {
  it('is a load of the grammar that covers the refused tables, keeps the operation and game, and needs an admin', () => {
    const cases: [Parameters<typeof evolveCommandFor>[0], string][] = [
      [{ tables: ['fact_events'], operation: 'upsert', gameId: 18969 }, 'load table fact_events upsert game 18969 --evolve'],
      [{ tables: ['fact_events'] }, 'load table fact_events --evolve'],
      [{ tables: ['fact_events', 'fact_shifts'], operation: 'replace' }, 'load category core_facts replace --evolve'],
      [{ tables: ['dim_team', 'fact_events'], operation: 'merge' }, 'load all merge --evolve'],
    ];
    for (const [req, text] of cases) {
      expect(evolveCommandFor(req)).toBe(text);
      const c = parsed(text);
      if (c.kind !== 'load') throw new Error(text);
      for (const t of req.tables) expect(tablesLoaded(c)).toContain(t);
      expect(c.drift).toEqual({ newColumns: 'add', misfits: 'widen', grain: 'evolve' });
      expect(requiredRole(c)).toBe('admin');
    }
  });
});
