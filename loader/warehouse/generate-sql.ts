/**
 * Writes the warehouse migration from the declaration. Applied migrations are never
 * edited (their checksums are checked), so this writes a new file only when asked:
 *   npm run schema:generate -- sql/migrations/000001_warehouse.sql
 */
import { writeFileSync } from 'node:fs';
import { warehouseSchemaSql } from './schema-sql';

const target = process.argv[2];
if (!target) {
  process.stdout.write(warehouseSchemaSql());
} else {
  writeFileSync(target, warehouseSchemaSql());
  process.stderr.write(`wrote ${target}\n`);
}
