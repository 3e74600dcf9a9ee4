-- Whole-table loads without a staging table: the file is COPYed straight into the
-- emptied table, and what may not stay (missing and repeated keys, rows whose relations
-- point nowhere) is taken out after, into load_rejects. The staged way (bs_apply) writes
-- every row twice: into the staging table, then into the table.
--
-- How the engine uses it (loader/engine/load.ts): bs_direct_begin(tables, park, if_empty)
-- empties the request's tables; then each file is COPYed into its table, and
-- bs_apply_loaded(table, options) takes out the rows that may not stay. A COPY the
-- database refuses (a duplicate key while the key's index is there, an empty key, a value
-- too long) fails the transaction: the engine rolls the request back and runs it again
-- with that file read the staged way (bs_apply, into the emptied table), which finds and
-- reports those rows as always. (No savepoint per file: FREEZE needs the TRUNCATE in the
-- same subtransaction.)
--
-- Lines. The rows have no _line column here. Two ways to tell a row's CSV line:
-- * In a table emptied by TRUNCATE, a row's place in the file is its place in the table:
--   TRUNCATE gives the table a new, empty file, and COPY into a table emptied in the
--   same transaction does not look for free space (TABLE_INSERT_SKIP_FSM): every row
--   goes after the one before, so ordering by ctid gives the file's record order. The
--   reader sends where records start on another line than the count says (multi-line
--   records, skipped blank lines) as `lines`: {"base": header lines, "breaks": [[record,
--   line - record], ...]}; bs_record_lines turns record numbers into CSV lines.
-- * In a table emptied by DELETE, rows may fill free space anywhere; but its unique
--   index made COPY refuse a repeated or empty key, so each row's key names its record:
--   the reader sends `lines`: {"by_key": {"<key>": line, ...}} (small files only).

