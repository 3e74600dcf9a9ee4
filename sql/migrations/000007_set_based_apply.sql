-- Loads at the speed of COPY: bs_apply applies an operation to a typed stage with
-- set-based statements (sql/functions/apply.sql says how).
-- bs_apply, bs_delete_scope: the current definition is in sql/functions/apply.sql

-- ── Bulk inserts ─────────────────────────────────────────────────────────────
-- Filling an empty table with many rows is faster without its indexes: one sorted
-- build per index after the insert instead of an index entry (and its WAL) per row.
-- bs_apply does that for a whole-table request into an empty table. Dropping indexes
-- needs the table's owner, so two checked functions run with the owner's rights:
-- bs_indexes_park drops a warehouse table's indexes and keeps their definitions in
-- bs_parked_indexes (no role but the owner can read or write it: the definitions are
-- executed with the owner's rights); bs_indexes_restore builds them again. A deferred
-- trigger refuses to commit a transaction that parked indexes and did not restore
-- them, so no table can ever be left without its indexes.
CREATE TABLE bs_parked_indexes (
  id bigserial PRIMARY KEY,
  xid bigint NOT NULL DEFAULT txid_current(),
  table_name text NOT NULL,
  index_name text NOT NULL,
  definition text NOT NULL
);
COMMENT ON TABLE bs_parked_indexes IS 'BenchSight Ops: index definitions while a bulk insert runs without them (same transaction only)';
REVOKE ALL ON bs_parked_indexes FROM PUBLIC;
-- trigger bs_parked_indexes_restored: its current definition is in sql/functions/indexes.sql, beside bs_parked_check()
-- bs_parked_check, bs_indexes_park, bs_indexes_restore: the current definition is in sql/functions/indexes.sql
