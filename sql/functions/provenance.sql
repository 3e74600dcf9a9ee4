-- Which ETL produced a game's rows (etl_game_provenance, migration 000017).
--
-- bs_record_provenance: after a file's rows are applied to a fact table (loader/engine/apply.ts,
-- the one place where the engine writes a table's rows), the games whose rows the file
-- brought are recorded as produced by `p_source` ('full': the team's ETL export), in one
-- statement. A load of one game records that game when the table has rows of it; a load of
-- the whole table records the games of its file (read from the stage `p_stage`; with no
-- stage, the file went straight into the emptied table: every game the table has). A dim
-- table (dim_schedule has a game column) or a table without a game column records nothing. Returns how many games were recorded.
CREATE OR REPLACE FUNCTION bs_record_provenance(p_table text, p_game_id integer, p_source text, p_request_id uuid, p_stage regclass DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql AS
$$
DECLARE
  t warehouse_tables := bs_check_table(p_table);
  v_games text;
  v_indexed boolean;
  n integer;
BEGIN
  IF t.game_column IS NULL OR t.category = 'dims' THEN
    RETURN 0;
  END IF;
  IF p_game_id IS NOT NULL THEN
    v_games := format('SELECT %L::integer WHERE EXISTS (SELECT 1 FROM %I WHERE %I = %L)', p_game_id, p_table, t.game_column, p_game_id);
  ELSIF p_stage IS NULL THEN
    -- The table's games: one probe per game down a btree index that starts with the game
    -- column (a fact table's natural key does), else one pass over the table.
    v_indexed := EXISTS (
      SELECT 1 FROM pg_index i
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
      JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
      WHERE i.indrelid = bs_table_rel(p_table) AND a.attname = t.game_column AND am.amname = 'btree'
        AND i.indisvalid AND i.indpred IS NULL);
    IF v_indexed THEN
      v_games := format($q$WITH RECURSIVE g(v) AS (
          SELECT min(%1$I) FROM %2$I
          UNION ALL
          SELECT (SELECT min(x.%1$I) FROM %2$I x WHERE x.%1$I > g.v) FROM g WHERE g.v IS NOT NULL)
        SELECT v FROM g WHERE v IS NOT NULL$q$, t.game_column, p_table);
    ELSE
      v_games := format('SELECT DISTINCT %I FROM %I WHERE %I IS NOT NULL', t.game_column, p_table, t.game_column);
    END IF;
  ELSE
    -- The stage's distinct values first (a stage column may be text, as the file wrote
    -- it: 18969.0; the test and the cast then run once per value, not per row: OFFSET 0
    -- keeps the planner from pushing them into the scan), then those games the table has
    -- rows of.
    v_games := format($q$SELECT c.game FROM (
        SELECT DISTINCT regexp_replace(btrim(d.v), '\.0+$', '')::integer AS game
        FROM (SELECT DISTINCT s.%1$I::text AS v FROM %3$s s OFFSET 0) d
        WHERE d.v ~ '^\s*-?\d{1,9}(\.0+)?\s*$') c
      WHERE EXISTS (SELECT 1 FROM %2$I g WHERE g.%1$I = c.game)$q$, t.game_column, p_table, p_stage);
  END IF;
  EXECUTE format($q$INSERT INTO etl_game_provenance (game_id, table_name, source, request_id, at)
    SELECT x.game, %L, %L, %L::uuid, now() FROM (%s) x(game)
    ON CONFLICT (game_id, table_name) DO UPDATE SET source = EXCLUDED.source, request_id = EXCLUDED.request_id, at = EXCLUDED.at$q$,
    p_table, p_source, p_request_id, v_games);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
