-- Exports that change (sql/README.md, "Exports that change"): a table's natural key and the
-- key derived from it, values that no longer fit their column, and the record of every
-- schema change a load applies (schema_changes, sql/migrations/000014_exports_that_change.sql).
-- bs_apply (apply.sql) calls these; what a load may change is its drift policy
-- (loader/warehouse: DriftPolicy), passed in its options.

-- Records one schema change a load applied: who (p_options.initiated_by), which file
-- (source), which request and history row, what changed. Called by the functions that
-- change the schema, with their owner's rights.
CREATE OR REPLACE FUNCTION bs_record_schema_change(p_table text, p_change text, p_column text, p_old_type text, p_new_type text,
  p_detail jsonb, p_options jsonb) RETURNS void
LANGUAGE sql AS
$$
  INSERT INTO schema_changes (changed_by, table_name, change, column_name, old_type, new_type, detail, source, request_id, history_id)
  VALUES (coalesce(nullif(p_options->>'initiated_by', ''), session_user), p_table, p_change, p_column, p_old_type, p_new_type,
          coalesce(p_detail, '{}'::jsonb), p_options->>'source', (p_options->>'request_id')::uuid, (p_options->>'history_id')::bigint)
$$;

-- The SQL expression of the surrogate key of warehouse table p_table derived from its
-- natural key, over the expressions of the staged values (p_exprs: column → SQL): the
-- key rule with each {column} replaced by its value ({column:05}: a number padded to 5
-- digits, never cut), then `_value` for each natural-key column the rule does not name.
-- An empty part that may be empty is ''; a row with another part empty gets no key (NULL).
-- NULL when the table has no rule or p_exprs lacks a natural-key column.
CREATE OR REPLACE FUNCTION bs_key_rule_expr(p_table text, p_exprs jsonb) RETURNS text
LANGUAGE plpgsql STABLE AS
$$
DECLARE
  t warehouse_tables := bs_check_table(p_table);
  v_lits text[];
  m record;
  v_named text[] := '{}';
  v_out text;
  v_part text;
  v_col text;
  v_required text[] := '{}';
BEGIN
  IF t.key_rule IS NULL OR EXISTS (SELECT 1 FROM unnest(t.natural_key) c WHERE NOT p_exprs ? c) THEN
    RETURN NULL;
  END IF;
  v_lits := regexp_split_to_array(t.key_rule, '\{[a-z_][a-z0-9_]*(:0\d+)?\}');
  v_out := quote_literal(v_lits[1]);
  FOR m IN SELECT x.g, x.n FROM regexp_matches(t.key_rule, '\{([a-z_][a-z0-9_]*)(?::0(\d+))?\}', 'g') WITH ORDINALITY AS x(g, n) LOOP
    v_col := m.g[1];
    v_named := v_named || v_col;
    v_part := format('(%s)::text', p_exprs->>v_col);
    IF m.g[2] IS NOT NULL THEN
      v_part := format('CASE WHEN length(%1$s) >= %2$s THEN %1$s ELSE lpad(%1$s, %2$s, %3$L) END', v_part, m.g[2], '0');
    END IF;
    v_out := v_out || ' || ' || format('coalesce(%s, %L)', v_part, '') || ' || ' || quote_literal(coalesce(v_lits[m.n + 1], ''));
  END LOOP;
  FOREACH v_col IN ARRAY t.natural_key LOOP
    IF NOT v_col = ANY (v_named) THEN
      v_out := v_out || format(' || %L || coalesce((%s)::text, %L)', '_', p_exprs->>v_col, '');
    END IF;
    IF NOT v_col = ANY (t.natural_key_nullable) THEN
      v_required := v_required || format('(%s) IS NOT NULL', p_exprs->>v_col);
    END IF;
  END LOOP;
  RETURN format('(CASE WHEN %s THEN %s END)', array_to_string(v_required, ' AND '), v_out);
END
$$;

-- The narrowest type that holds every staged value of p_column (text, as read) and every
-- value of a column of type p_type: integer → bigint → numeric → text, date → timestamp →
-- text, anything else → text.
CREATE OR REPLACE FUNCTION bs_widen_target(p_stage regclass, p_column text, p_type text) RETURNS text
LANGUAGE plpgsql STABLE AS
$$
DECLARE
  v_ladder text[] := CASE p_type
    WHEN 'integer' THEN ARRAY['bigint', 'numeric', 'text']
    WHEN 'smallint' THEN ARRAY['integer', 'bigint', 'numeric', 'text']
    WHEN 'bigint' THEN ARRAY['numeric', 'text']
    WHEN 'date' THEN ARRAY['timestamp without time zone', 'text']
    ELSE ARRAY['text'] END;
  v_type text;
  v_misfit boolean;
