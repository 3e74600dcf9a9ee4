-- Bulk inserts without indexes. Filling an empty table with many rows is faster without
-- its indexes: one sorted build per index after the insert instead of an index entry (and
-- its WAL) per row. bs_apply (apply.sql) and bs_direct_begin (direct.sql) do that for
-- whole-table requests into empty tables. Dropping indexes needs the table's owner, so two
-- checked functions run with the owner's rights: bs_indexes_park drops a warehouse table's
-- indexes and keeps their definitions in bs_parked_indexes (no role but the owner can read
-- or write it: the definitions are executed with the owner's rights); bs_indexes_restore
-- builds them again. A deferred constraint trigger on bs_parked_indexes
-- (bs_parked_indexes_restored → bs_parked_check) refuses to commit a transaction that
-- parked indexes and did not restore them, so no table can ever be left without its
-- indexes.

-- The deferred check at commit: a parked index still waiting here was never built again.
CREATE OR REPLACE FUNCTION bs_parked_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS
$$
BEGIN
  IF EXISTS (SELECT 1 FROM bs_parked_indexes WHERE id = NEW.id) THEN
    RAISE EXCEPTION 'index % of % was dropped for a bulk insert and not built again: the transaction cannot commit',
      NEW.index_name, NEW.table_name;
  END IF;
  RETURN NULL;
END
$$;

-- Its trigger (a constraint trigger cannot be CREATE OR REPLACE: dropped and made again,
-- in the same transaction).
DROP TRIGGER IF EXISTS bs_parked_indexes_restored ON bs_parked_indexes;
CREATE CONSTRAINT TRIGGER bs_parked_indexes_restored AFTER INSERT ON bs_parked_indexes
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bs_parked_check();

-- The statements that make the indexes of table p_rel again, on table p_target (a name as
-- a statement takes it; NULL: p_rel itself, when parked; its shadow for a replace:
-- shadow.sql): a constraint's index (primary key, unique, exclusion) as its constraint,
-- then the plain indexes, each as pg_get_indexdef writes it, with the table's name changed
-- (it names the table schema-qualified; a definition that does not is left as it is).
CREATE OR REPLACE FUNCTION bs_index_statements(p_rel regclass, p_target text DEFAULT NULL)
RETURNS TABLE (index_name text, conname text, definition text)
LANGUAGE sql STABLE AS
$$
  WITH rel AS (
    SELECT format('%I.%I', n.nspname, r.relname) AS q FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace WHERE r.oid = p_rel
  )
  SELECT i.indexrelid::regclass::text, c.conname::text,
    CASE WHEN c.oid IS NOT NULL
      THEN format('ALTER TABLE %s ADD CONSTRAINT %I %s', coalesce(p_target, rel.q), c.conname, pg_get_constraintdef(c.oid))
      ELSE replace(pg_get_indexdef(i.indexrelid), format(' ON %s USING ', rel.q), format(' ON %s USING ', coalesce(p_target, rel.q))) END
  FROM rel, pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
  WHERE i.indrelid = p_rel
  ORDER BY c.oid IS NULL, i.indexrelid
$$;

-- Drops the indexes of warehouse table p_table, keeping their definitions; returns how
-- many. Nothing is dropped (0) for a caller that may not insert into the table, or
-- when an index cannot go (another object depends on it).
CREATE OR REPLACE FUNCTION bs_indexes_park(p_table text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS
$$
DECLARE
  t warehouse_tables := bs_check_table(p_table);
  -- (the table, or its shadow while a replace loads it: shadow.sql)
  v_rel regclass := bs_table_rel(t.table_name);
  r record;
  n integer := 0;
BEGIN
  -- Only for a caller that may insert into the table (its login role: inside this
  -- function the current role is the owner). Anyone else gets 0: nothing is dropped,
  -- and a load under a role switched to with SET ROLE still runs, with its indexes.
  IF NOT has_table_privilege(session_user, v_rel, 'INSERT') THEN
    RETURN 0;
  END IF;
  -- A table whose replica identity is an index would lose it with the index: leave it be.
  IF (SELECT relreplident FROM pg_class WHERE oid = v_rel) = 'i' THEN
    RETURN 0;
  END IF;
  BEGIN
    FOR r IN SELECT * FROM bs_index_statements(v_rel) LOOP
      INSERT INTO bs_parked_indexes (table_name, index_name, definition) VALUES (t.table_name, r.index_name, r.definition);
      IF r.conname IS NOT NULL THEN
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', v_rel, r.conname);
      ELSE
        EXECUTE format('DROP INDEX %s', r.index_name);
      END IF;
      n := n + 1;
    END LOOP;
  EXCEPTION WHEN dependent_objects_still_exist OR feature_not_supported THEN
    RETURN 0; -- the block's changes are undone: every index is still there
  END;
  RETURN n;
END
$$;

-- Builds again the indexes bs_indexes_park dropped from p_table in this transaction.
CREATE OR REPLACE FUNCTION bs_indexes_restore(p_table text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS
$$
DECLARE
  r record;
  n integer := 0;
BEGIN
  PERFORM set_config('maintenance_work_mem', '256MB', true);
  FOR r IN SELECT id, definition FROM bs_parked_indexes WHERE xid = txid_current() AND table_name = p_table ORDER BY id LOOP
    EXECUTE r.definition;
    DELETE FROM bs_parked_indexes WHERE id = r.id;
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;

-- Builds first, of the indexes parked for p_table in this transaction, the unique
-- constraint on exactly its key column p_key (a primary key or UNIQUE); true when it was
-- parked and is built. Built, it shows that no key repeats, and bs_apply_loaded (direct.sql)
-- does not look for repeated keys: the build is needed anyway. A key that repeats (or is
-- empty, for a primary key) fails the build: the block's changes are undone, the
-- definition stays parked, and false says to look for them.
CREATE OR REPLACE FUNCTION bs_indexes_restore_key(p_table text, p_key text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS
$$
DECLARE
  v_pk text := format(' PRIMARY KEY (%s)', quote_ident(p_key));
  v_unique text := format(' UNIQUE (%s)', quote_ident(p_key));
  r record;
BEGIN
  SELECT id, definition INTO r FROM bs_parked_indexes
  WHERE xid = txid_current() AND table_name = p_table
    AND definition LIKE 'ALTER TABLE %'
    AND (right(definition, length(v_pk)) = v_pk OR right(definition, length(v_unique)) = v_unique)
  ORDER BY id LIMIT 1;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  PERFORM set_config('maintenance_work_mem', '256MB', true);
  BEGIN
    EXECUTE r.definition;
  EXCEPTION WHEN unique_violation OR not_null_violation THEN
    RETURN false;
  END;
  DELETE FROM bs_parked_indexes WHERE id = r.id;
  RETURN true;
END
$$;
