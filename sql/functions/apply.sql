-- Applying an operation to a warehouse table from a file's staged rows (bs_apply), and
-- emptying a scope (bs_delete_scope). Every entry point applies files with bs_apply: the
-- engine (loader/engine/load.ts) from its typed staging tables, load_table (api.sql)
-- from the text landing tables. sql/README.md, "How a file is applied", tells the rules.
--
-- How it runs at the speed of COPY (measured in bench/README.md):
-- * the stage may be typed: the engine COPYs files into staging tables with the table's
--   types (values normalized on the way, loader/engine/values.ts). A staged column whose
--   type is the table's is used as it is; a text column (landing tables, columns being
--   added) is cast with bs_cast_expr (casts.sql). p_options.normalized says the stage's
--   empty text is NULL already.
-- * upsert and merge do not use INSERT ... ON CONFLICT (a speculative insertion per row).
--   Into a table with rows, one hash join first lists the staged rows that would change
--   something (_bs_work: a new key, or a value that differs); only those are checked for
--   orphans, updated (by key) or inserted. A row identical to the stored one is counted
--   unchanged and never rejected: nothing of it is written. Into an empty table, every
--   row is inserted. Same-table requests are serialised by bs_lock (locks.sql).
-- * the passes the engine's reader made unnecessary are skipped (p_options.file_rows,
--   keys_missing, keys_unique: it counted the rows and saw every key go up).
-- * a big insert into an empty table runs without the table's indexes and builds them
--   after (bs_indexes_park / bs_indexes_restore, indexes.sql).

