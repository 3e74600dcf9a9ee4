/**
 * All-or-nothing under failure, and one-after-the-other on the same table while
 * different tables load in parallel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderSource, load, type LoadResult } from '../../loader/engine';
import { freshDatabase, terminate, type TestDatabase, whenRunning } from '../support/database';
import { csvFor, folderWith, miniLeague, miniLeagueFiles } from '../support/fixtures';
import { slowSource } from './slow-source';

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  const r = await load(t.db, {
    scope: { kind: 'tables', tables: ['dim_player', 'dim_team', 'dim_schedule', 'fact_events', 'fact_events_player'] },
    operation: 'replace',
    initiatedBy: 'test',
    source: folderSource(folderWith(miniLeagueFiles())),
  });
  expect(r.status).toBe('succeeded');
});
afterAll(async () => t?.drop());

async function snapshot(): Promise<string> {
  const r = await t.db.query<{ s: string }>(`SELECT concat_ws('|',
    (SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM dim_player x),
    (SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM dim_team x),
    (SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM fact_events x)) AS s`);
  return r.rows[0]!.s;
}

function bigEvents(n: number): string {
  const m = miniLeague();
  const base = m.events[0]!;
  return csvFor(
    'fact_events',
    Array.from({ length: n }, (_, i) => ({ ...base, event_key: `EV1001${String(i + 10).padStart(5, '0')}`, event_index: `${i + 10}.0` })),
  );
}

describe('a killed connection', () => {
  // replace COPYs into the emptied table itself; upsert into a staging table
  it.each([
    ['replace', 'COPY fact_events %'],
    ['upsert', 'COPY bs_stage_%'],
  ] as const)('in the middle of a %s leaves every table as it was and the history row failed', async (operation, copying) => {
    const before = await snapshot();
    const running = load(t.db, {
      scope: { kind: 'tables', tables: ['fact_events'] },
      operation,
      initiatedBy: 'test',
      source: slowSource('fact_events', bigEvents(2000), { chunkBytes: 2000, delayMs: 20 }),
    });
    await terminate(await whenRunning(t.name, copying));
    const r = await running;
    expect(r.status).toBe('failed');
    expect(r.error!.message).toMatch(/terminat|connection/i);
    expect(await snapshot()).toBe(before);
    const h = await t.db.query<{ status: string; kind: string }>('SELECT status, kind FROM load_history WHERE request_id = $1 ORDER BY id', [r.requestId]);
    expect(h.rows).toEqual([
      { status: 'failed', kind: 'request' },
      { status: 'failed', kind: 'table' },
    ]);
    // The pool recovers: the next load works.
    const again = await load(t.db, {
      scope: { kind: 'tables', tables: ['dim_team'] },
      operation: 'upsert',
      initiatedBy: 'test',
      source: folderSource(folderWith(miniLeagueFiles())),
    });
    expect(again.status).toBe('succeeded');
  });
});

describe('concurrency', () => {
  it('requests on the same table run one after the other', async () => {
    const m = miniLeague();
    const done: string[] = [];
    const slow = load(t.db, {
      scope: { kind: 'tables', tables: ['dim_team'] },
      operation: 'upsert',
      initiatedBy: 'slow',
      source: slowSource(
        'dim_team',
        csvFor(
          'dim_team',
          m.teams.map((x) => ({ ...x, league: 'SLOW' })),
        ),
        { chunkBytes: 20, delayMs: 25 },
      ),
    }).then((r) => (done.push('slow'), r));
    await whenRunning(t.name, 'COPY bs_stage_%');
    const fast = load(t.db, {
      scope: { kind: 'tables', tables: ['dim_team'] },
      operation: 'upsert',
      initiatedBy: 'fast',
      source: folderSource(
        folderWith({
          'dim_team.csv': csvFor(
            'dim_team',
            m.teams.map((x) => ({ ...x, league: 'FAST' })),
          ),
        }),
      ),
    }).then((r) => (done.push('fast'), r));
    const [a, b] = await Promise.all([slow, fast]);
    expect([a.status, b.status]).toEqual(['succeeded', 'succeeded']);
    expect(done).toEqual(['slow', 'fast']);
    const leagues = await t.db.query<{ league: string }>('SELECT DISTINCT league FROM dim_team');
    expect(leagues.rows).toEqual([{ league: 'FAST' }]);
  });

  it('requests on different tables run in parallel', async () => {
    const m = miniLeague();
    const done: string[] = [];
    const slow = load(t.db, {
      scope: { kind: 'tables', tables: ['dim_player'] },
      operation: 'upsert',
      initiatedBy: 'slow',
      source: slowSource('dim_player', csvFor('dim_player', m.players), { chunkBytes: 30, delayMs: 25 }),
    }).then((r) => (done.push('dim_player'), r));
    await whenRunning(t.name, 'COPY bs_stage_%');
    const other: LoadResult = await load(t.db, {
      scope: { kind: 'tables', tables: ['dim_team'] },
      operation: 'upsert',
      initiatedBy: 'fast',
      source: folderSource(folderWith(miniLeagueFiles())),
    });
    done.push('dim_team');
    expect(other.status).toBe('succeeded');
    expect((await slow).status).toBe('succeeded');
    expect(done).toEqual(['dim_team', 'dim_player']);
  });
});
