-- The load engine's SQL: value casts as the ETL writes values, the operation applied
-- from a staged file (bs_apply), locks, relation checks, and the functions of the
-- design notes (load_table, load_category, delete_game) on top of the same code.
-- bs_is_missing, bs_int_text, bs_int, bs_bigint, bs_numeric, bs_boolean, bs_timestamp, bs_date, bs_time, bs_cast_expr, bs_castable, bs_raise_bad_value: the current definition is in sql/functions/casts.sql
-- bs_check_table, bs_table_columns: the current definition is in sql/functions/catalog.sql
-- bs_lock: the current definition is in sql/functions/locks.sql
-- bs_apply, bs_delete_scope: the current definition is in sql/functions/apply.sql
-- bs_infer_type, bs_add_columns: the current definition is in sql/functions/columns.sql

-- ── The functions of the design notes ─────────────────────────────────────────
-- For loading through SQL alone: put a file's rows in the landing table of the same
-- name (`\copy landing.fact_events (...) FROM 'fact_events.csv' CSV HEADER`; every
-- landing column is text, `_line` numbers the rows), then call load_table. It applies
-- the operation with the same code as every other entry point (bs_apply), records
-- the load in load_history, empties the landing table, and returns JSON.
CREATE SCHEMA landing;
COMMENT ON SCHEMA landing IS 'BenchSight Ops: text tables that take a file''s rows before load_table applies them';

DO $$
DECLARE t record;
BEGIN
  FOR t IN SELECT table_name FROM warehouse_tables ORDER BY load_order LOOP
    EXECUTE format('CREATE SEQUENCE landing.%I', t.table_name || '_line_seq');
    EXECUTE format('CREATE TABLE landing.%I (_line bigint NOT NULL DEFAULT nextval(%L), %s)',
      t.table_name, 'landing.' || t.table_name || '_line_seq',
      (SELECT string_agg(format('%I text', column_name), ', ' ORDER BY position) FROM warehouse_columns c WHERE c.table_name = t.table_name));
  END LOOP;
END
$$;
-- load_table, load_category, delete_game, check_relations: the current definition is in sql/functions/api.sql
