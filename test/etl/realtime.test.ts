/** The migration adds the fact tables to Supabase's realtime publication, where there is one. */
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../loader/db/migrate';
import { tablesOf } from '../../loader/warehouse';
import { freshDatabase, type TestDatabase } from '../support/database';

let t: TestDatabase | undefined;
afterEach(async () => {
  await t?.drop();
  t = undefined;
});

const published = async (db: TestDatabase) =>
  (await db.db.query<{ tablename: string }>("SELECT tablename FROM pg_publication_tables WHERE pubname = 'supabase_realtime' ORDER BY 1")).rows.map(
    (r) => r.tablename,
  );

describe('supabase_realtime', () => {
  it('publishes the 9 fact tables when the publication exists (as on Supabase)', async () => {
    t = await freshDatabase();
    await t.db.query('CREATE PUBLICATION supabase_realtime');
    await migrate(t.db);
    expect(await published(t)).toEqual(
      tablesOf('all_facts')
        .map((x) => x.name)
        .sort(),
    );
  });

  it('does nothing where there is no such publication', async () => {
    t = await freshDatabase({ migrated: true });
    const r = await t.db.query("SELECT count(*)::int AS n FROM pg_publication WHERE pubname = 'supabase_realtime'");
    expect(r.rows[0]).toEqual({ n: 0 });
  });
});
