-- Support tables: tracker staging, the job queue, the load history and the rejects.

-- One row per tracker export received: its rosters and game facts. The export's
-- `settings` block (it can hold credentials) is never stored.
CREATE TABLE staging_games (
  game_id integer PRIMARY KEY,
  home_team text,
  away_team text,
  rosters jsonb NOT NULL DEFAULT '{}'::jsonb,
  period_lengths jsonb,
  tracker_version text,
  exported_at timestamptz,
  received_at timestamptz NOT NULL DEFAULT now(),
  source text
);

-- Tracker events, one row per event of the export (`events[]`).
CREATE TABLE staging_events (
  event_key text PRIMARY KEY,               -- EV{game_id}{idx:05d}
  game_id integer NOT NULL,
  event_index integer NOT NULL,             -- idx
  period integer,
  event_type text,                          -- type
  team text,                                -- home | away
  zone text,
  success text,
  detail1 text,
  detail2 text,
  start_time text,                          -- mm:ss on the period clock
  end_time text,
  strength text,
  linked_event_index integer,               -- linkedEventIdx
  assist_to_goal_index integer,             -- assistToGoalIdx
  sequence_index integer,                   -- sequenceIdx
  play_index integer,                       -- playIdx
  is_highlight boolean,
  players jsonb NOT NULL DEFAULT '[]'::jsonb,
  puck_xy jsonb,
  net_xy jsonb,
  processed boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (game_id, event_index)
);
CREATE INDEX staging_events_game_id_idx ON staging_events (game_id);

-- Tracker shifts, one row per shift of the export (`shifts[]`).
CREATE TABLE staging_shifts (
  shift_key text PRIMARY KEY,               -- SH{game_id}{index:05d}
  game_id integer NOT NULL,
  shift_index integer NOT NULL,             -- 1-based position in the export
  period integer,
  start_time text,
  end_time text,
  start_type text,
  stop_type text,
  strength text,
  duration integer,
  stoppage_time integer,                    -- stoppageTime
  home jsonb,                               -- slots F1 F2 F3 D1 D2 G X → {num, name}
  away jsonb,
  processed boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (game_id, shift_index)
);
CREATE INDEX staging_shifts_game_id_idx ON staging_shifts (game_id);

-- Queued slow work: ETL runs, and loads/deletes requested from Slack.
-- Claim order: priority DESC (higher first), then requested_at, then id.
CREATE TABLE etl_queue (
  id bigserial PRIMARY KEY,
  game_id integer,
  operation text NOT NULL,                  -- process_game | load | delete_game ...
  tables text[],
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
  priority integer NOT NULL DEFAULT 5,
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 3,
  run_after timestamptz NOT NULL DEFAULT now(),
  locked_by text,
  locked_at timestamptz,
  requested_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  completed_at timestamptz,
  result jsonb,
  error_message text,
  requested_by text
);
CREATE INDEX etl_queue_status_idx ON etl_queue (status);
CREATE INDEX etl_queue_priority_idx ON etl_queue (priority DESC, requested_at);
-- At most one pending job per game and operation (and, for queued commands, per
-- command: payload.dedupe_key holds the command's normalized text).
CREATE UNIQUE INDEX etl_queue_one_pending_idx ON etl_queue (coalesce(game_id, -1), operation, coalesce(payload->>'dedupe_key', '')) WHERE status = 'pending';

-- Audit of every operation. A request has one row (table_name NULL, kind 'request')
-- and one row per table it touched (kind 'table', parent_id = the request row).
CREATE TABLE load_history (
  id bigserial PRIMARY KEY,
  request_id uuid NOT NULL,
  parent_id bigint REFERENCES load_history (id),
  kind text NOT NULL DEFAULT 'table' CHECK (kind IN ('request', 'table', 'command')),
  table_name text,
  scope text,
  operation text NOT NULL,
  game_id integer,
  source text,
  dry_run boolean NOT NULL DEFAULT false,
  rows_in_file bigint,
  rows_inserted bigint,
  rows_updated bigint,
  rows_deleted bigint,
  rows_unchanged bigint,
  rows_rejected bigint,
  rows_affected bigint,
  rejected_by_reason jsonb,
  warnings jsonb,
  started_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  duration_ms integer,
  status text NOT NULL DEFAULT 'started' CHECK (status IN ('started', 'succeeded', 'failed', 'refused')),
  error_message text,
  error_detail jsonb,
  initiated_by text NOT NULL DEFAULT 'api'
);
CREATE INDEX load_history_table_idx ON load_history (table_name);
CREATE INDEX load_history_status_idx ON load_history (status);
CREATE INDEX load_history_request_idx ON load_history (request_id);
CREATE INDEX load_history_started_idx ON load_history (started_at DESC);

-- Rows of a file that were not loaded, with the reason: nothing is dropped silently.
CREATE TABLE load_rejects (
  id bigserial PRIMARY KEY,
  history_id bigint REFERENCES load_history (id),
  request_id uuid NOT NULL,
  table_name text NOT NULL,
  source text,
  line bigint,                              -- the CSV line where the row starts
  reason text NOT NULL,                     -- duplicate_key | orphan | ...
  detail text NOT NULL,
  row_key text,
  row_data jsonb NOT NULL,                  -- the row as read: header → value
  rejected_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX load_rejects_table_idx ON load_rejects (table_name, rejected_at DESC);
CREATE INDEX load_rejects_request_idx ON load_rejects (request_id);
