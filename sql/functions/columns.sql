-- Columns a changed ETL export brings: added to a warehouse table when a load asks for
-- it (an explicit option), typed from the staged values, and recorded in the catalog.

-- The type a new column gets from its staged values: the narrowest that holds them all.
CREATE OR REPLACE FUNCTION bs_infer_type(p_stage regclass, p_column text) RETURNS text
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

-- Adds columns p_columns of stage p_stage to warehouse table p_table, and records each in
-- schema_changes (drift.sql: who, which file, from p_options). It runs with its owner's
-- rights (the schema's owner), so a loader role with DML only can still extend a table
-- through this one checked path.
CREATE OR REPLACE FUNCTION bs_add_columns(p_table text, p_stage regclass, p_columns text[], p_options jsonb DEFAULT '{}') RETURNS jsonb
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
    -- (a replace of this transaction loads the shadow: the column goes there, shadow.sql)
    EXECUTE format('ALTER TABLE %s ADD COLUMN %I %s', bs_table_rel(t.table_name), c, typ);
    INSERT INTO warehouse_columns (table_name, position, header, column_name, column_type, not_null)
    VALUES (t.table_name, (SELECT coalesce(max(position), 0) + 1 FROM warehouse_columns WHERE table_name = t.table_name),
            coalesce(p_options->'headers'->>c, c), c, typ, false);
    PERFORM bs_record_schema_change(t.table_name, 'add_column', c, NULL, typ,
      jsonb_build_object('header', coalesce(p_options->'headers'->>c, c)), p_options);
    added := added || jsonb_build_object('column', c, 'type', typ);
  END LOOP;
  RETURN added;
END
$$;
