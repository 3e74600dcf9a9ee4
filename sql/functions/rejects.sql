-- How a row that may not load is reported. Rejected are: a row without its key
-- (missing_key), a key seen before in the same file (duplicate_key: the first occurrence
-- stays) and a row whose declared relations point nowhere (orphan). Both ways of applying
-- a file use these functions: bs_apply (apply.sql) over the staged rows, bs_apply_loaded
-- (direct.sql) over the rows COPYed straight into the table. Each lists its rejects in
-- _bs_reject_list (one row per rejected row, its first reason), then records them in
-- load_rejects, or fails the request at the first one when its policy says so
-- ({"duplicates": "fail"} / {"orphans": "fail"}).
--
-- load_rejects holds each one's reason, line and row as read, and its fields:
-- column_name and value (the key, or the first relation that points nowhere),
-- parent_table, and relations (orphan: every relation the row breaks, as
-- [{"column", "value", "parent_table", "parent_column"}]). `detail` says the same for
-- people (bs_reject_detail): "event_key EV1 is not in fact_events.event_key; ...".

-- Starts the reject list of one apply: created, or emptied (with DELETE: it is small, and
-- TRUNCATE would make new files for it). A row is named by `_line` (staged rows: the CSV
-- line, known from the start) or by `id` (a row in the table: its ctid; its line is found
-- at the end, bs_loaded_lines).
CREATE OR REPLACE FUNCTION bs_rejects_start() RETURNS void
LANGUAGE plpgsql AS
$$
BEGIN
  IF to_regclass('pg_temp._bs_reject_list') IS NULL THEN
    CREATE TEMP TABLE _bs_reject_list (
      _line bigint UNIQUE,
      id tid UNIQUE,
      reason text NOT NULL,
      column_name text,
      value text,
      relations jsonb,
      first_line bigint,          -- duplicate_key: the line of the key's first occurrence
      first_id tid                -- (by id: that row)
    ) ON COMMIT DROP;
  ELSE
    DELETE FROM _bs_reject_list;
  END IF;
END
$$;

-- The sentence of an orphan that breaks several relations, one clause each.
CREATE OR REPLACE FUNCTION bs_reject_relations_detail(p_relations jsonb) RETURNS text
LANGUAGE sql STABLE AS
$$
  SELECT string_agg(format('%s %s is not in %s.%s', r->>'column', r->>'value', r->>'parent_table', r->>'parent_column'), '; ' ORDER BY n)
  FROM jsonb_array_elements(p_relations) WITH ORDINALITY AS x(r, n)
$$;

-- The sentence people read, in load_rejects.detail and in the error of a strict load.
-- (STABLE, as format() is, and no subquery in it: PostgreSQL inlines it into the
-- statement that records the rejects instead of calling it for each row, ~5 µs a row.)
CREATE OR REPLACE FUNCTION bs_reject_detail(p_reason text, p_column text, p_value text, p_first_line bigint, p_relations jsonb)
RETURNS text
LANGUAGE sql STABLE AS
$$
  SELECT CASE p_reason
    WHEN 'orphan' THEN CASE WHEN jsonb_array_length(p_relations) = 1
      THEN format('%s %s is not in %s.%s', p_relations->0->>'column', p_relations->0->>'value',
                  p_relations->0->>'parent_table', p_relations->0->>'parent_column')
      ELSE bs_reject_relations_detail(p_relations) END
    WHEN 'missing_key' THEN format('no value in key column %s', p_column)
    WHEN 'duplicate_key' THEN format('key %s appears again (first on line %s)', p_value, p_first_line)
    WHEN 'missing_natural_key' THEN format('the file has no key column and this row''s natural key (%s) is incomplete: no key can be derived', p_column)
    WHEN 'duplicate_natural_key' THEN format('natural key (%s) = (%s) appears again (first on line %s)', p_column, p_value, p_first_line)
    WHEN 'key_taken' THEN format('key %s belongs to another row of the table (another natural key), which this load keeps', p_value)
    WHEN 'bad_value' THEN format('%s %s does not fit the column''s type (the drift policy rejects such rows)', p_column, quote_literal(p_value))
  END
$$;