BEGIN
  FOREACH v_type IN ARRAY v_ladder LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s s WHERE NOT bs_fits(s.%I, %L))', p_stage, p_column, v_type) INTO v_misfit;
    IF NOT v_misfit THEN
      RETURN v_type;
    END IF;
  END LOOP;
  RETURN 'text';
END
$$;

-- Widens column p_column of warehouse table p_table to p_type (the values it holds fit the
-- wider type: bs_widen_target), in the catalog too, and records it. Runs with its owner's
-- rights, as bs_add_columns does: a loader role with DML only still takes a changed export
-- through this one checked path. Returns {column, from, to}.
CREATE OR REPLACE FUNCTION bs_widen_column(p_table text, p_column text, p_type text, p_options jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS
$$
DECLARE
  t warehouse_tables := bs_check_table(p_table);
  v_old text;
BEGIN
  IF p_type NOT IN ('bigint', 'numeric', 'text', 'integer', 'timestamp without time zone') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('%s is not a type a column is widened to', quote_literal(p_type));
  END IF;
  SELECT c.column_type INTO v_old FROM bs_table_columns(t.table_name) c WHERE c.column_name = p_column;
  IF v_old IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '42703', MESSAGE = format('%s has no column %s', t.table_name, p_column);
  END IF;
  EXECUTE format('ALTER TABLE %s ALTER COLUMN %I TYPE %s USING %I::%s', bs_table_rel(t.table_name), p_column, p_type, p_column, p_type);
  UPDATE warehouse_columns SET column_type = CASE p_type WHEN 'timestamp without time zone' THEN 'timestamp' ELSE p_type END
  WHERE table_name = t.table_name AND column_name = p_column;
  PERFORM bs_record_schema_change(t.table_name, 'widen_column', p_column, v_old, p_type,
    jsonb_build_object('rows', p_options->'misfit_rows', 'example', p_options->'misfit_example'), p_options);
  RETURN jsonb_build_object('column', p_column, 'from', v_old, 'to', p_type);
END
$$;

-- Makes p_columns the natural key of warehouse table p_table (p_nullable: the parts that
-- may be empty): its unique index is made again, the catalog says it, and the change is
-- recorded. A load does it when the file's grain is finer than the table's and the drift
-- policy says evolve (bs_apply). Owner's rights, as above.
CREATE OR REPLACE FUNCTION bs_set_natural_key(p_table text, p_columns text[], p_nullable text[], p_options jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS
$$
DECLARE
  t warehouse_tables := bs_check_table(p_table);
  v_index text := t.table_name || '_natural_key';
  v_schema text := (SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = bs_table_rel(t.table_name));
BEGIN
  IF EXISTS (SELECT 1 FROM unnest(p_columns) c WHERE NOT EXISTS (SELECT 1 FROM bs_table_columns(t.table_name) x WHERE x.column_name = c)) THEN
    RAISE EXCEPTION USING ERRCODE = '42703', MESSAGE = format('%s lacks a column of the natural key %s', t.table_name, array_to_string(p_columns, ', '));
  END IF;
  -- (on the table, or its shadow while a replace of this transaction loads it: shadow.sql;
  -- an index parked for a bulk insert is not built again)
  EXECUTE format('DROP INDEX IF EXISTS %I.%I', v_schema, v_index);
  DELETE FROM bs_parked_indexes WHERE xid = txid_current() AND table_name = t.table_name
    AND index_name IN (v_index, format('%I.%I', v_schema, v_index));
  IF p_columns IS DISTINCT FROM t.key_columns THEN
    EXECUTE format('CREATE UNIQUE INDEX %I ON %s (%s)', v_index, bs_table_rel(t.table_name),
      (SELECT string_agg(CASE WHEN c = ANY (p_nullable) THEN format('coalesce(%I, %L)', c, '') ELSE quote_ident(c) END, ', ' ORDER BY n)
       FROM unnest(p_columns) WITH ORDINALITY AS x(c, n)));
  END IF;
  UPDATE warehouse_tables SET natural_key = p_columns, natural_key_nullable = coalesce(p_nullable, '{}') WHERE table_name = t.table_name;
  PERFORM bs_record_schema_change(t.table_name, 'natural_key', NULL, NULL, NULL,
    jsonb_build_object('from', t.natural_key, 'to', p_columns, 'rows', p_options->'grain_rows'), p_options);
  RETURN jsonb_build_object('from', t.natural_key, 'to', p_columns);
END
$$;
