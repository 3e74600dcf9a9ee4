-- The functions of the design notes, for loading through SQL alone: load_table,
-- load_category, delete_game (each returns JSON), and check_relations. Put a file's rows
-- in the landing table of the same name (`\copy landing.fact_events (...) FROM
-- 'fact_events.csv' CSV HEADER`; every landing column is text, `_line` numbers the rows:
-- sql/migrations/000003_loading.sql makes them), then call load_table. It applies the
-- operation with the same code as every other entry point (bs_apply, apply.sql), records
-- the load in load_history and which games' rows it brought (bs_record_provenance), empties the landing table, and returns JSON. A failure raises:
-- the caller's transaction rolls back, history row included.

CREATE OR REPLACE FUNCTION load_table(p_table_name text, p_operation text DEFAULT 'upsert', p_game_id integer DEFAULT NULL)
RETURNS json
LANGUAGE plpgsql AS
$$
DECLARE
  t warehouse_tables;
  v_started timestamptz := clock_timestamp();
  v_request uuid := md5(random()::text || clock_timestamp()::text)::uuid;
  v_history bigint;
  v_result jsonb;
  v_stage regclass;
BEGIN
  BEGIN
    t := bs_check_table(p_table_name);
  EXCEPTION WHEN undefined_table THEN
    RETURN json_build_object('success', false, 'error', 'Invalid table name', 'table', p_table_name);
  END;
  IF p_operation IS NULL OR p_operation NOT IN ('replace', 'append', 'upsert', 'merge') THEN
    RETURN json_build_object('success', false, 'error', 'Invalid operation', 'operation', p_operation);
  END IF;
  PERFORM bs_lock(ARRAY[t.table_name], p_game_id);
  v_stage := format('landing.%I', t.table_name)::regclass;
  INSERT INTO load_history (request_id, kind, table_name, scope, operation, game_id, source, initiated_by, started_at)
  VALUES (v_request, 'table', t.table_name, 'sql', p_operation, p_game_id, v_stage::text, coalesce(current_setting('benchsight.initiated_by', true), session_user), v_started)
  RETURNING id INTO v_history;
  v_result := bs_apply(t.table_name, p_operation, p_game_id,  v_stage,
    jsonb_build_object('request_id', v_request, 'history_id', v_history, 'source', v_stage::text));
  -- the games whose rows it brought are the full ETL's (provenance.sql), as the engine records
  PERFORM bs_record_provenance(t.table_name, p_game_id, 'full', v_request, v_stage);
  EXECUTE format('DELETE FROM landing.%I', t.table_name);
  -- (a whole-table replace loaded the table's shadow: it takes the table's place now, shadow.sql)
  PERFORM bs_shadow_swap();
  UPDATE load_history SET status = 'succeeded', completed_at = clock_timestamp(),
    duration_ms = (extract(epoch FROM clock_timestamp() - v_started) * 1000)::integer,
    rows_in_file = (v_result->>'rows_in_file')::bigint, rows_inserted = (v_result->>'inserted')::bigint,
    rows_updated = (v_result->>'updated')::bigint, rows_deleted = (v_result->>'deleted')::bigint,
    rows_unchanged = (v_result->>'unchanged')::bigint, rows_rejected = (v_result->>'rejected')::bigint,
    rows_affected = (v_result->>'inserted')::bigint + (v_result->>'updated')::bigint + (v_result->>'deleted')::bigint,
    rejected_by_reason = v_result->'rejected_by_reason', warnings = v_result->'warnings'
  WHERE id = v_history;
  RETURN (jsonb_build_object('success', true, 'table', t.table_name, 'operation', p_operation, 'game_id', p_game_id,
    'history_id', v_history, 'rows_affected', (v_result->>'inserted')::bigint + (v_result->>'updated')::bigint + (v_result->>'deleted')::bigint,
    'duration_ms', extract(epoch FROM clock_timestamp() - v_started) * 1000) || v_result)::json;
END
$$;

-- Every table of a category (or all, all_facts), in load order, as one request.
CREATE OR REPLACE FUNCTION load_category(p_category text, p_operation text DEFAULT 'upsert', p_game_id integer DEFAULT NULL)
RETURNS json
LANGUAGE plpgsql AS
$$
DECLARE
  v_tables text[];
  v_table text;
  v_results json[] := '{}';
BEGIN
  SELECT array_agg(table_name ORDER BY load_order) INTO v_tables FROM warehouse_tables
  WHERE CASE p_category WHEN 'all' THEN true WHEN 'all_facts' THEN category <> 'dims' ELSE category = p_category END
    AND (p_game_id IS NULL OR game_column IS NOT NULL);
  IF v_tables IS NULL THEN
    RETURN json_build_object('success', false, 'error', 'Invalid category', 'category', p_category);
  END IF;
  PERFORM bs_lock(v_tables, p_game_id);
  FOREACH v_table IN ARRAY v_tables LOOP
    v_results := v_results || load_table(v_table, p_operation, p_game_id);
  END LOOP;
  RETURN json_build_object('success', true, 'category', p_category, 'tables_processed', array_length(v_tables, 1), 'results', v_results);
END
$$;

-- Deletes one game's rows from every fact table, children before parents.
CREATE OR REPLACE FUNCTION delete_game(p_game_id integer)
RETURNS json
LANGUAGE plpgsql AS
$$
DECLARE
  v_tables text[];
  v_table text;
  v_rows bigint;
  v_total bigint := 0;
  v_per_table jsonb := '{}';
BEGIN
  IF p_game_id IS NULL THEN
    RETURN json_build_object('success', false, 'error', 'a game id is required');
  END IF;
  SELECT array_agg(table_name ORDER BY load_order DESC) INTO v_tables FROM warehouse_tables
  WHERE category <> 'dims' AND game_column IS NOT NULL;
  PERFORM bs_lock(v_tables, p_game_id);
  FOREACH v_table IN ARRAY v_tables LOOP
    v_rows := bs_delete_scope(v_table, p_game_id);
    v_per_table := v_per_table || jsonb_build_object(v_table, v_rows);
    v_total := v_total + v_rows;
  END LOOP;
  RETURN json_build_object('success', true, 'game_id', p_game_id, 'total_rows_deleted', v_total, 'rows_deleted', v_per_table);
END
$$;

-- Rows whose declared relations point nowhere, per relation (optionally for one game).
CREATE OR REPLACE FUNCTION check_relations(p_game_id integer DEFAULT NULL)
RETURNS TABLE (table_name text, column_name text, parent_table text, orphan_rows bigint, example text)
LANGUAGE plpgsql STABLE AS
$$
DECLARE r record; t warehouse_tables;
BEGIN
  FOR r IN SELECT * FROM warehouse_relations ORDER BY 1, 2 LOOP
    t := bs_check_table(r.table_name);
    table_name := r.table_name; column_name := r.column_name; parent_table := r.parent_table;
    EXECUTE format('SELECT count(*), min(c.%1$I::text) FROM %2$I c WHERE c.%1$I IS NOT NULL AND %5$s AND NOT EXISTS (SELECT 1 FROM %3$I p WHERE p.%4$I = c.%1$I)',
      r.column_name, r.table_name, r.parent_table, r.parent_column,
      CASE WHEN p_game_id IS NULL OR t.game_column IS NULL THEN 'true' ELSE format('c.%I = %s', t.game_column, p_game_id) END)
      INTO orphan_rows, example;
    IF orphan_rows > 0 THEN RETURN NEXT; END IF;
  END LOOP;
END
$$;
