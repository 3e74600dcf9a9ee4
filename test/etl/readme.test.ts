/**
 * sql/README.md lists the fact columns the ETL leaves NULL; this keeps the list true:
 * declared columns (loader/warehouse) minus the columns the ETL's INSERTs write
 * (sql/functions/etl_*.sql, the current definition of the ETL).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tablesOf } from '../../loader/warehouse';

const root = path.resolve(__dirname, '../..');

describe('sql/README.md', () => {
  it('lists exactly the fact columns the ETL does not compute', () => {
    const dir = path.join(root, 'sql/functions');
    const sql = readdirSync(dir)
      .filter((f) => f.startsWith('etl_'))
      .map((f) => readFileSync(path.join(dir, f), 'utf8'))
      .join('\n');
    const written = new Map<string, Set<string>>();
    for (const m of sql.matchAll(/INSERT INTO (fact_\w+) \(([^)]*)\)/g)) written.set(m[1]!, new Set(m[2]!.split(',').map((c) => c.trim())));

    const readme = readFileSync(path.join(root, 'sql/README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('**Columns the ETL leaves NULL**'));
    const listed = new Map<string, string[]>();
    for (const m of section.matchAll(/^- `(fact_\w+)` \((\d+) of (\d+)\): (.+)$/gm)) listed.set(m[1]!, m[4] === 'none' ? [] : m[4]!.split(', '));

    for (const t of tablesOf('all_facts')) {
      const cols = written.get(t.name);
      expect({ table: t.name, writes: Boolean(cols) }).toEqual({ table: t.name, writes: true });
      for (const c of cols!)
        expect(
          t.columns.some((x) => x.name === c),
          `${t.name}.${c} is not a declared column`,
        ).toBe(true);
      const notComputed = t.columns.map((c) => c.name).filter((c) => !cols!.has(c));
      expect({ table: t.name, null: listed.get(t.name) }).toEqual({ table: t.name, null: notComputed });
    }
  });
});
