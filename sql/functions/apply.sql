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
-- Exports that change (sql/README.md, "Exports that change"; drift.sql): rows are matched by
-- the table's natural key (the key when it is the natural key, or when a row has none); a
-- stage without the key column gets the key derived from the natural key; p_options may say
-- ignore_columns (staged columns not loaded), new_columns (the file's columns the table
-- lacked: they may tell apart the rows of a finer grain), misfits (refuse | widen | reject,
-- with retype: the stage is text), grain (refuse | evolve), plan (a dry run: a refusal is
-- said in the answer's `refused`, not raised), initiated_by (for schema_changes).
-- Returns the counts as JSON, and `drift`: what differed and what was done about it.
-- Raises with DETAIL = JSON {line, column, value} on bad values.
CREATE OR REPLACE FUNCTION bs_apply(p_table text, p_operation text, p_game_id integer, p_stage regclass, p_options jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE plpgsql AS
$$
DECLARE
  t warehouse_tables := bs_check_table(p_table);
  v_stage_cols text[];
  v_stage_types text[];
  v_exprs jsonb := '{}';        -- column → the expression of its staged value
  v_types jsonb := '{}';        -- column → its type in the table
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
  -- Exports that change (drift.sql)
  v_ignore text[] := ARRAY(SELECT jsonb_array_elements_text(coalesce(p_options->'ignore_columns', '[]')));
  v_new_cols text[] := ARRAY(SELECT jsonb_array_elements_text(coalesce(p_options->'new_columns', '[]')));
  v_misfit_policy text := coalesce(p_options->>'misfits', 'refuse');
  v_grain_policy text := coalesce(p_options->>'grain', 'refuse');
  v_plan boolean := coalesce((p_options->>'plan')::boolean, false);
  v_own_nk boolean;             -- the natural key is not the primary key
  v_nk_avail boolean;           -- the file has every column of the natural key
  v_key_in_file boolean;
  v_key_derived boolean := false;
  v_nk_s text;                  -- the natural key over the staged row s, as its index lists it
  v_nk_complete_s text;         -- s has a natural key
  v_nk_complete_x text;         -- a table row x has one
  v_nk_match text;              -- the table row x has s's natural key
  v_drift jsonb := '{}';
  v_widened jsonb := '[]';
  v_misfits jsonb;
  v_n bigint;
  v_groups bigint;
  v_ext text[];
  v_cand text;
  v_unique boolean;
  v_rekeyed bigint := 0;
  v_detail jsonb;
  v_phase integer;
  v_grain_from text[];          -- the natural key before this load extended it
  v_lazy boolean;               -- repeats of the natural key are looked for among the rows that change something
  v_superseded bigint := 0;     -- rows of the coarser grain that the file's rows refine
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
    IF v_col.column_name = v_key THEN v_key_type := v_col.column_type; END IF;
    v_types := v_types || jsonb_build_object(v_col.column_name, v_col.column_type);
    IF v_col.column_name = ANY (v_stage_cols) THEN
      v_cols := v_cols || v_col.column_name;
      v_expr := CASE
        WHEN v_stage_types[array_position(v_stage_cols, v_col.column_name)] = v_col.column_type
             AND (v_col.column_type <> 'text' OR v_normalized)
        THEN format('s.%I', v_col.column_name)
        WHEN v_col.column_type = 'text' AND v_col.column_name = ANY (v_key_cols)
        THEN format('bs_key_text(s.%I)', v_col.column_name)
        ELSE bs_cast_expr(format('s.%I', v_col.column_name), v_col.column_type) END;
      v_exprs := v_exprs || jsonb_build_object(v_col.column_name, v_expr);
    ELSIF v_col.column_name = v_key THEN
      NULL; -- derived from the natural key, or refused below
    ELSIF v_col.not_null THEN
      RAISE EXCEPTION USING ERRCODE = '23502',
        MESSAGE = format('the file has no column %s, which %s needs (it may not be empty)', v_col.column_name, p_table);
    ELSE
      v_missing := v_missing || v_col.column_name;
    END IF;
  END LOOP;
  IF EXISTS (SELECT 1 FROM unnest(v_stage_cols) c WHERE c <> ALL (v_cols) AND c <> ALL (v_ignore)) THEN
    RAISE EXCEPTION USING ERRCODE = '42703',
      MESSAGE = format('%s has no column(s) %s', p_table,
        (SELECT string_agg(c, ', ') FROM unnest(v_stage_cols) c WHERE c <> ALL (v_cols) AND c <> ALL (v_ignore)));
  END IF;

  v_own_nk := t.natural_key IS DISTINCT FROM t.key_columns;
  v_nk_avail := NOT EXISTS (SELECT 1 FROM unnest(t.natural_key) c WHERE NOT v_exprs ? c);
  v_key_in_file := v_exprs ? v_key;
  IF NOT v_key_in_file THEN
    IF v_own_nk AND v_nk_avail AND t.key_rule IS NOT NULL THEN
      v_key_derived := true;
    ELSE
      RAISE EXCEPTION USING ERRCODE = '23502',
        MESSAGE = format('the file has no column %s, which %s needs', v_key, p_table),
        HINT = CASE WHEN v_own_nk AND t.key_rule IS NOT NULL
          THEN format('without it, rows are known by their natural key (%s), and the file lacks %s', array_to_string(t.natural_key, ', '),
                      (SELECT string_agg(c, ', ') FROM unnest(t.natural_key) c WHERE NOT v_exprs ? c))
          ELSE 'is this the right file for the table?' END;
    END IF;
  END IF;
  IF array_length(v_missing, 1) > 0 THEN
    v_warnings := v_warnings || to_jsonb(format('the file has no column(s) %s: %s', array_to_string(v_missing, ', '),
      CASE WHEN p_operation IN ('upsert', 'merge') THEN 'rows the file updates keep their values there, new rows get NULL'
           ELSE 'the loaded rows get NULL there' END));
  END IF;

  IF p_game_id IS NOT NULL THEN
    v_game_expr := coalesce(v_exprs->>t.game_column, bs_cast_expr(format('s.%I', t.game_column), v_types->>t.game_column));
    v_scope := format('%s = %s', v_game_expr, p_game_id);
    v_target_scope := format('t.%I = %s', t.game_column, p_game_id);
  END IF;

  PERFORM bs_rejects_start();

  -- Every statement that casts staged values runs in this block, so that a value that
  -- does not fit its column is reported with its line, column and value.
  BEGIN

  -- Values that no longer fit their column (a file staged as text because its reader met
  -- one: p_options.retype): the column is widened (recorded), the rows rejected, or the
  -- load refused, by the drift policy. Key, natural-key, game and relation columns are
  -- never widened: a value that does not fit them is refused.
  IF coalesce((p_options->>'retype')::boolean, false) THEN
    SELECT string_agg(format('count(*) FILTER (WHERE NOT bs_fits(s.%1$I, %2$L)) AS %1$I', c, v_types->>c), ', ')
    INTO v_expr
    FROM unnest(v_cols) c WHERE v_types->>c <> 'text';
    IF v_expr IS NOT NULL THEN
      EXECUTE format('SELECT to_jsonb(x) FROM (SELECT %s FROM %s s WHERE %s) x', v_expr, p_stage,
        CASE WHEN p_game_id IS NULL THEN 'true' ELSE format('CASE WHEN bs_fits(s.%I, %L) THEN %s ELSE false END', t.game_column, v_types->>t.game_column, v_scope) END)
        INTO v_misfits;
      FOR v_col IN SELECT key AS column_name, value::bigint AS n FROM jsonb_each_text(v_misfits) WHERE value::bigint > 0 ORDER BY key LOOP
        EXECUTE format('SELECT s._line AS line, s.%1$I AS value FROM %2$s s WHERE NOT bs_fits(s.%1$I, %3$L) ORDER BY s._line LIMIT 1',
          v_col.column_name, p_stage, v_types->>v_col.column_name) INTO v_bad;
        IF (v_misfit_policy = 'refuse' OR v_col.column_name = ANY (v_key_cols || t.natural_key || t.game_column)) AND v_plan THEN
          -- A plan says it, for every such column, and applies nothing of this file.
          v_drift := jsonb_set(v_drift, '{misfits_refused}', coalesce(v_drift->'misfits_refused', '[]') || jsonb_build_object('column', v_col.column_name,
            'type', v_types->>v_col.column_name, 'rows', v_col.n, 'line', v_bad.line, 'value', left(v_bad.value, 200)));
        ELSIF v_misfit_policy = 'refuse' OR v_col.column_name = ANY (v_key_cols || t.natural_key || t.game_column) THEN
          RAISE EXCEPTION USING ERRCODE = '22P02',
            MESSAGE = format('line %s, column %s: %s does not fit the column''s type %s (%s rows of the file do not)', v_bad.line,
              v_col.column_name, quote_literal(left(v_bad.value, 200)), v_types->>v_col.column_name, v_col.n),
            DETAIL = json_build_object('line', v_bad.line, 'column', v_col.column_name, 'value', left(v_bad.value, 1000))::text,
            HINT = CASE WHEN v_misfit_policy = 'refuse'
              THEN format('the drift policy of %s refuses a value that no longer fits: load with --evolve to widen the column (a recorded schema change), or --misfits reject to put such rows in the rejects', p_table)
              ELSE 'a key, natural-key, game or relation column is never widened: fix the value in the file' END;
        ELSIF v_misfit_policy = 'widen' THEN
          v_expr := bs_widen_target(p_stage, v_col.column_name, v_types->>v_col.column_name);
          v_widened := v_widened || jsonb_build_object('column', v_col.column_name, 'from', v_types->>v_col.column_name, 'to', v_expr,
            'rows', v_col.n, 'line', v_bad.line, 'value', left(v_bad.value, 200));
          PERFORM bs_widen_column(p_table, v_col.column_name, v_expr,
            p_options || jsonb_build_object('misfit_rows', v_col.n, 'misfit_example', jsonb_build_object('line', v_bad.line, 'value', left(v_bad.value, 200))));
          v_types := v_types || jsonb_build_object(v_col.column_name, v_expr);
          v_exprs := v_exprs || jsonb_build_object(v_col.column_name, bs_cast_expr(format('s.%I', v_col.column_name), v_expr));
        ELSE
          EXECUTE format($q$INSERT INTO _bs_reject_list (_line, reason, column_name, value)
            SELECT s._line, 'bad_value', %1$L, s.%1$I FROM %2$s s WHERE NOT bs_fits(s.%1$I, %3$L) ON CONFLICT DO NOTHING$q$,
            v_col.column_name, p_stage, v_types->>v_col.column_name);
          v_exprs := v_exprs || jsonb_build_object(v_col.column_name, format('CASE WHEN bs_fits(s.%1$I, %2$L) THEN %3$s END',
            v_col.column_name, v_types->>v_col.column_name, v_exprs->>v_col.column_name));
          v_drift := v_drift || jsonb_build_object('misfits_rejected', coalesce((v_drift->>'misfits_rejected')::bigint, 0) + v_col.n);
        END IF;
      END LOOP;
    END IF;
  END IF;
  IF jsonb_array_length(v_widened) > 0 THEN
    v_drift := v_drift || jsonb_build_object('widened', v_widened);
  END IF;
  IF v_drift ? 'misfits_refused' THEN
    RETURN jsonb_build_object('table', p_table, 'operation', p_operation, 'game_id', p_game_id,
      'rows_in_file', 0, 'out_of_scope', 0, 'inserted', 0, 'updated', 0, 'deleted', 0, 'unchanged', 0,
      'rejected', 0, 'rejected_by_reason', '{}'::jsonb, 'warnings', v_warnings,
      'refused', format('values of %s no longer fit their column''s type, and %s', 
        (SELECT string_agg(x->>'column', ', ') FROM jsonb_array_elements(v_drift->'misfits_refused') x),
        CASE WHEN v_misfit_policy = 'refuse' THEN format('the drift policy of %s refuses them (--evolve widens the columns)', p_table)
             ELSE 'a key, natural-key, game or relation column is never widened' END),
      'drift', v_drift);
  END IF;

  -- Repeats of the natural key in a file: into a table that has rows, an upsert or merge of
  -- a file with its key looks for them only among the rows that would change something (a
  -- repeat is always one of those: an unchanged row has the stored row's key, and a second
  -- one would be a repeated key); a file that changes nothing costs no pass over it. Found
  -- any, the natural key's whole check runs (below) and the rows are matched again.
  IF p_operation IN ('upsert', 'merge') AND v_own_nk AND v_nk_avail AND v_key_in_file THEN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', p_table) INTO v_lazy;
  ELSE
    v_lazy := false;
  END IF;
  <<matching>>
  LOOP
  -- The file's key, and the natural key. With the key in the file, its checks come first
  -- (a row repeated whole is a repeated key); a key derived from the natural key comes
  -- after the natural key's checks (it repeats only where the natural key does).
  FOR v_phase IN 1..2 LOOP
    IF (v_phase = 1) = v_key_in_file THEN
    -- The key: the file's, or derived from the natural key (bs_key_rule_expr).
      IF v_key_derived THEN
        v_exprs := v_exprs || jsonb_build_object(v_key, bs_key_rule_expr(p_table, v_exprs));
        v_cols := v_key || v_cols;
        v_drift := v_drift || jsonb_build_object('key_derived', true);
      END IF;
      v_key_expr := coalesce(v_exprs->>v_key, bs_cast_expr(format('s.%I', v_key), v_key_type));
      v_casts := ARRAY(SELECT v_exprs->>c FROM unnest(v_cols) WITH ORDINALITY AS x(c, n) ORDER BY n);

      -- The engine's reader may already know the row count and that no key repeats (its
      -- keys only went up); then the passes that would find that out are skipped.
      IF p_game_id IS NULL AND p_options ? 'file_rows' AND p_options ? 'keys_missing' AND v_key_in_file THEN
        v_total := (p_options->>'file_rows')::bigint;
        v_in_scope := v_total;
        v_rows := (p_options->>'keys_missing')::bigint;
      ELSE
        EXECUTE format('SELECT count(*), count(*) FILTER (WHERE %s), count(*) FILTER (WHERE %s AND %s IS NULL) FROM %s s',
          v_scope, v_scope, v_key_expr, p_stage) INTO v_total, v_in_scope, v_rows;
      END IF;

      -- Missing keys, then duplicate keys (the first occurrence of a key wins). A derived key
      -- repeats only where the natural key does (rejected above).
      IF v_rows > 0 THEN
        EXECUTE format($q$
          INSERT INTO _bs_reject_list (_line, reason, column_name)
          SELECT s._line, %L, %L FROM %s s WHERE %s AND %s IS NULL
          ON CONFLICT DO NOTHING$q$,
          CASE WHEN v_key_derived THEN 'missing_natural_key' ELSE 'missing_key' END,
          CASE WHEN v_key_derived THEN array_to_string(t.natural_key, ', ') ELSE v_key END, p_stage, v_scope, v_key_expr);
      END IF;
      IF coalesce((p_options->>'keys_unique')::boolean, false) OR v_key_derived THEN
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
    END IF;
    CONTINUE WHEN v_phase = 2;

    -- The natural key repeated in the file. When new columns of the file tell those rows
    -- apart, the grain changed (the rows mean something finer): refused, or with the drift
    -- policy `evolve` the natural key is extended with those columns (recorded). Otherwise
    -- every repeat after the first is rejected, as a repeated key is.
    IF v_own_nk AND v_nk_avail THEN
      LOOP
        SELECT string_agg(CASE WHEN c = ANY (t.natural_key_nullable) THEN format('coalesce(%s, %L)', v_exprs->>c, '') ELSE v_exprs->>c END, ', ' ORDER BY n),
               string_agg(format('(%s) IS NOT NULL', v_exprs->>c), ' AND ' ORDER BY n) FILTER (WHERE c <> ALL (t.natural_key_nullable))
        INTO v_nk_s, v_nk_complete_s
        FROM unnest(t.natural_key) WITH ORDINALITY AS x(c, n);
        EXIT WHEN v_lazy;
        EXECUTE format('SELECT count(*), coalesce(sum(d.n), 0) FROM (SELECT count(*) AS n FROM %s s WHERE %s AND %s AND NOT EXISTS (SELECT 1 FROM _bs_reject_list r WHERE r._line = s._line) GROUP BY %s HAVING count(*) > 1) d',
          p_stage, v_scope, v_nk_complete_s, v_nk_s) INTO v_groups, v_n;
        EXIT WHEN v_groups = 0;
        -- Which new columns of the file (in the table now, or staged to be ignored) make it unique again?
        v_ext := NULL;
        FOREACH v_cand IN ARRAY ARRAY(SELECT c FROM unnest(v_new_cols) c WHERE c = ANY (v_stage_cols) AND c <> ALL (t.natural_key) AND c <> v_key) LOOP
          EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %s s WHERE %s AND %s GROUP BY %s, s.%I HAVING count(*) > 1)',
            p_stage, v_scope, v_nk_complete_s, v_nk_s, v_cand) INTO v_unique;
          IF v_unique THEN v_ext := ARRAY[v_cand]; EXIT; END IF;
        END LOOP;
        IF v_ext IS NULL AND (SELECT count(*) FROM unnest(v_new_cols) c WHERE c = ANY (v_stage_cols) AND c <> ALL (t.natural_key) AND c <> v_key) > 1 THEN
          v_ext := ARRAY(SELECT c FROM unnest(v_new_cols) c WHERE c = ANY (v_stage_cols) AND c <> ALL (t.natural_key) AND c <> v_key);
          EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %s s WHERE %s AND %s GROUP BY %s, %s HAVING count(*) > 1)',
            p_stage, v_scope, v_nk_complete_s, v_nk_s, (SELECT string_agg(format('s.%I', c), ', ') FROM unnest(v_ext) c)) INTO v_unique;
          IF NOT v_unique THEN v_ext := NULL; END IF;
        END IF;
        IF v_ext IS NULL THEN
          -- Repeats: the first occurrence stays.
          EXECUTE format($q$
            INSERT INTO _bs_reject_list (_line, reason, column_name, value, first_line)
            SELECT x._line, 'duplicate_natural_key', %1$L, x.k, x.first_line
            FROM (SELECT s._line, concat_ws(', ', %2$s) AS k, min(s._line) OVER (PARTITION BY %2$s) AS first_line,
                         count(*) OVER (PARTITION BY %2$s) AS n
                  FROM %3$s s WHERE %4$s AND %5$s AND NOT EXISTS (SELECT 1 FROM _bs_reject_list r WHERE r._line = s._line)) x
            WHERE x.n > 1 AND x._line > x.first_line
            ON CONFLICT DO NOTHING$q$, array_to_string(t.natural_key, ', '), v_nk_s, p_stage, v_scope, v_nk_complete_s);
          GET DIAGNOSTICS v_n = ROW_COUNT;
          v_drift := v_drift || jsonb_build_object('natural_key_repeats', v_n);
          IF v_n > 0 AND v_dup_policy = 'fail' THEN
            PERFORM bs_reject_raise('duplicate_natural_key');
          END IF;
          EXIT;
        END IF;
        v_detail := jsonb_build_object('natural_key', t.natural_key, 'extended', t.natural_key || v_ext, 'rows', v_n, 'groups', v_groups,
          'columns', v_ext);
        IF v_grain_policy = 'evolve' AND NOT EXISTS (SELECT 1 FROM unnest(v_ext) c WHERE c <> ALL (v_cols)) THEN
          v_grain_from := t.natural_key;
        PERFORM bs_set_natural_key(p_table, t.natural_key || v_ext, t.natural_key_nullable, p_options || jsonb_build_object('grain_rows', v_n));
          v_drift := v_drift || jsonb_build_object('grain', v_detail || jsonb_build_object('action', 'evolved'));
          t := bs_check_table(p_table);
          CONTINUE;
        END IF;
        v_drift := v_drift || jsonb_build_object('grain', v_detail || jsonb_build_object('action', 'refused'));
        IF v_plan THEN
          RETURN jsonb_build_object('table', p_table, 'operation', p_operation, 'game_id', p_game_id,
            'rows_in_file', 0, 'out_of_scope', 0, 'inserted', 0, 'updated', 0, 'deleted', 0, 'unchanged', 0,
            'rejected', 0, 'rejected_by_reason', '{}'::jsonb, 'warnings', v_warnings,
            'refused', format('the grain of %s changed: %s rows of the file repeat its natural key (%s); with %s it is unique again',
              p_table, v_n, array_to_string(t.natural_key, ', '), array_to_string(v_ext, ', ')),
            'drift', v_drift);
        END IF;
        RAISE EXCEPTION USING ERRCODE = '23505',
          MESSAGE = format('the grain of %s changed: %s rows of the file repeat its natural key (%s); with %s it is unique again',
            p_table, v_n, array_to_string(t.natural_key, ', '), array_to_string(v_ext, ', ')),
          HINT = format('a row now means something finer: load with --evolve to make (%s) the natural key of %s (a recorded schema change), after `benchsight drift` shows what it changes',
            array_to_string(t.natural_key || v_ext, ', '), p_table);
      END LOOP;
    END IF;
  END LOOP;

  -- How a staged row s finds its table row x: by the natural key when s has one (and the
  -- table's key is not the natural key itself); else by the key, unless the two rows'
  -- natural keys say they are different rows.
  IF v_own_nk AND v_nk_avail THEN
    SELECT string_agg(format('x.%1$I = %2$s', c, v_exprs->>c), ' AND ' ORDER BY n) FILTER (WHERE c <> ALL (t.natural_key_nullable))
           || coalesce(' AND ' || string_agg(format('coalesce(x.%1$I, %3$L) = coalesce(%2$s, %3$L)', c, v_exprs->>c, ''), ' AND ' ORDER BY n)
                FILTER (WHERE c = ANY (t.natural_key_nullable)), ''),
           string_agg(format('x.%I IS NOT NULL', c), ' AND ' ORDER BY n) FILTER (WHERE c <> ALL (t.natural_key_nullable))
    INTO v_nk_match, v_nk_complete_x
    FROM unnest(t.natural_key) WITH ORDINALITY AS y(c, n);
    v_drift := v_drift || jsonb_build_object('natural_key', t.natural_key);
  END IF;

  -- Upsert and merge into a table that has rows: first find the rows of the file that
  -- would change something (a new row, a value that differs, a new key: hash joins).
  -- Rows identical to the stored ones end there: not checked again, not written, counted
  -- unchanged. Loading the same export twice costs one comparison per row.
  v_target_empty := true;
  IF p_operation IN ('upsert', 'merge') THEN
    EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %I)', p_table) INTO v_target_empty;
    IF NOT v_target_empty AND v_grain_from IS NOT NULL THEN
      -- The grain got finer in this load: the table's rows of the coarser grain that rows of
      -- the file refine (same coarser natural key, the new columns empty) give way to them.
      EXECUTE format('DELETE FROM %I t WHERE %s AND %s AND EXISTS (SELECT 1 FROM %s s WHERE %s AND %s)',
        p_table, v_target_scope,
        (SELECT string_agg(format('t.%I IS NULL', c), ' AND ') FROM unnest(t.natural_key) c WHERE c <> ALL (v_grain_from)),
        p_stage, v_scope,
        (SELECT string_agg(CASE WHEN c = ANY (t.natural_key_nullable) THEN format('coalesce(t.%1$I, %3$L) = coalesce(%2$s, %3$L)', c, v_exprs->>c, '')
                                ELSE format('t.%I = %s', c, v_exprs->>c) END, ' AND ')
         FROM unnest(v_grain_from) c));
      GET DIAGNOSTICS v_superseded = ROW_COUNT;
      v_drift := jsonb_set(v_drift, '{grain,superseded}', to_jsonb(v_superseded));
    END IF;
    IF NOT v_target_empty THEN
      SELECT string_agg(format('%I = %s', c, v_exprs->>c), ', ') INTO v_sets
      FROM unnest(v_cols) c WHERE c <> v_key OR (v_own_nk AND v_nk_avail AND NOT v_key_derived);
      DROP TABLE IF EXISTS pg_temp._bs_work;
      EXECUTE format('CREATE TEMP TABLE _bs_work (_line bigint NOT NULL, is_new boolean NOT NULL, old_key %1$s, new_key %1$s) ON COMMIT DROP', v_key_type);
      -- Each row of the file against the row of the table it is: by the natural key when
      -- the table has one of its own (one hash join), else by the key.
      v_expr := CASE WHEN v_sets IS NULL THEN 'false' ELSE format('(%s) IS DISTINCT FROM (%s)',
          (SELECT string_agg(format('t.%I', c), ', ') FROM unnest(v_cols) c WHERE c <> v_key OR (v_own_nk AND v_nk_avail AND NOT v_key_derived)),
          (SELECT string_agg(v_exprs->>c, ', ') FROM unnest(v_cols) c WHERE c <> v_key OR (v_own_nk AND v_nk_avail AND NOT v_key_derived))) END;
      EXECUTE format($q$
        INSERT INTO _bs_work
        SELECT s._line, t.%1$I IS NULL, t.%1$I, %4$s FROM %2$s s
        LEFT JOIN %3$I t ON %7$s
        WHERE %5$s AND %4$s IS NOT NULL AND NOT EXISTS (SELECT 1 FROM _bs_reject_list r WHERE r._line = s._line)
          AND (t.%1$I IS NULL OR %6$s)$q$,
        v_key, p_stage, p_table, v_key_expr, v_scope, v_expr,
        CASE WHEN v_own_nk AND v_nk_avail THEN replace(v_nk_match, 'x.', 't.') ELSE format('t.%I = %s', v_key, v_key_expr) END);
      -- A row the natural key found nothing for may still be a row of the table by its key,
      -- when one of the two has no natural key (an empty part), and no row of the file is
      -- that row by its natural key (that one takes it). Only rows that looked new are looked at.
      IF v_own_nk AND v_nk_avail AND NOT v_key_derived AND EXISTS (SELECT 1 FROM _bs_work WHERE is_new) THEN
        EXECUTE format($q$
          WITH f AS (
            SELECT w._line, t.%1$I AS k, NOT (%6$s) AS same
            FROM _bs_work w JOIN %2$s s ON s._line = w._line JOIN %3$I t ON t.%1$I = w.new_key
            WHERE w.is_new AND NOT ((%4$s) AND %5$s)
              AND NOT EXISTS (SELECT 1 FROM _bs_work w2 WHERE w2.old_key = t.%1$I AND NOT w2.is_new)),
          d AS (DELETE FROM _bs_work w USING f WHERE w._line = f._line AND f.same RETURNING 1)
          UPDATE _bs_work w SET is_new = false, old_key = f.k FROM f WHERE w._line = f._line AND NOT f.same$q$,
          v_key, p_stage, p_table, v_nk_complete_s, replace(v_nk_complete_x, 'x.', 't.'), v_expr);
      END IF;
      v_work := 'EXISTS (SELECT 1 FROM _bs_work w WHERE w._line = s._line)';

      -- A new key that another row of the table holds, a row that stays (no row of the
      -- file is it; a merge deletes the rows of its scope that the file lacks): rejected.
      IF v_own_nk AND v_nk_avail AND NOT v_key_derived THEN
        EXECUTE format($q$
          INSERT INTO _bs_reject_list (_line, reason, column_name, value)
          SELECT w._line, 'key_taken', %1$L, w.new_key::text FROM _bs_work w JOIN %2$I t ON t.%1$I = w.new_key
          WHERE w.old_key IS DISTINCT FROM w.new_key AND NOT EXISTS (SELECT 1 FROM _bs_work w2 WHERE w2.old_key = t.%1$I)
            AND NOT (%3$s AND %4$s)
          ON CONFLICT DO NOTHING$q$, v_key, p_table, CASE WHEN p_operation = 'merge' THEN 'true' ELSE 'false' END, v_target_scope);
        GET DIAGNOSTICS v_n = ROW_COUNT;
        IF v_n > 0 THEN v_drift := v_drift || jsonb_build_object('key_taken', v_n); END IF;
        SELECT count(*), jsonb_agg(jsonb_build_object('line', e._line, 'from', e.old_key, 'to', e.new_key) ORDER BY e._line) FILTER (WHERE e.k <= 3)
        INTO v_n, v_detail
        FROM (SELECT w.*, row_number() OVER (ORDER BY w._line) AS k FROM _bs_work w
              WHERE NOT w.is_new AND w.old_key <> w.new_key AND NOT EXISTS (SELECT 1 FROM _bs_reject_list r WHERE r._line = w._line)) e;
        IF v_n > 0 THEN v_drift := v_drift || jsonb_build_object('rekeyed', v_n, 'rekeyed_examples', v_detail); END IF;
      END IF;
    END IF;
  END IF;

  -- (see "Repeats of the natural key" above)
  IF v_lazy THEN
    EXECUTE format($q$SELECT EXISTS (SELECT 1 FROM _bs_work) AND EXISTS (
        SELECT 1 FROM %1$s s
        WHERE %2$s AND %3$s AND NOT EXISTS (SELECT 1 FROM _bs_reject_list r WHERE r._line = s._line)
          AND (%4$s) IN (SELECT %4$s FROM _bs_work w JOIN %1$s s ON s._line = w._line)
        GROUP BY %4$s HAVING count(*) > 1)$q$, p_stage, v_scope, v_nk_complete_s, v_nk_s) INTO v_unique;
    IF v_unique THEN
      v_lazy := false;
      v_drift := v_drift - 'key_taken' - 'rekeyed' - 'rekeyed_examples';
      DELETE FROM _bs_reject_list WHERE reason = 'key_taken';
      CONTINUE matching;
    END IF;
  END IF;
  EXIT matching;
  END LOOP;

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
      IF v_own_nk AND v_nk_avail THEN
        EXECUTE format($q$SELECT s._line, concat_ws(', ', %1$s) AS k, x.%2$I::text AS held FROM %3$s s JOIN %4$I x ON %5$s
          WHERE %6$s AND %7$s ORDER BY s._line LIMIT 1$q$,
          v_nk_s, v_key, p_stage, p_table, v_nk_match, v_scope, v_not_rejected) INTO v_bad;
        IF v_bad._line IS NOT NULL THEN
          RAISE EXCEPTION USING ERRCODE = '23505',
            MESSAGE = format('append: the row on line %s is already in %s (natural key (%s) = (%s), key %s)', v_bad._line, p_table,
              array_to_string(t.natural_key, ', '), v_bad.k, v_bad.held),
            DETAIL = json_build_object('line', v_bad._line, 'column', array_to_string(t.natural_key, ', '), 'value', v_bad.k)::text,
            HINT = 'use upsert to update existing rows, or replace to reload the scope';
        END IF;
      END IF;
    ELSIF p_operation = 'merge' THEN
      EXECUTE format('DELETE FROM %I t WHERE %s AND %s',
        p_table, v_target_scope,
        CASE WHEN v_own_nk AND v_nk_avail THEN
          format('NOT EXISTS (SELECT 1 FROM %1$s s WHERE %2$s AND %3$s)', p_stage, v_scope, replace(v_nk_match, 'x.', 't.'))
          || CASE WHEN v_key_derived THEN '' ELSE format(' AND NOT EXISTS (SELECT 1 FROM %1$s s WHERE %2$s AND %3$s = t.%4$I AND NOT ((%5$s) AND %6$s))',
               p_stage, v_scope, v_key_expr, v_key, v_nk_complete_s, replace(v_nk_complete_x, 'x.', 't.')) END
        ELSE format('NOT EXISTS (SELECT 1 FROM %s s WHERE %s AND %s = t.%I)', p_stage, v_scope, v_key_expr, v_key) END);
      GET DIAGNOSTICS v_deleted = ROW_COUNT;
    END IF;

    IF p_operation IN ('upsert', 'merge') AND NOT v_target_empty THEN
      -- Rows that take a new key (the same row, by its natural key, under another key):
      -- their keys are moved out of the way first, so that keys may change places.
      IF v_drift ? 'rekeyed' THEN
        EXECUTE format($q$UPDATE %1$I t SET %2$I = chr(1) || w._line::text FROM _bs_work w
          WHERE t.%2$I = w.old_key AND NOT w.is_new AND w.old_key <> w.new_key
            AND NOT EXISTS (SELECT 1 FROM _bs_reject_list r WHERE r._line = w._line)$q$, p_table, v_key);
        UPDATE _bs_work w SET old_key = chr(1) || w._line::text
        WHERE NOT w.is_new AND w.old_key <> w.new_key AND NOT EXISTS (SELECT 1 FROM _bs_reject_list r WHERE r._line = w._line);
      END IF;
      -- Rows that exist and whose values (or key) differ: updated.
      IF v_sets IS NOT NULL THEN
        EXECUTE format('UPDATE %I AS t SET %s FROM %s s JOIN _bs_work w ON w._line = s._line AND NOT w.is_new WHERE t.%I = w.old_key AND %s',
          p_table, v_sets, p_stage, v_key, v_not_rejected);
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
      IF SQLERRM LIKE 'line %, column %' THEN
        RAISE;  -- ours (a value that no longer fits), with its line and column
      END IF;
      -- Search every staged row: the culprit may be the game column the scope filters on.
      PERFORM bs_raise_bad_value(p_table, p_stage, 'true', SQLERRM);
  END;

  RETURN jsonb_build_object(
    'table', p_table, 'operation', p_operation, 'game_id', p_game_id,
    'rows_in_file', v_total, 'out_of_scope', v_total - v_in_scope,
    'inserted', v_inserted, 'updated', v_updated, 'deleted', v_deleted + v_superseded,
    'unchanged', GREATEST(v_in_scope - v_rejected - v_inserted - v_updated, 0),
    'rejected', v_rejected, 'rejected_by_reason', v_by_reason,
    'warnings', v_warnings, 'drift', v_drift);
