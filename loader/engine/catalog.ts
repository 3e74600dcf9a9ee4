/**
 * What a load reads of the database's catalog before it reads a file: each table's columns
 * as they are now (a table may have gained or widened columns), its key, natural key, key
 * rule and column aliases (sql/migrations/000014_exports_that_change.sql). The database is the
 * truth here, not the code: a load that evolved a table left its record there.
 */
import type { Queryable } from '../db/database';
import type { TableColumn } from './header';

export interface TableCatalog {
  table: string;
  columns: TableColumn[];
  key: string;
  naturalKey: string[];
  keyRule: string | null;
  /** alias (a column name, by the header rule) → the column it means */
  aliases: Record<string, string>;
  gameColumn: string | null;
}

export async function readCatalog(tx: Queryable, tables: string[]): Promise<Map<string, TableCatalog>> {
  const r = await tx.query<{
    table_name: string;
    key: string;
    natural_key: string[];
    key_rule: string | null;
    game_column: string | null;
    aliases: Record<string, string> | null;
    columns: TableColumn[];
  }>(
    `SELECT w.table_name, w.key_columns[1] AS key, coalesce(w.natural_key, w.key_columns) AS natural_key, w.key_rule, w.game_column,
            (SELECT jsonb_object_agg(a.alias, a.column_name) FROM warehouse_column_aliases a WHERE a.table_name = w.table_name) AS aliases,
            (SELECT jsonb_agg(jsonb_build_object('column_name', c.column_name, 'column_type', c.column_type, 'not_null', c.not_null) ORDER BY c.col_position)
             FROM bs_table_columns(w.table_name) c) AS columns
     FROM warehouse_tables w WHERE w.table_name = ANY ($1::text[])`,
    [tables],
  );
  return new Map(
    r.rows.map((x) => [
      x.table_name,
      {
        table: x.table_name,
        columns: x.columns ?? [],
        key: x.key,
        naturalKey: x.natural_key,
        keyRule: x.key_rule,
        aliases: x.aliases ?? {},
        gameColumn: x.game_column,
      },
    ]),
  );
}
