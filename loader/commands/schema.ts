/**
 * `schema changes` and `schema diff`: the schema changes loads applied (schema_changes, who,
 * when, which file), and the declaration against the database (loader/warehouse/diff.ts).
 */
import type { Queryable } from '../db/database';
import { migrationStatus } from '../db/migrate';
import { TABLE_NAMES } from '../warehouse';
import { schemaDiff, type DbTable, type RecordedChange, type SchemaDiff } from '../warehouse/diff';
import type { SchemaChangeRow } from './render-drift';

export async function schemaChanges(db: Queryable, table: string | undefined, limit: number): Promise<SchemaChangeRow[]> {
  const r = await db.query<SchemaChangeRow>(
    `SELECT id::int AS id, to_char(changed_at, 'YYYY-MM-DD HH24:MI:SS') AS changed_at, changed_by, table_name, change, column_name,
            old_type, new_type, detail, source, history_id::int AS history_id
     FROM schema_changes WHERE $1::text IS NULL OR table_name = $1 ORDER BY id DESC LIMIT $2`,
    [table ?? null, limit],
  );
  return r.rows;
}

export async function schemaDiffOf(db: Queryable): Promise<SchemaDiff> {
  const tables = await db.query<DbTable>(
    `SELECT w.table_name AS name,
            (SELECT jsonb_agg(jsonb_build_object('name', c.column_name, 'type', c.column_type,
                     'header', coalesce((SELECT x.header FROM warehouse_columns x WHERE x.table_name = w.table_name AND x.column_name = c.column_name), c.column_name))
                     ORDER BY c.col_position)
             FROM bs_table_columns(w.table_name) c) AS columns,
            coalesce(w.natural_key, w.key_columns) AS "naturalKey", w.natural_key_nullable AS "naturalKeyNullable", w.key_rule AS "keyRule",
            coalesce((SELECT jsonb_object_agg(a.alias, a.column_name) FROM warehouse_column_aliases a WHERE a.table_name = w.table_name), '{}') AS aliases,
            to_regclass('public.' || w.table_name || '_natural_key') IS NOT NULL AS "naturalKeyIndex"
     FROM warehouse_tables w WHERE w.table_name = ANY ($1::text[]) ORDER BY w.load_order`,
    [TABLE_NAMES],
  );
  const changes = await db.query<RecordedChange>(
    `SELECT table_name AS table, change, column_name AS column, new_type AS "newType",
            ARRAY(SELECT jsonb_array_elements_text(detail->'to')) AS to
     FROM schema_changes ORDER BY id`,
  );
  const next = `${String((await migrationStatus(db)).version + 1).padStart(6, '0')}_warehouse_declaration.sql`;
  return schemaDiff(tables.rows, changes.rows, next);
}
