-- Locks of the load requests (bs_lock). Requests on the same table (or the same table
-- and game) run one after the other; requests on different tables run in parallel. A
-- whole-table request locks its table exclusively; a game request shares the table lock
-- and locks (table, game); tables whose rows a request checks relations against are
-- locked shared. All locks are transaction-level (safe behind a transaction-mode pooler)
-- and taken in one global order, so two requests can never deadlock on them.

CREATE OR REPLACE FUNCTION bs_lock(p_tables text[], p_game_id integer DEFAULT NULL) RETURNS void
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