-- Applies `p_operation` to warehouse table `p_table` from the staged rows of `p_stage`:
-- a table of columns named like the table's columns, plus `_line` (the CSV line where
-- the row starts). Scope: the whole table, or the rows of game `p_game_id` (staged rows
-- of other games are counted as out of scope and left alone).
--   replace  delete the scope, insert the file's rows
--   append   insert; a key that already exists fails the request
--   upsert   insert, or update the row with the same key (unchanged rows are left alone)
--   merge    upsert, and delete rows of the scope whose key is not in the file
-- Duplicate keys within the file (the first occurrence wins) and rows whose relations
-- point nowhere go to load_rejects with their reason, or fail the request when
-- p_options says {"duplicates": "fail"} / {"orphans": "fail"}.
-- p_options also carries request_id, history_id and source for the rejects.
-- Returns the counts as JSON. Raises with DETAIL = JSON {line, column, value} on bad values.
CREATE OR REPLACE FUNCTION bs_apply(p_table text, p_operation text, p_game_id integer, p_stage regclass, p_options jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE plpgsql AS
$$
DECLARE
  t warehouse_tables := bs_check_table(p_table);
  v_stage_cols text[];
  v_stage_types text[];
  v_exprs jsonb := '{}';        -- column → the expression of its staged value
  v_normalized boolean := coalesce((p_options->>'normalized')::boolean, false);
  v_target_empty boolean;
  v_insert_filter text := 'true';
  v_sets text;
  v_parked integer;
  v_work text := 'true';        -- staged rows that would change something (upsert, merge)
  v_cols text[] := '{}';        -- staged columns that the table has, in table order
  v_missing text[] := '{}';     -- nullable table columns the file lacks
  v_casts text[] := '{}';
  v_key text := t.key_columns[1];
  -- the key and the relation columns: pandas' missing-value words are no value there
  v_key_cols text[] := t.key_columns[1] || ARRAY(SELECT r.column_name FROM warehouse_relations r WHERE r.table_name = p_table);
  v_key_type text;
  v_key_expr text;
  v_game_expr text;
  v_scope text := 'true';       -- staged rows in scope
  v_target_scope text := 'true';
  v_expr text;
  v_col record;
  v_rows bigint;
  v_total bigint;
  v_in_scope bigint;
  v_rejected bigint := 0;
  v_by_reason jsonb := '{}';
  v_inserted bigint := 0;
  v_updated bigint := 0;
  v_deleted bigint := 0;
  v_not_rejected text := 'true';
  v_warnings jsonb := '[]';
  v_bad record;
  v_dup_policy text := coalesce(p_options->>'duplicates', 'reject');
  v_orphan_policy text := coalesce(p_options->>'orphans', 'reject');
BEGIN
  IF p_operation IS NULL OR p_operation NOT IN ('replace', 'append', 'upsert', 'merge') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('unknown operation %s', quote_literal(coalesce(p_operation, 'NULL'))),
      HINT = 'operations are: replace, append, upsert, merge';
  END IF;
  IF p_game_id IS NOT NULL AND t.game_column IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('%s has no game column: it cannot be loaded for one game', p_table);
  END IF;
  IF array_length(t.key_columns, 1) <> 1 THEN
    RAISE EXCEPTION 'bs_apply supports one-column keys only (%)', p_table;
  END IF;

  SELECT array_agg(a.attname::text ORDER BY a.attnum), array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
  INTO v_stage_cols, v_stage_types
  FROM pg_attribute a WHERE a.attrelid = p_stage AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> '_line';

  FOR v_col IN SELECT * FROM bs_table_columns(p_table) LOOP
    IF v_col.column_name = ANY (v_stage_cols) THEN
      v_cols := v_cols || v_col.column_name;
      v_expr := CASE
        WHEN v_stage_types[array_position(v_stage_cols, v_col.column_name)] = v_col.column_type
             AND (v_col.column_type <> 'text' OR v_normalized)
        THEN format('s.%I', v_col.column_name)
        WHEN v_col.column_type = 'text' AND v_col.column_name = ANY (v_key_cols)
        THEN format('bs_key_text(s.%I)', v_col.column_name)
        ELSE bs_cast_expr(format('s.%I', v_col.column_name), v_col.column_type) END;
      v_casts := v_casts || v_expr;
      v_exprs := v_exprs || jsonb_build_object(v_col.column_name, v_expr);
      IF v_col.column_name = v_key THEN v_key_type := v_col.column_type; END IF;
    ELSIF v_col.not_null THEN
      RAISE EXCEPTION USING ERRCODE = '23502',
        MESSAGE = format('the file has no column %s, which %s needs (it may not be empty)', v_col.column_name, p_table);
    ELSE
      v_missing := v_missing || v_col.column_name;
    END IF;
  END LOOP;
  IF array_length(v_cols, 1) IS DISTINCT FROM array_length(v_stage_cols, 1) THEN
    RAISE EXCEPTION USING ERRCODE = '42703',
      MESSAGE = format('%s has no column(s) %s', p_table,
        (SELECT string_agg(c, ', ') FROM unnest(v_stage_cols) c WHERE c <> ALL (v_cols)));
  END IF;
  IF array_length(v_missing, 1) > 0 THEN
    v_warnings := v_warnings || to_jsonb(format('the file has no column(s) %s: new rows get NULL there, existing rows keep their values',
      array_to_string(v_missing, ', ')));
  END IF;

  v_key_expr := coalesce(v_exprs->>v_key, bs_cast_expr(format('s.%I', v_key), v_key_type));
  IF p_game_id IS NOT NULL THEN
    v_game_expr := coalesce(v_exprs->>t.game_column, bs_cast_expr(format('s.%I', t.game_column),
      (SELECT column_type FROM bs_table_columns(p_table) WHERE column_name = t.game_column)));
    v_scope := format('%s = %s', v_game_expr, p_game_id);
    v_target_scope := format('t.%I = %s', t.game_column, p_game_id);
  END IF;

  -- Every statement that casts staged values runs in this block, so that a value that
  -- does not fit its column is reported with its line, column and value.
  BEGIN
  -- The engine's reader may already know the row count and that no key repeats (its
  -- keys only went up); then the passes that would find that out are skipped.
  IF p_game_id IS NULL AND p_options ? 'file_rows' AND p_options ? 'keys_missing' THEN
    v_total := (p_options->>'file_rows')::bigint;
    v_in_scope := v_total;
    v_rows := (p_options->>'keys_missing')::bigint;
  ELSE
    EXECUTE format('SELECT count(*), count(*) FILTER (WHERE %s), count(*) FILTER (WHERE %s AND %s IS NULL) FROM %s s',
      v_scope, v_scope, v_key_expr, p_stage) INTO v_total, v_in_scope, v_rows;
  END IF;

  -- Rows to reject, one per line with its first reason (rejects.sql).
  PERFORM bs_rejects_start();

  -- Missing keys, then duplicate keys (the first occurrence of a key wins).
  IF v_rows > 0 THEN
    EXECUTE format($q$
      INSERT INTO _bs_reject_list (_line, reason, column_name)
      SELECT s._line, 'missing_key', %L FROM %s s WHERE %s AND %s IS NULL$q$,
      v_key, p_stage, v_scope, v_key_expr);
  END IF;
  IF coalesce((p_options->>'keys_unique')::boolean, false) THEN
    v_rows := 0;
  ELSE
    EXECUTE format($q$
      WITH dup AS (SELECT %1$s AS k FROM %2$s s WHERE %3$s GROUP BY 1 HAVING count(*) > 1)
      INSERT INTO _bs_reject_list (_line, reason, column_name, value, first_line)
      SELECT x._line, 'duplicate_key', %4$L, x.k::text, x.first_line
      FROM (SELECT s._line, %1$s AS k, min(s._line) OVER (PARTITION BY %1$s) AS first_line
            FROM %2$s s WHERE %3$s AND %1$s IN (SELECT k FROM dup)) x
      WHERE x._line > x.first_line
      ON CONFLICT DO NOTHING$q$, v_key_expr, p_stage, v_scope, v_key);
    GET DIAGNOSTICS v_rows = ROW_COUNT;
  END IF;
  IF v_rows > 0 AND v_dup_policy = 'fail' THEN
    PERFORM bs_reject_raise('duplicate_key');
  END IF;

  -- Upsert and merge into a table that has rows: first find the rows of the file that
  -- would change something (a new key, or a value that differs: one hash join). Rows
  -- identical to the stored ones end there: not checked again, not written, counted
  -- unchanged. Loading the same export twice costs one comparison per row.
  v_target_empty := true;
  IF p_operation IN ('upsert', 'merge') THEN
    EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %I)', p_table) INTO v_target_empty;
    IF NOT v_target_empty THEN
      SELECT string_agg(format('%I = %s', c, v_exprs->>c), ', ') INTO v_sets FROM unnest(v_cols) c WHERE c <> v_key;
      IF to_regclass('pg_temp._bs_work') IS NULL THEN
        CREATE TEMP TABLE _bs_work (_line bigint NOT NULL, is_new boolean NOT NULL) ON COMMIT DROP;
      ELSE
        TRUNCATE _bs_work;
      END IF;
      EXECUTE format($q$
        INSERT INTO _bs_work
        SELECT s._line, t.%1$I IS NULL FROM %2$s s LEFT JOIN %3$I t ON t.%1$I = %4$s
        WHERE %5$s AND %4$s IS NOT NULL AND NOT EXISTS (SELECT 1 FROM _bs_reject_list r WHERE r._line = s._line)
          AND (t.%1$I IS NULL OR %6$s)$q$,
        v_key, p_stage, p_table, v_key_expr, v_scope,
        CASE WHEN v_sets IS NULL THEN 'false' ELSE format('(%s) IS DISTINCT FROM (%s)',
          (SELECT string_agg(format('t.%I', c), ', ') FROM unnest(v_cols) c WHERE c <> v_key),
          (SELECT string_agg(v_exprs->>c, ', ') FROM unnest(v_cols) c WHERE c <> v_key)) END);
      v_work := 'EXISTS (SELECT 1 FROM _bs_work w WHERE w._line = s._line)';
    END IF;
  END IF;

  -- Relations that point nowhere (rejects.sql): one pass over the staged rows.
  v_rows := bs_reject_orphans(p_table, p_stage::text, '_line', format('%s AND %s', v_scope, v_work), v_exprs);
  IF v_rows > 0 AND v_orphan_policy = 'fail' THEN
    PERFORM bs_reject_raise('orphan');
  END IF;

  SELECT * INTO v_rejected, v_by_reason FROM bs_rejects_record(p_table, p_stage::text, '_line', p_options);
  IF v_rejected > 0 THEN
    v_not_rejected := 'NOT EXISTS (SELECT 1 FROM _bs_reject_list r WHERE r._line = s._line)';
  END IF;

  -- The operation.
    IF p_operation = 'replace' THEN
      -- The caller may have emptied the scope already (multi-table requests delete
      -- children before parents, see bs_delete_scope).
      IF NOT coalesce((p_options->>'scope_deleted')::boolean, false) THEN
        v_deleted := bs_delete_scope(p_table, p_game_id);
      END IF;
    ELSIF p_operation = 'append' THEN
      EXECUTE format($q$SELECT s._line, %1$s::text AS k FROM %2$s s JOIN %3$I t ON t.%4$I = %1$s WHERE %5$s AND %6$s ORDER BY s._line LIMIT 1$q$,
        v_key_expr, p_stage, p_table, v_key, v_scope, v_not_rejected) INTO v_bad;
      IF v_bad._line IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '23505',
          MESSAGE = format('append: key %s on line %s is already in %s', v_bad.k, v_bad._line, p_table),
          DETAIL = json_build_object('line', v_bad._line, 'column', v_key, 'value', v_bad.k)::text,
          HINT = 'use upsert to update existing rows, or replace to reload the scope';
      END IF;
    ELSIF p_operation = 'merge' THEN
      EXECUTE format('DELETE FROM %I t WHERE %s AND NOT EXISTS (SELECT 1 FROM %s s WHERE %s AND %s = t.%I)',
        p_table, v_target_scope, p_stage, v_scope, v_key_expr, v_key);
      GET DIAGNOSTICS v_deleted = ROW_COUNT;
    END IF;

    IF p_operation IN ('upsert', 'merge') AND NOT v_target_empty THEN
      -- Rows whose key exists and whose values differ: updated.
      IF v_sets IS NOT NULL THEN
        EXECUTE format('UPDATE %I AS t SET %s FROM %s s JOIN _bs_work w ON w._line = s._line AND NOT w.is_new WHERE t.%I = %s AND %s',
          p_table, v_sets, p_stage, v_key, v_key_expr, v_not_rejected);
        GET DIAGNOSTICS v_updated = ROW_COUNT;
      END IF;
      v_insert_filter := 'EXISTS (SELECT 1 FROM _bs_work w WHERE w._line = s._line AND w.is_new)';
    END IF;

    -- Many rows for an empty table (a first load, a whole-table replace): without its
    -- indexes, built again after (bs_indexes_park). Whole-table requests only: they
    -- hold the table's lock alone, so the table stays empty until the insert.
    v_parked := 0;
    IF p_game_id IS NULL AND v_in_scope - v_rejected >= 5000 AND p_operation <> 'append' THEN
      -- (upsert and merge looked before listing the rows that change; replace just
      -- emptied the table, unless a caller with scope_deleted did it for us)
      IF p_operation = 'replace' THEN
        EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %I)', p_table) INTO v_target_empty;
      END IF;
      IF v_target_empty THEN
        v_parked := bs_indexes_park(p_table);
      END IF;
    END IF;

    -- Rows whose key does not exist yet: inserted.
    EXECUTE format('INSERT INTO %I (%s) SELECT %s FROM %s s WHERE %s AND %s AND %s',
      p_table,
      (SELECT string_agg(quote_ident(c), ', ') FROM unnest(v_cols) c),
      array_to_string(v_casts, ', '),
      p_stage, v_scope, v_not_rejected, v_insert_filter);
    GET DIAGNOSTICS v_inserted = ROW_COUNT;
    IF v_parked > 0 THEN
      PERFORM bs_indexes_restore(p_table);
    END IF;
  EXCEPTION
    WHEN invalid_text_representation OR numeric_value_out_of_range OR invalid_datetime_format
      OR datetime_field_overflow OR string_data_right_truncation OR invalid_parameter_value THEN
      -- Search every staged row: the culprit may be the game column the scope filters on.
      PERFORM bs_raise_bad_value(p_table, p_stage, 'true', SQLERRM);
  END;

  RETURN jsonb_build_object(
    'table', p_table, 'operation', p_operation, 'game_id', p_game_id,
    'rows_in_file', v_total, 'out_of_scope', v_total - v_in_scope,
    'inserted', v_inserted, 'updated', v_updated, 'deleted', v_deleted,
    'unchanged', GREATEST(v_in_scope - v_rejected - v_inserted - v_updated, 0),
    'rejected', v_rejected, 'rejected_by_reason', v_by_reason,
    'warnings', v_warnings);