-- Lists as orphans the rows of table p_rows (aliased s) that match p_where and whose
-- declared relations point nowhere — the relations of warehouse table p_table whose column
-- has an expression in p_exprs (column → the SQL of its value over s) — unless listed
-- already. p_by names a row: '_line' (staged rows) or 'ctid' (rows in the table). Where
-- the reader gathered a column's distinct values (p_values: column → JSON array), only
-- those that point nowhere are looked for in the rows. One pass over the rows: a small
-- parent (a dimension, under 1 MB) is a hashed lookup in the scan's filter, cheaper per
-- row than a join (and small enough that its keys always fit the hash's memory); a big
-- parent is a hash join. Returns how many rows it listed.
CREATE OR REPLACE FUNCTION bs_reject_orphans(p_table text, p_rows text, p_by text, p_where text, p_exprs jsonb, p_values jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql AS
$$
DECLARE
  v_rel record;
  i integer := 0;
  v_expr text;
  v_vals jsonb;
  v_missing text[];
  v_cond text;
  v_joins text := '';
  v_conds text[] := '{}';
  v_faults text[] := '{}';
  n bigint;
BEGIN
  FOR v_rel IN
    SELECT r.column_name, r.parent_table, r.parent_column, c.column_type
    FROM warehouse_relations r JOIN bs_table_columns(p_table) c ON c.column_name = r.column_name
    WHERE r.table_name = p_table AND p_exprs ? r.column_name ORDER BY r.column_name
  LOOP
    i := i + 1;
    v_expr := p_exprs->>v_rel.column_name;
    v_vals := p_values->v_rel.column_name;
    IF jsonb_typeof(v_vals) = 'array' THEN
      EXECUTE format('SELECT array_agg(v::text) FROM unnest($1::%s[]) v WHERE NOT EXISTS (SELECT 1 FROM %I p WHERE p.%I = v)',
        v_rel.column_type, v_rel.parent_table, v_rel.parent_column)
        INTO v_missing USING ARRAY(SELECT jsonb_array_elements_text(v_vals));
      CONTINUE WHEN v_missing IS NULL;
      v_cond := format('(%s IN (SELECT unnest(%L::%s[])))', v_expr, v_missing, v_rel.column_type);
    ELSIF pg_relation_size(bs_table_rel(v_rel.parent_table)) < 1048576 THEN
      v_cond := format('(%1$s IS NOT NULL AND %1$s NOT IN (SELECT p.%2$I FROM %3$I p))', v_expr, v_rel.parent_column, v_rel.parent_table);
    ELSE
      v_joins := v_joins || format(' LEFT JOIN %I p%s ON p%s.%I = %s', v_rel.parent_table, i, i, v_rel.parent_column, v_expr);
      v_cond := format('(%s IS NOT NULL AND p%s.%I IS NULL)', v_expr, i, v_rel.parent_column);
    END IF;
    v_conds := v_conds || v_cond;
    v_faults := v_faults || format('CASE WHEN %s THEN jsonb_build_object(%L, %L, %L, (%s)::text, %L, %L, %L, %L) END',
      v_cond, 'column', v_rel.column_name, 'value', v_expr, 'parent_table', v_rel.parent_table, 'parent_column', v_rel.parent_column);
  END LOOP;
  IF array_length(v_conds, 1) IS NULL THEN
    RETURN 0;
  END IF;
  EXECUTE format($q$
    INSERT INTO _bs_reject_list (%1$I, reason, column_name, value, relations)
    SELECT x.row_id, 'orphan', x.faults->0->>'column', x.faults->0->>'value', x.faults
    FROM (SELECT s.%2$I AS row_id, to_jsonb(array_remove(ARRAY[%3$s], NULL)) AS faults
          FROM %4$s s %5$s
          WHERE %6$s AND (%7$s)) x
    ON CONFLICT DO NOTHING$q$,
    CASE p_by WHEN 'ctid' THEN 'id' ELSE '_line' END, p_by, array_to_string(v_faults, ', '),
    p_rows, v_joins, p_where, array_to_string(v_conds, ' OR '));
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;

-- A strict load fails at the first listed row of p_reason in the file (its line must be
-- known): the sentence and its line, DETAIL = JSON {line, column, value} for programs
-- (loader/engine/errors.ts).
CREATE OR REPLACE FUNCTION bs_reject_raise(p_reason text) RETURNS void
LANGUAGE plpgsql AS
$$
DECLARE
  r record;
  v_detail text;
BEGIN
  SELECT * INTO r FROM _bs_reject_list WHERE reason = p_reason ORDER BY _line LIMIT 1;
  v_detail := bs_reject_detail(r.reason, r.column_name, r.value, r.first_line, r.relations);
  IF p_reason = 'orphan' THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('line %s: %s', r._line, v_detail),
      DETAIL = json_build_object('line', r._line, 'column', r.column_name, 'value', r.value)::text,
      HINT = 'load the rows it points to first, or let orphans go to the rejects (the default)';
  END IF;
  RAISE EXCEPTION USING ERRCODE = '23505', MESSAGE = format('duplicate key on line %s: %s', r._line, v_detail),
    DETAIL = json_build_object('line', r._line, 'column', r.column_name, 'value', r.value)::text;
END
$$;

-- Records the listed rejects of warehouse table p_table in load_rejects, in line order:
-- each with its fields, its sentence, and its row as read from table p_rows (by p_by, as
-- bs_reject_orphans). p_options carries request_id, history_id and source. Returns how
-- many, and how many per reason.
CREATE OR REPLACE FUNCTION bs_rejects_record(p_table text, p_rows text, p_by text, p_options jsonb,
  OUT rejected bigint, OUT by_reason jsonb)
LANGUAGE plpgsql AS
$$
BEGIN
  SELECT coalesce(sum(x.n), 0), coalesce(jsonb_object_agg(x.reason, x.n), '{}') INTO rejected, by_reason
  FROM (SELECT l.reason, count(*) AS n FROM _bs_reject_list l GROUP BY l.reason) x;
  IF rejected = 0 THEN
    RETURN;
  END IF;
  EXECUTE format($q$
    INSERT INTO load_rejects (history_id, request_id, table_name, source, line, reason, detail, row_key, row_data,
                              column_name, value, parent_table, relations)
    SELECT $1, $2, $3, $4, r._line, r.reason, bs_reject_detail(r.reason, r.column_name, r.value, r.first_line, r.relations),
           CASE WHEN r.reason = 'duplicate_key' THEN r.value END, %s,
           r.column_name, r.value, r.relations->0->>'parent_table', r.relations
    FROM %s
    ORDER BY r._line$q$,
    CASE p_by WHEN 'ctid' THEN 's.row_data' ELSE 'to_jsonb(s) - ''_line''' END,
    CASE p_by
      WHEN 'ctid' THEN format('(SELECT s.ctid AS id, to_jsonb(s) AS row_data FROM %s s WHERE s.ctid = ANY (ARRAY(SELECT id FROM _bs_reject_list))) s
                               JOIN _bs_reject_list r ON r.id = s.id', p_rows)
      ELSE format('_bs_reject_list r JOIN %s s ON s._line = r._line', p_rows) END)
  USING (p_options->>'history_id')::bigint, coalesce((p_options->>'request_id')::uuid, '00000000-0000-0000-0000-000000000000'),
    p_table, p_options->>'source';
END
$$;
