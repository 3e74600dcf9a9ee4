-- Which ETL produced a game's rows of a fact table (issue 22): the team's full ETL (its
-- export loaded through the engine: source 'full') or the live SQL ETL (etl_process_game:
-- source 'live'). One row per game and table, the latest load that brought the game's rows
-- of the table; `request_id` is that load's request (load_history.request_id).
-- bs_record_provenance (functions/provenance.sql) keeps it for the engine; etl_process_game
-- (functions/etl_process_game.sql) for the live ETL, which never replaces a game's rows of a
-- table whose rows the full ETL produced unless forced (its `force` argument).
CREATE TABLE etl_game_provenance (
  game_id integer NOT NULL,
  table_name text NOT NULL,
  source text NOT NULL CHECK (source IN ('full', 'live')),
  request_id uuid,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (game_id, table_name)
);

-- etl_process_game takes `force` and the run's request id now: the one-argument form goes.
DROP FUNCTION IF EXISTS etl_process_game(integer);
-- etl_process_game: the current definition is in sql/functions/etl_process_game.sql
-- bs_record_provenance: the current definition is in sql/functions/provenance.sql
