-- Readers are not blocked by a whole-table replace (issue 16). A big file's table is no
-- longer TRUNCATEd (an ACCESS EXCLUSIVE lock held until the request commits: every reader
-- of the table waited for the whole load). The file is COPYed into a new table of the
-- same shape, its shadow, in schema bs_shadow, made by the request's own transaction
-- (so COPY FREEZE still applies); readers keep answering from the old rows. Just before
-- the commit the shadow takes the table's place (dropped, then moved to public), under a
-- lock held for milliseconds. bs_shadow_pending lists a transaction's shadows; a deferred
-- trigger refuses to commit one that was not swapped in, so a load can never end with its
-- rows left aside. How: sql/functions/shadow.sql.
CREATE SCHEMA IF NOT EXISTS bs_shadow;
COMMENT ON SCHEMA bs_shadow IS 'BenchSight Ops: a replace''s new table while it loads (same transaction only; empty otherwise)';
-- (a loading role reads and writes its shadows through its search_path: USAGE only, no
-- CREATE; each shadow has its table's grants, and is seen by its own transaction only)
REVOKE ALL ON SCHEMA bs_shadow FROM PUBLIC;
GRANT USAGE ON SCHEMA bs_shadow TO PUBLIC;

CREATE TABLE bs_shadow_pending (
  xid bigint NOT NULL DEFAULT txid_current(),
  table_name text NOT NULL,
  PRIMARY KEY (xid, table_name)
);
COMMENT ON TABLE bs_shadow_pending IS 'BenchSight Ops: shadows of warehouse tables still to be swapped in (same transaction only)';
REVOKE ALL ON bs_shadow_pending FROM PUBLIC;
-- trigger bs_shadow_pending_swapped: its current definition is in sql/functions/shadow.sql, beside bs_shadow_check()
-- bs_table_rel: the current definition is in sql/functions/catalog.sql
-- bs_shadow_begin, bs_shadow_swap, bs_shadow_check: the current definition is in sql/functions/shadow.sql
