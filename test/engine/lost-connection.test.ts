/**
 * A database connection that goes away in the middle of a load (a killed backend, a
 * server restart): the load says so, and that nothing was changed, instead of blaming
 * a line of the file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderSource, load, type LoadResult } from '../../loader/engine';
import { toLoadError } from '../../loader/engine/errors';
import { freshDatabase, terminate, type TestDatabase, whenRunning } from '../support/database';
import { csvFor, folderWith, miniLeague, miniLeagueFiles } from '../support/fixtures';
import { slowSource } from './slow-source';

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  const r = await load(t.db, {
    scope: { kind: 'tables', tables: ['dim_player', 'dim_team', 'dim_schedule', 'fact_events'] },
    operation: 'replace',
    initiatedBy: 'test',
    source: folderSource(folderWith(miniLeagueFiles())),
  });
  expect(r.status).toBe('succeeded');
});
afterAll(async () => t?.drop());

const count = async () => Number((await t.db.query<{ n: string }>('SELECT count(*) AS n FROM fact_events')).rows[0]!.n);

/** Terminates the backend that runs a statement like `sqlLike`, as soon as it runs. */
async function terminateWhenRunning(sqlLike: string): Promise<void> {
  await terminate(await whenRunning(t.name, sqlLike));
}

function manyEvents(n: number): string {
  const base = miniLeague().events[0]!;
  return csvFor(
    'fact_events',
    Array.from({ length: n }, (_, i) => ({
      ...base,
      event_key: `EV1001${String(i + 10).padStart(6, '0')}`,
      event_index: `${i + 10}.0`,
      event_detail: 'x'.repeat(100),
    })),
  );
}

function expectLostConnection(r: LoadResult): void {
  expect(r.status).toBe('failed');
  const e = r.error!;
  expect(e.message).toMatch(/connection to the database was lost/);
  expect(e.message).toMatch(/nothing was changed/);
  expect(e.line, 'not a line of the file').toBeUndefined();
  expect(e.hint ?? '', 'no hint about quoting').not.toMatch(/quoting|number of commas/);
}

describe('a connection killed during a load', () => {
  // staged (upsert into a table with rows) and direct (whole-table replace), with a file
  // that arrives slowly and one read from disk at full speed
  it.each([
    ['upsert', 'COPY bs_stage_%', 'slow'],
    ['replace', 'COPY fact_events %', 'slow'],
    ['upsert', 'COPY bs_stage_%', 'fast'],
    ['replace', 'COPY fact_events %', 'fast'],
  ] as const)('%s (%s, %s file): the connection was lost, nothing was changed', async (operation, copying, speed) => {
    const before = await count();
    const csv = manyEvents(speed === 'slow' ? 2000 : 40_000);
    const source = speed === 'slow' ? slowSource('fact_events', csv, { chunkBytes: 4000, delayMs: 20 }) : folderSource(folderWith({ 'fact_events.csv': csv }));
    const running = load(t.db, { scope: { kind: 'tables', tables: ['fact_events'] }, operation, initiatedBy: 'test', source });
    await terminateWhenRunning(copying);
    const r = await running;
    expectLostConnection(r);
    expect(await count()).toBe(before);
  });
});

// What the driver and the server say when the server goes away (shapes of real errors:
// a server restart, a crash, a network drop) cannot all be made to happen on a shared
// test server; each is translated the same way.
describe('the errors of a connection that went away', () => {
  const copyWhere = { where: 'COPY bs_stage_1, line 16: "16,EV100100016,1001"' };
  it.each([
    ['a server shutdown (57P01)', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', ...copyWhere })],
    ['a server crash (57P02)', Object.assign(new Error('terminating connection because of crash of another server process'), { code: '57P02', ...copyWhere })],
    ['a connection failure (08006)', Object.assign(new Error('connection failure'), { code: '08006' })],
    ['a socket closed under the driver', new Error('Connection terminated unexpectedly')],
    ['a reset network connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
  ])('%s', (_name, err) => {
    const e = toLoadError(err, { table: 'fact_events', file: 'fact_events.csv', lineOf: (n) => n + 1 });
    expect(e.info).toEqual({
      table: 'fact_events',
      file: 'fact_events.csv',
      message: `the connection to the database was lost while loading fact_events (${err.message}): nothing was changed`,
      hint: expect.stringMatching(/rolled back.*run the command again/),
    });
  });
});
