-- Exports that change (sql/README.md, "Exports that change"): the natural key of every
-- warehouse table (its logical identity, whatever its surrogate key looks like), how a
-- surrogate key is derived when a file has none, the other names a column has gone by, and
-- the record of every schema change a load applies. The catalog rows below are generated
-- from the declaration (loader/warehouse: catalogKeysSql); `benchsight schema diff` prints
-- the migration for a later change of it.

-- (A table whose natural_key is NULL is known by its key: bs_check_table says so.)
ALTER TABLE warehouse_tables
  ADD COLUMN natural_key text[],
  ADD COLUMN natural_key_nullable text[] NOT NULL DEFAULT '{}',
  ADD COLUMN key_rule text;

-- Another name of a column (a column name, by the header rule) → the column it means.
CREATE TABLE warehouse_column_aliases (
  table_name text NOT NULL REFERENCES warehouse_tables,
  alias text NOT NULL,
  column_name text NOT NULL,
  PRIMARY KEY (table_name, alias)
);

UPDATE warehouse_tables SET natural_key = ARRAY['player_id']::text[], natural_key_nullable = '{}'::text[], key_rule = NULL WHERE table_name = 'dim_player';
UPDATE warehouse_tables SET natural_key = ARRAY['team_id']::text[], natural_key_nullable = '{}'::text[], key_rule = NULL WHERE table_name = 'dim_team';
UPDATE warehouse_tables SET natural_key = ARRAY['game_id']::text[], natural_key_nullable = '{}'::text[], key_rule = NULL WHERE table_name = 'dim_schedule';
INSERT INTO warehouse_column_aliases (table_name, alias, column_name) VALUES ('dim_schedule', 'game_date_str', 'date');
UPDATE warehouse_tables SET natural_key = ARRAY['game_id', 'shift_index']::text[], natural_key_nullable = '{}'::text[], key_rule = 'SH{game_id}{shift_index:05}' WHERE table_name = 'fact_shifts';
UPDATE warehouse_tables SET natural_key = ARRAY['game_id', 'event_index']::text[], natural_key_nullable = '{}'::text[], key_rule = 'EV{game_id}{event_index:05}' WHERE table_name = 'fact_events';
UPDATE warehouse_tables SET natural_key = ARRAY['game_id', 'event_index', 'player_role']::text[], natural_key_nullable = ARRAY['player_role']::text[], key_rule = 'EP{game_id}_{event_index}_{player_role}' WHERE table_name = 'fact_events_player';
UPDATE warehouse_tables SET natural_key = ARRAY['game_id', 'shift_index', 'venue', 'slot']::text[], natural_key_nullable = '{}'::text[], key_rule = 'SP{game_id}_{shift_index}_{venue}_{slot}' WHERE table_name = 'fact_shifts_player';
UPDATE warehouse_tables SET natural_key = ARRAY['game_id', 'player_id']::text[], natural_key_nullable = '{}'::text[], key_rule = 'PG{game_id}_{player_id}' WHERE table_name = 'fact_player_game_stats';
UPDATE warehouse_tables SET natural_key = ARRAY['game_id', 'team_id']::text[], natural_key_nullable = '{}'::text[], key_rule = 'TG{game_id}_{team_id}' WHERE table_name = 'fact_team_game_stats';
UPDATE warehouse_tables SET natural_key = ARRAY['game_id', 'player_id']::text[], natural_key_nullable = '{}'::text[], key_rule = 'GK{game_id}_{player_id}' WHERE table_name = 'fact_goalie_game_stats';
UPDATE warehouse_tables SET natural_key = ARRAY['game_id', 'player_1_id', 'player_2_id']::text[], natural_key_nullable = '{}'::text[], key_rule = 'HH{game_id}_{player_1_id}_{player_2_id}' WHERE table_name = 'fact_h2h';
UPDATE warehouse_tables SET natural_key = ARRAY['game_id', 'player_1_id', 'player_2_id']::text[], natural_key_nullable = '{}'::text[], key_rule = 'WY{game_id}_{player_1_id}_{player_2_id}' WHERE table_name = 'fact_wowy';
INSERT INTO warehouse_column_aliases (table_name, alias, column_name) VALUES ('fact_wowy', 'total_p1_shifts', 'p1_logical_shifts'), ('fact_wowy', 'total_p2_shifts', 'p2_logical_shifts');

