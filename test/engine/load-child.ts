/**
 * A loader process a test can kill: loads `fact_events` (replace) from a file that
 * arrives slowly, against DATABASE_URL, and prints its request id once it runs.
 * Usage: node --import tsx test/engine/load-child.ts
 */
import { openPostgres } from '../../loader/db/postgres';
import { load } from '../../loader/engine';
import { csvFor, miniLeague } from '../support/fixtures';
import { slowSource } from './slow-source';

const db = openPostgres({ url: process.env.DATABASE_URL! });
const base = miniLeague().events[0]!;
const rows = Array.from({ length: 5000 }, (_, i) => ({ ...base, event_key: `EV1001${String(i + 10).padStart(5, '0')}`, event_index: `${i + 10}.0` }));
void load(db, {
  scope: { kind: 'tables', tables: ['fact_events'] },
  operation: 'replace',
  initiatedBy: 'test:child',
  source: slowSource('fact_events', csvFor('fact_events', rows), { chunkBytes: 500, delayMs: 50 }),
  onProgress: (p) => process.stdout.write(`${p.phase}\n`),
});