END
$$;

-- Deletes the rows of a warehouse table in scope: the whole table, or one game's rows.
-- A whole table over 1 MB is emptied with TRUNCATE where the caller may (a loader role
-- granted TRUNCATE; the owner): no per-row delete, and no dead rows for the reload to
-- step over (a DELETE leaves the old keys in the indexes, and every insert of the same key
-- visits them). A smaller table is DELETEd: TRUNCATE makes new files, a few milliseconds
-- each. TRUNCATE locks the table against readers until the request commits, as a full
-- reload should; the count comes first.
CREATE OR REPLACE FUNCTION bs_delete_scope(p_table text, p_game_id integer DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS
$$
DECLARE
  t warehouse_tables := bs_check_table(p_table);
  n bigint;
BEGIN
  IF p_game_id IS NULL THEN
    IF pg_relation_size(format('public.%I', p_table)::regclass) > 1048576
       AND has_table_privilege(format('public.%I', p_table), 'TRUNCATE')
       -- (a foreign key someone added would refuse TRUNCATE: then DELETE, as before)
       AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE confrelid = format('public.%I', p_table)::regclass AND contype = 'f') THEN
      EXECUTE format('SELECT count(*) FROM %I', p_table) INTO n;
      EXECUTE format('TRUNCATE %I', p_table);
      RETURN n;
    END IF;
    EXECUTE format('DELETE FROM %I', p_table);
  ELSIF t.game_column IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('%s has no game column: it cannot be scoped to one game', p_table);
  ELSE
    EXECUTE format('DELETE FROM %I WHERE %I = $1', p_table, t.game_column) USING p_game_id;
  END IF;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