-- Every change a load made to the schema: a column added, a column widened, a natural key
-- extended. Who, when, which file, what changed. `benchsight schema changes` shows them.
CREATE TABLE schema_changes (
  id bigserial PRIMARY KEY,
  changed_at timestamptz NOT NULL DEFAULT now(),
  changed_by text NOT NULL,
  table_name text NOT NULL,
  change text NOT NULL CHECK (change IN ('add_column', 'widen_column', 'natural_key')),
  column_name text,
  old_type text,
  new_type text,
  detail jsonb NOT NULL DEFAULT '{}'::jsonb,
  source text,
  request_id uuid,
  history_id bigint
);
CREATE INDEX schema_changes_table_idx ON schema_changes (table_name, changed_at DESC);

-- The natural keys, held by the database: a unique index on each (a part that may be empty
-- as coalesce(part, '')). Each leads with game_id, so it serves the game scope too, and the
-- game_id index goes. A database whose rows already repeat a natural key keeps its game_id
-- index and gets no natural-key index (a warning says so); `benchsight schema diff` tells.
DO $$
DECLARE
  t record;
  dup boolean;
BEGIN
  FOR t IN SELECT * FROM (VALUES
    ('fact_shifts', 'game_id, shift_index', 'game_id IS NOT NULL AND shift_index IS NOT NULL'),
    ('fact_events', 'game_id, event_index', 'game_id IS NOT NULL AND event_index IS NOT NULL'),
    ('fact_events_player', 'game_id, event_index, coalesce(player_role, '''')', 'game_id IS NOT NULL AND event_index IS NOT NULL'),
    ('fact_shifts_player', 'game_id, shift_index, venue, slot', 'game_id IS NOT NULL AND shift_index IS NOT NULL AND venue IS NOT NULL AND slot IS NOT NULL'),
    ('fact_player_game_stats', 'game_id, player_id', 'game_id IS NOT NULL AND player_id IS NOT NULL'),
    ('fact_team_game_stats', 'game_id, team_id', 'game_id IS NOT NULL AND team_id IS NOT NULL'),
    ('fact_goalie_game_stats', 'game_id, player_id', 'game_id IS NOT NULL AND player_id IS NOT NULL'),
    ('fact_h2h', 'game_id, player_1_id, player_2_id', 'game_id IS NOT NULL AND player_1_id IS NOT NULL AND player_2_id IS NOT NULL'),
    ('fact_wowy', 'game_id, player_1_id, player_2_id', 'game_id IS NOT NULL AND player_1_id IS NOT NULL AND player_2_id IS NOT NULL')
  ) AS v (table_name, index_columns, complete)
  LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %s GROUP BY %s HAVING count(*) > 1)', t.table_name, t.complete, t.index_columns) INTO dup;
    IF dup THEN
      RAISE WARNING '%: rows repeat its natural key (%): its natural-key index is not made; reload the table (replace), then run benchsight schema diff',
        t.table_name, t.index_columns;
    ELSE
      EXECUTE format('CREATE UNIQUE INDEX %I ON %I (%s)', t.table_name || '_natural_key', t.table_name, t.index_columns);
      EXECUTE format('DROP INDEX IF EXISTS %I', t.table_name || '_game_id_idx');
    END IF;
  END LOOP;
END
$$;

-- bs_add_columns records what it adds (functions/columns.sql): a new argument.
DROP FUNCTION IF EXISTS bs_add_columns(text, regclass, text[]);
