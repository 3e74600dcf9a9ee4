-- The warehouse declaration as SQL reads it: the catalog tables warehouse_tables,
-- warehouse_columns and warehouse_relations (sql/migrations/000001_warehouse.sql, generated
-- from loader/warehouse/), and the columns a table has now.

-- The catalog row of warehouse table p_table; an unknown name raises, listing the tables.
-- Its natural_key is its key when the catalog names none.
CREATE OR REPLACE FUNCTION bs_check_table(p_table text) RETURNS warehouse_tables
LANGUAGE plpgsql STABLE AS
$$
DECLARE t warehouse_tables;
BEGIN
  SELECT * INTO t FROM warehouse_tables WHERE table_name = p_table;
  -- (a table the catalog gives no natural key is known by its key)
  t.natural_key := coalesce(t.natural_key, t.key_columns);
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '42P01',
      MESSAGE = format('unknown table %s', quote_literal(coalesce(p_table, 'NULL'))),
      HINT = 'tables are: ' || (SELECT string_agg(table_name, ', ' ORDER BY load_order) FROM warehouse_tables);
  END IF;
  RETURN t;
END
$$;

-- The table that holds warehouse table p_table's rows for this transaction: its shadow
-- when a replace of this transaction loads one (bs_shadow.<table>: an uncommitted shadow
-- is seen by its own transaction only, shadow.sql), else public.<table>. As text, it is
-- the name to use in a statement (schema-qualified when not on the search_path).
CREATE OR REPLACE FUNCTION bs_table_rel(p_table text) RETURNS regclass
LANGUAGE sql STABLE AS
$$
  SELECT coalesce(to_regclass('bs_shadow.' || quote_ident(p_table)), to_regclass('public.' || quote_ident(p_table)))
$$;

-- Columns of a warehouse table as they are now (a table may have gained columns).
CREATE OR REPLACE FUNCTION bs_table_columns(p_table text)
RETURNS TABLE (column_name text, column_type text, not_null boolean, col_position integer)
LANGUAGE sql STABLE AS
$$
  SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attnum::integer
  FROM pg_attribute a
  WHERE a.attrelid = bs_table_rel(p_table) AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY a.attnum
$$;