-- Empties warehouse tables p_tables for a direct load. Two ways:
-- * the tables of p_park (big files) are replaced by their shadows (shadow.sql): new, empty
--   tables without indexes (built after the COPY), which the request's statements name
--   from here on (bs_shadow first on the search_path), swapped in just before the commit.
--   Readers keep reading the old rows meanwhile. New, empty files: the COPY puts rows in
--   file order ("ordered": lines come from ctid order, see above). A table that cannot
--   have a shadow loses its indexes (parked: indexes.sql) and is emptied with one TRUNCATE
--   for all such tables (its readers wait for the commit);
-- * the others are emptied with DELETE: no new files to make (TRUNCATE makes one per
--   table, toast table and index, and syncs each new index to disk: measured, that cost
--   more than it saved for small tables), and readers still see the old rows until the
--   request commits. Rows may then land anywhere in the table: their lines come from
--   their keys (the reader sends each key's line). That needs a key COPY cannot repeat
--   or leave empty: a unique index on the key, NOT NULL; a table without is TRUNCATEd.
-- The tables of p_if_empty (loaded by append, upsert or merge) are taken only when they
-- have no rows: into an empty table those operations insert every row, as replace does.
-- Returns {"<table>": {"deleted": n, "parked": n, "ordered": bool}} for the tables it
-- emptied. It leaves alone a table the caller may not TRUNCATE or INSERT into, one a
-- foreign key points at, and one row-level security applies to for the caller (COPY
-- FROM refuses that): those load the staged way.
CREATE OR REPLACE FUNCTION bs_direct_begin(p_tables text[], p_park text[] DEFAULT '{}', p_if_empty text[] DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql AS
$$
DECLARE
  v_name text;
  t warehouse_tables;
  v_rel regclass;
  v_ordered boolean;
  v_truncate text[] := '{}';
  v_out jsonb := '{}';
  v_full boolean;
  v_parked integer;
  n bigint;
BEGIN
  FOREACH v_name IN ARRAY p_tables LOOP
    t := bs_check_table(v_name);
    v_rel := format('public.%I', t.table_name)::regclass;
    CONTINUE WHEN array_length(t.key_columns, 1) <> 1
      OR NOT has_table_privilege(v_rel, 'TRUNCATE') OR NOT has_table_privilege(v_rel, 'INSERT')
      OR row_security_active(v_rel)
      OR EXISTS (SELECT 1 FROM pg_constraint WHERE confrelid = v_rel AND contype = 'f');
    v_ordered := t.table_name = ANY (p_park) OR NOT EXISTS (
      SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
      WHERE i.indrelid = v_rel AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL
        AND a.attname = t.key_columns[1] AND a.attnotnull);
    IF t.table_name = ANY (p_if_empty) THEN
      -- Empty, and still empty once nobody else may write to it (a table with rows is
      -- left alone, without the lock, unless it filled in between: rare).
      EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', t.table_name) INTO v_full;
      CONTINUE WHEN v_full;
      -- (writers wait; readers go on)
      EXECUTE format('LOCK TABLE %I IN %s MODE', t.table_name, CASE WHEN v_ordered THEN 'EXCLUSIVE' ELSE 'SHARE ROW EXCLUSIVE' END);
      EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', t.table_name) INTO v_full;
      CONTINUE WHEN v_full;
    END IF;
    IF v_ordered THEN
      EXECUTE format('SELECT count(*) FROM %I', t.table_name) INTO n;
      v_parked := bs_shadow_begin(t.table_name, true);
      IF v_parked IS NOT NULL THEN
        PERFORM bs_shadow_use(t.table_name);
        v_out := v_out || jsonb_build_object(t.table_name, jsonb_build_object('deleted', n, 'parked', v_parked, 'ordered', true, 'shadow', true));
        CONTINUE;
      END IF;
      v_truncate := v_truncate || t.table_name;
    ELSE
      EXECUTE format('DELETE FROM %I', t.table_name);
      GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    v_out := v_out || jsonb_build_object(t.table_name, jsonb_build_object('deleted', n, 'parked', 0, 'ordered', v_ordered));
  END LOOP;
  -- Indexes are parked first: TRUNCATE builds every index of a table again, empty (and
  -- makes each index's new file durable at once, an fsync each).
  FOREACH v_name IN ARRAY v_truncate LOOP
    IF v_name = ANY (p_park) THEN
      v_out := jsonb_set(v_out, ARRAY[v_name, 'parked'], to_jsonb(bs_indexes_park(v_name)));
    END IF;
  END LOOP;
  IF array_length(v_truncate, 1) > 0 THEN
    EXECUTE format('TRUNCATE %s', (SELECT string_agg(quote_ident(x), ', ') FROM unnest(v_truncate) x));
  END IF;
  RETURN v_out;
END
$$;

-- The CSV lines of records p_records (1 = the first row after the header), from the
-- reader's `lines` (see above). One merge of the two sorted lists.
CREATE OR REPLACE FUNCTION bs_record_lines(p_records bigint[], p_lines jsonb) RETURNS TABLE (record bigint, line bigint)
LANGUAGE sql STABLE AS
$$
  WITH points AS (
    SELECT (b->>0)::bigint AS pos, 0 AS kind, (b->>1)::bigint AS shift
    FROM jsonb_array_elements(coalesce(p_lines->'breaks', '[]')) b
    UNION ALL
    SELECT r, 1, NULL FROM unnest(p_records) r
  ), grouped AS (
    SELECT pos, kind, shift, count(shift) OVER (ORDER BY pos, kind) AS grp FROM points
  ), shifted AS (
    -- (a break and its record share pos: the break sorts first, kind 0)
    SELECT pos, kind, max(shift) OVER (PARTITION BY grp) AS shift FROM grouped
  )
  SELECT pos, pos + coalesce(shift, (p_lines->>'base')::bigint, 1) FROM shifted WHERE kind = 1
$$;

-- After COPY put a file's rows into table p_table (emptied by bs_direct_begin; any
-- operation: into an empty table, each inserts the file's rows): rows with no key,
-- repeated keys (the first occurrence stays) and rows whose relations point nowhere go to
-- load_rejects with their CSV line and reason, or fail the request (p_options
-- {"duplicates": "fail"} / {"orphans": "fail"}), as bs_apply does (rejects.sql); then
-- parked indexes are built again. p_options: file_rows, keys_missing, keys_unique (what
-- the reader saw), lines, values (the distinct values of relation columns), parked,
-- request_id, history_id, source. Returns bs_apply's counts.
CREATE OR REPLACE FUNCTION bs_apply_loaded(p_table text, p_options jsonb) RETURNS jsonb
LANGUAGE plpgsql AS
$$
DECLARE
  t warehouse_tables := bs_check_table(p_table);
  v_key text := t.key_columns[1];
  v_rows bigint := (p_options->>'file_rows')::bigint;
  v_lines jsonb := coalesce(p_options->'lines', '{"base": 1}');
  v_parked boolean := coalesce((p_options->>'parked')::integer, 0) > 0;
  v_n bigint;
  v_rejected bigint;
  v_by_reason jsonb;
BEGIN
  PERFORM bs_rejects_start();

  -- Rows without a key: looked for only in a table whose key may be empty (COPY refused
  -- an empty key into a NOT NULL column: the file was read again the staged way). A table
  -- emptied with DELETE kept its unique index on the key: COPY refused any repeated or
  -- empty key there, so neither is looked for.
  IF v_lines ? 'by_key' THEN
    NULL;
  ELSIF coalesce((p_options->>'keys_missing')::bigint, 1) > 0
    AND NOT (SELECT a.attnotnull FROM pg_attribute a WHERE a.attrelid = bs_table_rel(p_table) AND a.attname = v_key) THEN
    EXECUTE format($q$INSERT INTO _bs_reject_list (id, reason, column_name)
      SELECT s.ctid, 'missing_key', %L FROM %I s WHERE s.%I IS NULL$q$,
      v_key, p_table, v_key);
  END IF;
  -- Repeated keys: every occurrence after the first. Not looked for when the reader saw
  -- keys only go up, nor when the key's unique index, parked for the COPY, builds: it
  -- would refuse a key that repeats (bs_indexes_restore_key; the build is due anyway, and
  -- costs less than the search).
  IF NOT coalesce((p_options->>'keys_unique')::boolean, false) AND NOT v_lines ? 'by_key'
    AND NOT (v_parked AND bs_indexes_restore_key(p_table, v_key)) THEN
    EXECUTE format($q$
      INSERT INTO _bs_reject_list (id, reason, column_name, value, first_id)
      SELECT x.id, 'duplicate_key', %1$L, x.k::text, x.first_id
      FROM (SELECT s.ctid AS id, s.%1$I AS k, min(s.ctid) OVER (PARTITION BY s.%1$I) AS first_id
            FROM %2$I s WHERE s.%1$I IN (SELECT d.%1$I FROM %2$I d GROUP BY 1 HAVING count(*) > 1)) x
      WHERE x.id <> x.first_id$q$, v_key, p_table);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n > 0 AND p_options->>'duplicates' = 'fail' THEN
      PERFORM bs_loaded_reject_lines(p_table, v_lines);
      PERFORM bs_reject_raise('duplicate_key');
    END IF;
  END IF;

  -- Relations that point nowhere, over the table itself. Where the reader gathered a
  -- column's distinct values (p_options.values), each value is looked up once, and the
  -- table is read again only for the values that point nowhere.
  v_n := bs_reject_orphans(p_table, format('%I', p_table), 'ctid', 'true',
    (SELECT jsonb_object_agg(c.column_name, format('s.%I', c.column_name)) FROM bs_table_columns(p_table) c),
    coalesce(p_options->'values', '{}'));
  IF v_n > 0 AND p_options->>'orphans' = 'fail' THEN
    PERFORM bs_loaded_reject_lines(p_table, v_lines);
    PERFORM bs_reject_raise('orphan');
  END IF;

  -- The rejected rows: their lines, then recorded (fetched by ctid) and taken out.
  IF EXISTS (SELECT 1 FROM _bs_reject_list) THEN
    PERFORM bs_loaded_reject_lines(p_table, v_lines);
  END IF;
  SELECT * INTO v_rejected, v_by_reason FROM bs_rejects_record(p_table, format('%I', p_table), 'ctid', p_options);
  IF v_rejected > 0 THEN
    EXECUTE format('DELETE FROM %I s WHERE s.ctid = ANY (ARRAY(SELECT id FROM _bs_reject_list))', p_table);
  END IF;

  IF v_parked THEN
    PERFORM bs_indexes_restore(p_table);
  END IF;

  RETURN jsonb_build_object(
    'table', p_table, 'operation', coalesce(p_options->>'operation', 'replace'), 'game_id', NULL,
    'rows_in_file', v_rows, 'out_of_scope', 0,
    'inserted', v_rows - v_rejected, 'updated', 0, 'deleted', 0, 'unchanged', 0,
    'rejected', v_rejected, 'rejected_by_reason', v_by_reason, 'warnings', '[]'::jsonb);
END
$$;

-- The CSV lines of the listed rejects of p_table (rejects.sql), and for a repeated key the
-- line of its first occurrence: one numbering of the table (bs_loaded_lines).
CREATE OR REPLACE FUNCTION bs_loaded_reject_lines(p_table text, p_lines jsonb) RETURNS void
LANGUAGE plpgsql AS
$$
BEGIN
  WITH l AS MATERIALIZED (
    SELECT * FROM bs_loaded_lines(p_table,
      ARRAY(SELECT id FROM _bs_reject_list UNION SELECT first_id FROM _bs_reject_list WHERE first_id IS NOT NULL), p_lines)
  )
  UPDATE _bs_reject_list r SET _line = x.line, first_line = x.first_line
  FROM (SELECT r2.id, l1.line, l2.line AS first_line
        FROM _bs_reject_list r2 JOIN l l1 ON l1.id = r2.id LEFT JOIN l l2 ON l2.id = r2.first_id) x
  WHERE x.id = r.id;
END
$$;

-- The CSV lines of rows p_ids of p_table, loaded directly (see "Lines" above):
-- from their keys when the reader sent each key's line (p_lines.by_key), else from
-- their place in ctid order: a row's record number is how many rows come up to it, counted
-- between one listed row and the next (TID range scans: the table is read once, up to the
-- last listed row, and only counted: no sort, no numbering of every row).
CREATE OR REPLACE FUNCTION bs_loaded_lines(p_table text, p_ids tid[], p_lines jsonb) RETURNS TABLE (id tid, line bigint)
LANGUAGE plpgsql STABLE AS
$$
DECLARE
  t warehouse_tables := bs_check_table(p_table);
BEGIN
  IF p_lines ? 'by_key' THEN
    RETURN QUERY EXECUTE format('SELECT s.ctid, ($2->>(s.%I::text))::bigint FROM %I s WHERE s.ctid = ANY ($1)',
      t.key_columns[1], t.table_name) USING p_ids, p_lines->'by_key';
    RETURN;
  END IF;
  RETURN QUERY EXECUTE format($q$
    WITH listed AS (
      SELECT w.id, lag(w.id) OVER (ORDER BY w.id) AS prev FROM (SELECT DISTINCT x AS id FROM unnest($1) x) w
    ), numbered AS (
      SELECT listed.id, (sum(c.n) OVER (ORDER BY listed.id))::bigint AS n
      FROM listed, LATERAL (SELECT count(*) AS n FROM %I s WHERE s.ctid > coalesce(listed.prev, '(0,0)') AND s.ctid <= listed.id) c
    )
    SELECT numbered.id, l.line FROM numbered JOIN bs_record_lines(ARRAY(SELECT n FROM numbered), $2) l ON l.record = numbered.n$q$,
    t.table_name) USING p_ids, p_lines;
END
$$;
