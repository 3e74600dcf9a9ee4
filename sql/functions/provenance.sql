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
  n integer;
BEGIN
  IF t.game_column IS NULL OR t.category = 'dims' THEN
    RETURN 0;
  END IF;
  IF p_game_id IS NOT NULL THEN
    v_games := format('SELECT %L::integer WHERE EXISTS (SELECT 1 FROM %I WHERE %I = %L)', p_game_id, p_table, t.game_column, p_game_id);
  ELSIF p_stage IS NULL THEN
    v_games := format('SELECT DISTINCT %I FROM %I WHERE %I IS NOT NULL', t.game_column, p_table, t.game_column);
  ELSE
    -- (a stage column may be text, as the file wrote it: 18969.0)
    v_games := format($q$SELECT DISTINCT g.%1$I FROM %2$I g
      WHERE g.%1$I IN (SELECT DISTINCT regexp_replace(btrim(s.%1$I::text), '\.0+$', '')::integer FROM %3$s s
                       WHERE s.%1$I::text ~ '^\s*-?\d{1,9}(\.0+)?\s*$')$q$, t.game_column, p_table, p_stage);
  END IF;
  EXECUTE format($q$INSERT INTO etl_game_provenance (game_id, table_name, source, request_id, at)
    SELECT x.game, %L, %L, %L::uuid, now() FROM (%s) x(game)
    ON CONFLICT (game_id, table_name) DO UPDATE SET source = EXCLUDED.source, request_id = EXCLUDED.request_id, at = EXCLUDED.at$q$,
    p_table, p_source, p_request_id, v_games);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
