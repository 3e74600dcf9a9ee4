-- The load engine's SQL: value casts as the ETL writes values, the operation applied
-- from a staged file (bs_apply), locks, relation checks, and the functions of the
-- design notes (load_table, load_category, delete_game) on top of the same code.

-- ── Casts ─────────────────────────────────────────────────────────────────────
-- Empty cells, and the missing-value spellings pandas has produced (nan, NaN, None),
-- are NULL in every non-text column. Integers may carry a `.0` fraction (pandas writes
-- 1730.0); any other fraction fails the cast instead of being rounded.
CREATE FUNCTION bs_is_missing(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT v IS NULL OR v = '' OR v IN ('nan', 'NaN', 'None', 'null', 'NULL') $$;

-- `1730.0` → 1730, `1730` → 1730, `1.5` → error. This runs for every integer cell of
-- every file, so the common shapes come first and cost no string building: pandas'
-- `.0` is cut off; anything else goes to int4in, which refuses every fraction.
CREATE FUNCTION bs_int_text(v text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN strpos(v, '.') = 0 THEN v
               WHEN rtrim(substr(v, strpos(v, '.') + 1), '0') = '' THEN left(v, strpos(v, '.') - 1)
               ELSE v END $$;

CREATE FUNCTION bs_int(v text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN v IS NULL OR v = '' THEN NULL
               WHEN v LIKE '%.0' THEN left(v, -2)::integer
               WHEN v IN ('nan', 'NaN', 'None', 'null', 'NULL') THEN NULL
               ELSE bs_int_text(v)::integer END $$;

CREATE FUNCTION bs_bigint(v text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN v IS NULL OR v = '' THEN NULL
               WHEN v LIKE '%.0' THEN left(v, -2)::bigint
               WHEN v IN ('nan', 'NaN', 'None', 'null', 'NULL') THEN NULL
               ELSE bs_int_text(v)::bigint END $$;

CREATE FUNCTION bs_numeric(v text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN bs_is_missing(v) THEN NULL ELSE v::numeric END $$;

CREATE FUNCTION bs_boolean(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN bs_is_missing(v) THEN NULL ELSE bs_int_text(v)::boolean END $$;

-- Only ISO dates are accepted: `01/02/2024` means different days to different people.
-- A value that is not ISO is cast with a marker so that the cast fails and names it.
CREATE FUNCTION bs_timestamp(v text) RETURNS timestamp
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN bs_is_missing(v) THEN NULL
               WHEN btrim(v) ~ '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$' THEN btrim(v)::timestamp
               ELSE ('not an ISO timestamp: ' || v)::timestamp END $$;

-- A date column takes `2024-09-15` or `2024-09-15 00:00:00`, never a time of day it would drop.
CREATE FUNCTION bs_date(v text) RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN bs_is_missing(v) THEN NULL
               WHEN btrim(v) ~ '^\d{4}-\d{2}-\d{2}([ T]00:00(:00(\.0+)?)?)?$' THEN left(btrim(v), 10)::date
               ELSE ('not an ISO date: ' || v)::date END $$;

CREATE FUNCTION bs_time(v text) RETURNS time
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN bs_is_missing(v) THEN NULL
               WHEN btrim(v) ~ '^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$' THEN btrim(v)::time
               ELSE ('not a time of day: ' || v)::time END $$;

-- The SQL expression that casts staged text `expr` to a column of type `typ`.
CREATE FUNCTION bs_cast_expr(expr text, typ text) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE typ
     WHEN 'integer' THEN format('bs_int(%s)', expr)
     WHEN 'bigint' THEN format('bs_bigint(%s)', expr)
     WHEN 'smallint' THEN format('bs_int(%s)::smallint', expr)
     WHEN 'numeric' THEN format('bs_numeric(%s)', expr)
     WHEN 'double precision' THEN format('bs_numeric(%s)::double precision', expr)
     WHEN 'boolean' THEN format('bs_boolean(%s)', expr)
     WHEN 'timestamp without time zone' THEN format('bs_timestamp(%s)', expr)
     WHEN 'date' THEN format('bs_date(%s)', expr)
     WHEN 'time without time zone' THEN format('bs_time(%s)', expr)
     WHEN 'text' THEN format('NULLIF(%s, %L)', expr, '')
     ELSE format('NULLIF(%s, %L)::%s', expr, '', typ)
   END $$;

-- True when `v` casts to `typ`: used only to find the culprit after a failed load.
CREATE FUNCTION bs_castable(v text, typ text) RETURNS boolean
LANGUAGE plpgsql STABLE AS
$$
BEGIN
  EXECUTE format('SELECT %s', bs_cast_expr('$1', typ)) USING v;
  RETURN true;
EXCEPTION WHEN OTHERS THEN
  RETURN false;
END
$$;

-- ── Catalog helpers ──────────────────────────────────────────────────────────
CREATE FUNCTION bs_check_table(p_table text) RETURNS warehouse_tables
LANGUAGE plpgsql STABLE AS
$$
DECLARE t warehouse_tables;
BEGIN
  SELECT * INTO t FROM warehouse_tables WHERE table_name = p_table;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '42P01',
      MESSAGE = format('unknown table %s', quote_literal(coalesce(p_table, 'NULL'))),
      HINT = 'tables are: ' || (SELECT string_agg(table_name, ', ' ORDER BY load_order) FROM warehouse_tables);
  END IF;
  RETURN t;
END
$$;

-- Columns of a warehouse table as they are now (a table may have gained columns).
CREATE FUNCTION bs_table_columns(p_table text)
RETURNS TABLE (column_name text, column_type text, not_null boolean, col_position integer)
LANGUAGE sql STABLE AS
$$
  SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attnum::integer
  FROM pg_attribute a
  WHERE a.attrelid = to_regclass('public.' || quote_ident(p_table)) AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY a.attnum
$$;

-- ── Locks ────────────────────────────────────────────────────────────────────
-- Requests on the same table (or the same table and game) run one after the other;
-- requests on different tables run in parallel. A whole-table request locks its table
-- exclusively; a game request shares the table lock and locks (table, game); tables
-- whose rows a request checks relations against are locked shared. All locks are
-- transaction-level (safe behind a transaction-mode pooler) and taken in one global
-- order, so two requests can never deadlock on them.
CREATE FUNCTION bs_lock(p_tables text[], p_game_id integer DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS
$$
DECLARE r record;
BEGIN
  FOR r IN
    WITH wanted AS (
      SELECT hashtextextended('benchsight:' || t, 0) AS k, CASE WHEN p_game_id IS NULL THEN 2 ELSE 1 END AS mode
      FROM unnest(p_tables) t
      UNION ALL
      SELECT hashtextextended('benchsight:' || t || ':' || p_game_id, 0), 2
      FROM unnest(p_tables) t WHERE p_game_id IS NOT NULL
      UNION ALL
      SELECT hashtextextended('benchsight:' || rel.parent_table, 0), 1
      FROM warehouse_relations rel WHERE rel.table_name = ANY (p_tables) AND rel.parent_table <> ALL (p_tables)
    )
    SELECT k, max(mode) AS mode FROM wanted GROUP BY k ORDER BY k
  LOOP
    IF r.mode = 2 THEN PERFORM pg_advisory_xact_lock(r.k); ELSE PERFORM pg_advisory_xact_lock_shared(r.k); END IF;
  END LOOP;
END
$$;

-- Finds the first staged value that does not fit its column after a failed cast, and
-- raises an error naming its line, column and value (DETAIL is JSON for programs).
CREATE FUNCTION bs_raise_bad_value(p_table text, p_stage regclass, p_scope text, p_error text) RETURNS void
LANGUAGE plpgsql AS
$$
DECLARE
  v_value text := regexp_replace(substring(p_error from '"(.*)"'), '^not an? [A-Za-z ]+: ', '');
  v_col record;
  v_hit record;
  v_line bigint;
  v_bad_value text;
  v_bad_col text;
  v_bad_type text;
  v_kind text;
BEGIN
  FOR pass IN 1..2 LOOP
    FOR v_col IN
      SELECT c.column_name, c.column_type FROM bs_table_columns(p_table) c
      JOIN pg_attribute a ON a.attrelid = p_stage AND a.attname = c.column_name AND NOT a.attisdropped
      WHERE c.column_type <> 'text' ORDER BY c.col_position
    LOOP
      IF pass = 1 AND v_value IS NULL THEN CONTINUE; END IF;
      EXECUTE format('SELECT s._line AS line, s.%1$I AS value FROM %2$s s WHERE %3$s AND %4$s AND NOT bs_castable(s.%1$I, %5$L) ORDER BY s._line LIMIT 1',
        v_col.column_name, p_stage, p_scope,
        CASE WHEN pass = 1 THEN format('btrim(s.%I) = %L', v_col.column_name, v_value) ELSE 'true' END,
        v_col.column_type) INTO v_hit;
      IF v_hit.line IS NOT NULL AND (v_line IS NULL OR v_hit.line < v_line) THEN
        v_line := v_hit.line; v_bad_value := v_hit.value; v_bad_col := v_col.column_name; v_bad_type := v_col.column_type;
      END IF;
    END LOOP;
    EXIT WHEN v_line IS NOT NULL;
  END LOOP;
  IF v_line IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22P02', MESSAGE = p_error;
  END IF;
  v_kind := CASE v_bad_type
    WHEN 'integer' THEN 'a whole number' WHEN 'bigint' THEN 'a whole number' WHEN 'smallint' THEN 'a whole number'
    WHEN 'numeric' THEN 'a number' WHEN 'boolean' THEN 'true or false'
    WHEN 'timestamp without time zone' THEN 'a date and time (YYYY-MM-DD HH:MM:SS)'
    WHEN 'date' THEN 'a date (YYYY-MM-DD)' WHEN 'time without time zone' THEN 'a time of day (HH:MM:SS)'
    ELSE v_bad_type END;
  RAISE EXCEPTION USING ERRCODE = '22P02',
    MESSAGE = format('line %s, column %s: %s is not %s', v_line, v_bad_col,
      quote_literal(left(v_bad_value, 200)) || CASE WHEN length(v_bad_value) > 200 THEN format('… (%s characters)', length(v_bad_value)) ELSE '' END, v_kind),
    DETAIL = json_build_object('line', v_line, 'column', v_bad_col, 'value', left(v_bad_value, 1000), 'type', v_bad_type)::text;
END
$$;

-- ── Apply ────────────────────────────────────────────────────────────────────
-- Applies `p_operation` to warehouse table `p_table` from the staged rows of `p_stage`:
-- a table of text columns named like the table's columns, plus `_line` (the CSV line
-- where the row starts). Scope: the whole table, or the rows of game `p_game_id`
-- (staged rows of other games are counted as out of scope and left alone).
--   replace  delete the scope, insert the file's rows
--   append   insert; a key that already exists fails the request
--   upsert   insert, or update the row with the same key (unchanged rows are left alone)
--   merge    upsert, and delete rows of the scope whose key is not in the file
-- Duplicate keys within the file (the first occurrence wins) and rows whose relations
-- point nowhere go to load_rejects with their reason, or fail the request when
-- p_options says {"duplicates": "fail"} / {"orphans": "fail"}.
-- p_options also carries request_id, history_id and source for the rejects.
-- Returns the counts as JSON. Raises with DETAIL = JSON {line, column, value} on bad values.
CREATE FUNCTION bs_apply(p_table text, p_operation text, p_game_id integer, p_stage regclass, p_options jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE plpgsql AS
$$
DECLARE
  t warehouse_tables := bs_check_table(p_table);
  v_stage_cols text[];
  v_cols text[] := '{}';        -- staged columns that the table has, in table order
  v_missing text[] := '{}';     -- nullable table columns the file lacks
  v_casts text[] := '{}';
  v_key text := t.key_columns[1];
  v_key_type text;
  v_key_expr text;
  v_game_expr text;
  v_scope text := 'true';       -- staged rows in scope
  v_target_scope text := 'true';
  v_rel record;
  i integer;
  v_joins text;
  v_conds text[];
  v_reasons text[];
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
  v_sql text;
  v_bad record;
  v_dup_policy text := coalesce(p_options->>'duplicates', 'reject');
  v_orphan_policy text := coalesce(p_options->>'orphans', 'reject');
  v_request uuid := coalesce((p_options->>'request_id')::uuid, '00000000-0000-0000-0000-000000000000');
  v_history bigint := (p_options->>'history_id')::bigint;
  v_source text := p_options->>'source';
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

  SELECT array_agg(a.attname::text ORDER BY a.attnum) INTO v_stage_cols
  FROM pg_attribute a WHERE a.attrelid = p_stage AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> '_line';

  FOR v_col IN SELECT * FROM bs_table_columns(p_table) LOOP
    IF v_col.column_name = ANY (v_stage_cols) THEN
      v_cols := v_cols || v_col.column_name;
      v_casts := v_casts || bs_cast_expr(format('s.%I', v_col.column_name), v_col.column_type);
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

  v_key_expr := bs_cast_expr(format('s.%I', v_key), v_key_type);
  IF p_game_id IS NOT NULL THEN
    v_game_expr := bs_cast_expr(format('s.%I', t.game_column),
      (SELECT column_type FROM bs_table_columns(p_table) WHERE column_name = t.game_column));
    v_scope := format('%s = %s', v_game_expr, p_game_id);
    v_target_scope := format('t.%I = %s', t.game_column, p_game_id);
  END IF;

  -- Every statement that casts staged values runs in this block, so that a value that
  -- does not fit its column is reported with its line, column and value.
  BEGIN
  EXECUTE format('SELECT count(*), count(*) FILTER (WHERE %s), count(*) FILTER (WHERE %s AND %s IS NULL) FROM %s s',
    v_scope, v_scope, v_key_expr, p_stage) INTO v_total, v_in_scope, v_rows;

  -- Rows to reject, one per line with its first reason.
  IF to_regclass('pg_temp._bs_rejects') IS NULL THEN
    CREATE TEMP TABLE _bs_rejects (_line bigint PRIMARY KEY, reason text, detail text, row_key text) ON COMMIT DROP;
  ELSE
    TRUNCATE _bs_rejects;
  END IF;

  -- Missing keys, then duplicate keys (the first occurrence of a key wins).
  IF v_rows > 0 THEN
  EXECUTE format($q$
    INSERT INTO _bs_rejects
    SELECT s._line, 'missing_key', format('no value in key column %%s', %L), NULL FROM %s s WHERE %s AND %s IS NULL$q$,
    v_key, p_stage, v_scope, v_key_expr);
  END IF;
  EXECUTE format($q$
    WITH dup AS (SELECT %1$s AS k FROM %2$s s WHERE %3$s GROUP BY 1 HAVING count(*) > 1)
    INSERT INTO _bs_rejects
    SELECT x._line, 'duplicate_key', format('key %%s appears again (first on line %%s)', x.k, x.first_line), x.k::text
    FROM (SELECT s._line, %1$s AS k, min(s._line) OVER (PARTITION BY %1$s) AS first_line
          FROM %2$s s WHERE %3$s AND %1$s IN (SELECT k FROM dup)) x
    WHERE x._line > x.first_line
    ON CONFLICT (_line) DO NOTHING$q$, v_key_expr, p_stage, v_scope);
  GET DIAGNOSTICS v_rows = ROW_COUNT;
  IF v_rows > 0 AND v_dup_policy = 'fail' THEN
    SELECT * INTO v_bad FROM _bs_rejects WHERE reason = 'duplicate_key' ORDER BY _line LIMIT 1;
    RAISE EXCEPTION USING ERRCODE = '23505', MESSAGE = format('duplicate key on line %s: %s', v_bad._line, v_bad.detail),
      DETAIL = json_build_object('line', v_bad._line, 'column', v_key, 'value', v_bad.row_key)::text;
  END IF;

  -- Relations that point nowhere: one pass over the staged rows, a hash join per relation.
  v_joins := ''; v_conds := '{}'; v_reasons := '{}'; i := 0;
  FOR v_rel IN
    SELECT r.column_name, r.parent_table, r.parent_column, c.column_type
    FROM warehouse_relations r JOIN bs_table_columns(p_table) c ON c.column_name = r.column_name
    WHERE r.table_name = p_table AND r.column_name = ANY (v_cols) ORDER BY r.column_name
  LOOP
    i := i + 1;
    v_expr := bs_cast_expr(format('s.%I', v_rel.column_name), v_rel.column_type);
    v_joins := v_joins || format(' LEFT JOIN %I p%s ON p%s.%I = %s', v_rel.parent_table, i, i, v_rel.parent_column, v_expr);
    v_conds := v_conds || format('(%s IS NOT NULL AND p%s.%I IS NULL)', v_expr, i, v_rel.parent_column);
    v_reasons := v_reasons || format('CASE WHEN %s IS NOT NULL AND p%s.%I IS NULL THEN format(%L, %s) END',
      v_expr, i, v_rel.parent_column,
      format('%s %%s is not in %s.%s', v_rel.column_name, v_rel.parent_table, v_rel.parent_column), v_expr);
  END LOOP;
  IF i > 0 THEN
    EXECUTE format($q$
      INSERT INTO _bs_rejects
      SELECT s._line, 'orphan', array_to_string(ARRAY[%s], '; '), NULL
      FROM %s s %s
      WHERE %s AND (%s)
      ON CONFLICT (_line) DO NOTHING$q$,
      array_to_string(v_reasons, ', '), p_stage, v_joins, v_scope, array_to_string(v_conds, ' OR '));
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    IF v_rows > 0 AND v_orphan_policy = 'fail' THEN
      SELECT * INTO v_bad FROM _bs_rejects WHERE reason = 'orphan' ORDER BY _line LIMIT 1;
      RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('line %s: %s', v_bad._line, v_bad.detail),
        DETAIL = json_build_object('line', v_bad._line, 'column', split_part(v_bad.detail, ' ', 1),
                                   'value', split_part(split_part(v_bad.detail, ' is not in', 1), ' ', 2))::text,
        HINT = 'load the rows it points to first, or let orphans go to the rejects (the default)';
    END IF;
  END IF;

  SELECT coalesce(sum(n), 0), coalesce(jsonb_object_agg(reason, n), '{}') INTO v_rejected, v_by_reason
  FROM (SELECT reason, count(*) AS n FROM _bs_rejects GROUP BY reason) x;
  v_rejected := coalesce(v_rejected, 0);
  IF v_rejected > 0 THEN
    v_not_rejected := 'NOT EXISTS (SELECT 1 FROM _bs_rejects r WHERE r._line = s._line)';
    EXECUTE format($q$
      INSERT INTO load_rejects (history_id, request_id, table_name, source, line, reason, detail, row_key, row_data)
      SELECT %L, %L, %L, %L, r._line, r.reason, r.detail, r.row_key, to_jsonb(s) - '_line'
      FROM _bs_rejects r JOIN %s s ON s._line = r._line$q$, v_history, v_request, p_table, v_source, p_stage);
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

    v_sql := format('INSERT INTO %I AS t (%s) SELECT %s FROM %s s WHERE %s AND %s',
      p_table,
      (SELECT string_agg(quote_ident(c), ', ') FROM unnest(v_cols) c),
      array_to_string(v_casts, ', '),
      p_stage, v_scope, v_not_rejected);
    IF p_operation IN ('upsert', 'merge') THEN
      v_sql := v_sql || format(' ON CONFLICT (%I) DO UPDATE SET %s WHERE (%s) IS DISTINCT FROM (%s)',
        v_key,
        (SELECT string_agg(format('%I = EXCLUDED.%I', c, c), ', ') FROM unnest(v_cols) c WHERE c <> v_key),
        (SELECT string_agg(format('t.%I', c), ', ') FROM unnest(v_cols) c WHERE c <> v_key),
        (SELECT string_agg(format('EXCLUDED.%I', c), ', ') FROM unnest(v_cols) c WHERE c <> v_key));
      EXECUTE format('WITH w AS (%s RETURNING (xmax = 0) AS ins) SELECT count(*) FILTER (WHERE ins), count(*) FILTER (WHERE NOT ins) FROM w', v_sql)
        INTO v_inserted, v_updated;
    ELSE
      EXECUTE v_sql;
      GET DIAGNOSTICS v_inserted = ROW_COUNT;
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
CREATE FUNCTION bs_delete_scope(p_table text, p_game_id integer DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS
$$
DECLARE
  t warehouse_tables := bs_check_table(p_table);
  n bigint;
BEGIN
  IF p_game_id IS NULL THEN
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

-- The type a new column gets from its staged values: the narrowest that holds them all.
CREATE FUNCTION bs_infer_type(p_stage regclass, p_column text) RETURNS text
LANGUAGE plpgsql AS
$$
DECLARE r record;
BEGIN
  EXECUTE format($q$
    SELECT count(*) AS n,
      count(*) FILTER (WHERE btrim(v) ~ '^-?\d+(\.0*)?$') AS ints,
      count(*) FILTER (WHERE btrim(v) ~ '^-?\d+(\.0*)?$' AND length(split_part(btrim(v), '.', 1)) > 9) AS bigs,
      count(*) FILTER (WHERE btrim(v) ~ '^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$') AS nums,
      count(*) FILTER (WHERE lower(btrim(v)) IN ('true', 'false', 't', 'f')) AS bools,
      count(*) FILTER (WHERE btrim(v) ~ '^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$') AS stamps
    FROM (SELECT %I AS v FROM %s) s WHERE NOT bs_is_missing(v)$q$, p_column, p_stage) INTO r;
  RETURN CASE
    WHEN r.n = 0 THEN 'text'
    WHEN r.ints = r.n AND r.bigs = 0 THEN 'integer'
    WHEN r.ints = r.n THEN 'bigint'
    WHEN r.nums = r.n THEN 'numeric'
    WHEN r.bools = r.n THEN 'boolean'
    WHEN r.stamps = r.n THEN 'timestamp'
    ELSE 'text' END;
END
$$;

-- Adds columns that a changed ETL export brings (an explicit option of a load), typed
-- from the staged values, and records them in the catalog. It runs with its owner's
-- rights (the schema's owner), so a loader role with DML only can still extend a table
-- through this one checked path.
CREATE FUNCTION bs_add_columns(p_table text, p_stage regclass, p_columns text[]) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS
$$
DECLARE
  t warehouse_tables := bs_check_table(p_table);
  c text;
  typ text;
  added jsonb := '[]';
BEGIN
  FOREACH c IN ARRAY p_columns LOOP
    IF c !~ '^[a-z_][a-z0-9_]{0,62}$' THEN
      RAISE EXCEPTION USING ERRCODE = '42602', MESSAGE = format('%s is not a usable column name', quote_literal(c));
    END IF;
    typ := bs_infer_type(p_stage, c);
    EXECUTE format('ALTER TABLE %I ADD COLUMN %I %s', t.table_name, c, typ);
    INSERT INTO warehouse_columns (table_name, position, header, column_name, column_type, not_null)
    VALUES (t.table_name, (SELECT coalesce(max(position), 0) + 1 FROM warehouse_columns WHERE table_name = t.table_name), c, c, typ, false);
    added := added || jsonb_build_object('column', c, 'type', typ);
  END LOOP;
  RETURN added;
END
$$;

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

CREATE FUNCTION load_table(p_table_name text, p_operation text DEFAULT 'upsert', p_game_id integer DEFAULT NULL)
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
  EXECUTE format('DELETE FROM landing.%I', t.table_name);
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

CREATE FUNCTION load_category(p_category text, p_operation text DEFAULT 'upsert', p_game_id integer DEFAULT NULL)
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
CREATE FUNCTION delete_game(p_game_id integer)
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
CREATE FUNCTION check_relations(p_game_id integer DEFAULT NULL)
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
