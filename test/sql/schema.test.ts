/**
 * sql/schema.txt, the schema snapshot, is the schema the migrations and function files
 * make — on the PostgreSQL server of the tests (15 in CI) and on the embedded
 * PostgreSQL 17 alike. A change to either that does not regenerate it fails here.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from '../../loader/db/migrate';
import { openPostgres } from '../../loader/db/postgres';
import { ensureApiRoles, schemaSnapshot, SNAPSHOT_FILE } from '../../loader/db/schema-snapshot';
import { privateServer } from '../support/embedded';
import { freshDatabase, serverUrl, type TestDatabase } from '../support/database';

const STALE = 'sql/schema.txt is not the schema the migrations and sql/functions make: run `npm run schema:snapshot` and commit sql/schema.txt';

let test: TestDatabase | undefined;
afterAll(async () => test?.drop());

describe('the schema snapshot (sql/schema.txt)', () => {
  it('is the schema a migrated database has on the server of the tests', async () => {
    // the API roles are cluster-wide: created if absent, never dropped (as test/infra/exposure.test.ts)
    const admin = new pg.Client({ connectionString: serverUrl() });
    await admin.connect();
    try {
      await ensureApiRoles(admin);
    } finally {
      await admin.end();
    }
    test = await freshDatabase();
    await migrate(test.db);
    expect(await schemaSnapshot(test.db), STALE).toBe(readFileSync(SNAPSHOT_FILE, 'utf8'));
  });

  it('is the same on the embedded PostgreSQL 17', async () => {
    const own = await privateServer();
    const db = openPostgres({ url: own.server.url });
    try {
      await ensureApiRoles(db);
      await migrate(db);
      expect(await schemaSnapshot(db), STALE).toBe(readFileSync(SNAPSHOT_FILE, 'utf8'));
    } finally {
      await db.close();
      await own.stop();
    }
  });
});