END
$$;

-- Deletes the rows of a warehouse table in scope: the whole table, or one game's rows.
-- A whole table over 1 MB is emptied with TRUNCATE where the caller may (a loader role
-- granted TRUNCATE; the owner): no per-row delete, and no dead rows for the reload to
-- step over (a DELETE leaves the old keys in the indexes, and every insert of the same key
-- visits them). A smaller table is DELETEd: TRUNCATE makes new files, a few milliseconds
-- each. Where the table can have a shadow (shadow.sql), the rows go there instead and
-- readers keep the old rows until the commit (the caller swaps it in: bs_shadow_swap);
-- else TRUNCATE locks the table against readers until the request commits. The count
-- comes first.
CREATE OR REPLACE FUNCTION bs_delete_scope(p_table text, p_game_id integer DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS
$$
DECLARE
  t warehouse_tables := bs_check_table(p_table);
  n bigint;
BEGIN
  IF p_game_id IS NULL THEN
    -- Readers go on reading the old rows: the new ones go into the table's shadow, swapped
    -- in at the commit (shadow.sql); its indexes are there, and bs_apply parks them itself.
    IF pg_relation_size(format('public.%I', p_table)::regclass) > 1048576 THEN
      EXECUTE format('SELECT count(*) FROM public.%I', p_table) INTO n;
      IF bs_shadow_begin(p_table, false) IS NOT NULL THEN
        PERFORM bs_shadow_use(p_table);
        RETURN n;
      END IF;
    END IF;
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
