-- Whole-table replaces that readers do not wait for (migration 000018). Emptying a table
-- with TRUNCATE takes an ACCESS EXCLUSIVE lock until the request commits: a dashboard's
-- SELECT on the table waited for the whole load (seconds at scale). Instead:
--
-- 1. bs_shadow_begin(table) makes the table's shadow, bs_shadow.<table>: a new, empty table
--    of the same shape (columns, defaults, checks, grants, row-level security and its
--    policies, comments, options), in the request's transaction, with the table locked
--    against writers only (EXCLUSIVE: readers go on). Its indexes are built at once, or
--    kept to be built after the COPY (bs_parked_indexes, as bs_indexes_park does).
--    bs_shadow comes first on the transaction's search_path from then on (the caller sets
--    it: see bs_direct_begin), so every statement of the request that names the table,
--    COPY, checks, rejects, the data-quality rules, reads and writes the shadow; and
--    bs_table_rel(table) names it for the functions that run with a fixed search_path.
--    Made in this transaction, the shadow takes COPY ... FREEZE as a TRUNCATEd table does.
-- 2. bs_shadow_swap(), the request's last statement before its commit, puts each shadow in
--    its table's place: the table is locked (tries of 50 ms, with readers let through in
--    between), dropped, and the shadow moved to public (its indexes and constraints with
--    it; its publications are given back). Readers wait only for that and the commit.
--
-- A table the shadow cannot stand in for (something depends on it: a view, a foreign key,
-- a trigger, a rule, a function of its row type; an identity or serial column; column
-- grants; inheritance or partitions; a replica identity on an index; another owner than
-- the migrator; a publication with a column list or a row filter) gets NULL from
-- bs_shadow_begin, and is emptied the old way (TRUNCATE: its readers wait).
-- An uncommitted shadow is seen by its own transaction only: two requests never see each
-- other's (and requests on one table run one after the other anyway: bs_lock).

-- The deferred check at commit: a shadow still pending here was never swapped in.
CREATE OR REPLACE FUNCTION bs_shadow_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS
$$
BEGIN
  IF EXISTS (SELECT 1 FROM bs_shadow_pending WHERE xid = NEW.xid AND table_name = NEW.table_name) THEN
    RAISE EXCEPTION 'the new rows of % were loaded beside the table and never swapped in: the transaction cannot commit',
      NEW.table_name;
  END IF;
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS bs_shadow_pending_swapped ON bs_shadow_pending;
CREATE CONSTRAINT TRIGGER bs_shadow_pending_swapped AFTER INSERT ON bs_shadow_pending
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bs_shadow_check();

-- Makes the shadow of warehouse table p_table (see above). p_park: keep its indexes to be
-- built after the load (bs_indexes_restore; returns how many), else build them now, on the
-- empty shadow (returns 0). NULL: no shadow (the caller empties the table itself). Runs
-- with the owner's rights (the shadow must be the owner's, as the table is), for a caller
-- whose login role may empty the table (TRUNCATE) and insert into it.
CREATE OR REPLACE FUNCTION bs_shadow_begin(p_table text, p_park boolean DEFAULT true) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS
$$
DECLARE
  t warehouse_tables := bs_check_table(p_table);
  v_rel regclass := format('public.%I', t.table_name)::regclass;
  v_shadow text := format('bs_shadow.%I', t.table_name);
  c pg_class;
  r record;
  v_defs text[] := '{}';
  v_names text[] := '{}';
  i integer;
BEGIN
  IF EXISTS (SELECT 1 FROM bs_shadow_pending WHERE xid = txid_current() AND table_name = t.table_name) THEN
    RAISE EXCEPTION 'the shadow of % was made already in this transaction', t.table_name;
  END IF;
  SELECT * INTO c FROM pg_class WHERE oid = v_rel;
  IF NOT has_table_privilege(session_user, v_rel, 'TRUNCATE') OR NOT has_table_privilege(session_user, v_rel, 'INSERT')
     OR c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
     OR c.relkind <> 'r' OR c.relispartition OR c.relhassubclass OR c.relreplident = 'i'
     OR EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = v_rel OR inhparent = v_rel)
     OR EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = v_rel AND NOT tgisinternal)
     OR EXISTS (SELECT 1 FROM pg_rewrite WHERE ev_class = v_rel)
     OR EXISTS (SELECT 1 FROM pg_constraint WHERE (conrelid = v_rel OR confrelid = v_rel) AND contype = 'f')
     OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = v_rel AND a.attnum > 0 AND NOT a.attisdropped
                  AND (a.attacl IS NOT NULL OR a.attidentity <> ''))
     OR EXISTS (SELECT 1 FROM pg_attrdef d WHERE d.adrelid = v_rel AND pg_get_expr(d.adbin, d.adrelid) ~* 'nextval')
     -- (views, rules, functions of its row type or of its array type: what the table's drop would take along)
     OR EXISTS (SELECT 1 FROM pg_depend d WHERE d.deptype = 'n' AND (
                  (d.refclassid = 'pg_class'::regclass AND d.refobjid = v_rel)
                  OR (d.refclassid = 'pg_type'::regclass AND d.refobjid IN (c.reltype, (SELECT typarray FROM pg_type WHERE oid = c.reltype)))))
     OR EXISTS (SELECT 1 FROM pg_publication_rel pr WHERE pr.prrelid = v_rel AND (pr.prqual IS NOT NULL OR pr.prattrs IS NOT NULL))
  THEN
    RETURN NULL;
  END IF;
  -- Its indexes and constraints, as statements for the shadow.
  FOR r IN SELECT * FROM bs_index_statements(v_rel, v_shadow) LOOP
    IF r.conname IS NULL AND position(format(' ON %s USING ', v_shadow) IN r.definition) = 0 THEN
      RETURN NULL;  -- (an index definition not as expected: the old way)
    END IF;
    v_defs := v_defs || r.definition;
    v_names := v_names || coalesce(r.conname, r.index_name);
  END LOOP;

  -- Writers wait for the commit; readers go on reading the old rows.
  EXECUTE format('LOCK TABLE public.%I IN EXCLUSIVE MODE', t.table_name);
  EXECUTE format('CREATE %sTABLE %s (LIKE public.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS INCLUDING STATISTICS)%s',
    CASE WHEN c.relpersistence = 'u' THEN 'UNLOGGED ' ELSE '' END, v_shadow, t.table_name,
    CASE WHEN c.reloptions IS NOT NULL THEN format(' WITH (%s)', array_to_string(c.reloptions, ', ')) ELSE '' END);
  INSERT INTO bs_shadow_pending (table_name) VALUES (t.table_name);

  -- The table's grants exactly (the shadow may have got default privileges of its own).
  FOR r IN
    SELECT DISTINCT a.grantee FROM pg_class s, aclexplode(s.relacl) a
    WHERE s.oid = v_shadow::regclass AND a.grantee <> s.relowner
  LOOP
    EXECUTE format('REVOKE ALL ON %s FROM %s', v_shadow, CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE r.grantee::regrole::text END);
  END LOOP;
  FOR r IN SELECT a.grantee, a.privilege_type, a.is_grantable FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner LOOP
    EXECUTE format('GRANT %s ON %s TO %s%s', r.privilege_type, v_shadow,
      CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE r.grantee::regrole::text END,
      CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
  END LOOP;
  IF c.relrowsecurity THEN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', v_shadow);
  END IF;
  IF c.relforcerowsecurity THEN
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', v_shadow);
  END IF;
  FOR r IN SELECT * FROM pg_policies WHERE schemaname = 'public' AND tablename = t.table_name LOOP
    EXECUTE format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s', r.policyname, v_shadow, r.permissive, r.cmd,
      (SELECT string_agg(CASE WHEN x = 'public' THEN 'PUBLIC' ELSE quote_ident(x) END, ', ') FROM unnest(r.roles) x),
      CASE WHEN r.qual IS NOT NULL THEN format(' USING (%s)', r.qual) ELSE '' END,
      CASE WHEN r.with_check IS NOT NULL THEN format(' WITH CHECK (%s)', r.with_check) ELSE '' END);
  END LOOP;
  IF c.relreplident IN ('f', 'n') THEN
    EXECUTE format('ALTER TABLE %s REPLICA IDENTITY %s', v_shadow, CASE c.relreplident WHEN 'f' THEN 'FULL' ELSE 'NOTHING' END);
  END IF;
  IF obj_description(v_rel, 'pg_class') IS NOT NULL THEN
    EXECUTE format('COMMENT ON TABLE %s IS %L', v_shadow, obj_description(v_rel, 'pg_class'));
  END IF;

  IF NOT p_park THEN
    FOR i IN 1 .. coalesce(array_length(v_defs, 1), 0) LOOP
      EXECUTE v_defs[i];
    END LOOP;
    RETURN 0;
  END IF;
  FOR i IN 1 .. coalesce(array_length(v_defs, 1), 0) LOOP
    INSERT INTO bs_parked_indexes (table_name, index_name, definition) VALUES (t.table_name, v_names[i], v_defs[i]);
  END LOOP;
  RETURN coalesce(array_length(v_defs, 1), 0);
END
$$;

-- Puts every shadow of this transaction in its table's place (see above); the request's
-- last statement before its commit. Returns how many. Waits for the tables' readers in
-- tries of 50 ms (lock_timeout), sleeping between tries so that the readers queued behind
-- the lock's request get through; after 30 s of tries it waits its turn like any lock.
CREATE OR REPLACE FUNCTION bs_shadow_swap() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS
$$
DECLARE
  v_tables text[];
  v_name text;
  v_pubs text[];
  v_pub text;
  v_timeout text := current_setting('lock_timeout');
  v_deadline timestamptz := clock_timestamp() + interval '30 seconds';
  v_locked boolean := false;
BEGIN
  SELECT array_agg(table_name ORDER BY table_name) INTO v_tables FROM bs_shadow_pending WHERE xid = txid_current();
  IF v_tables IS NULL THEN
    RETURN 0;
  END IF;
  IF EXISTS (SELECT 1 FROM bs_parked_indexes WHERE xid = txid_current() AND table_name = ANY (v_tables)) THEN
    RAISE EXCEPTION 'a shadow''s indexes were never built: %',
      (SELECT string_agg(DISTINCT table_name, ', ') FROM bs_parked_indexes WHERE xid = txid_current() AND table_name = ANY (v_tables));
  END IF;
  -- Every table at once: a try that times out lets go of the locks it took.
  WHILE NOT v_locked LOOP
    BEGIN
      PERFORM set_config('lock_timeout', CASE WHEN clock_timestamp() < v_deadline THEN '50ms' ELSE '0' END, true);
      EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE',
        (SELECT string_agg(format('public.%I', x), ', ') FROM unnest(v_tables) x));
      v_locked := true;
    EXCEPTION WHEN lock_not_available THEN
      PERFORM pg_sleep(0.02);
    END;
  END LOOP;
  PERFORM set_config('lock_timeout', v_timeout, true);
  FOREACH v_name IN ARRAY v_tables LOOP
    SELECT array_agg(p.pubname::text) INTO v_pubs
    FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
    WHERE pr.prrelid = format('public.%I', v_name)::regclass;
    EXECUTE format('DROP TABLE public.%I', v_name);
    EXECUTE format('ALTER TABLE bs_shadow.%I SET SCHEMA public', v_name);
    FOREACH v_pub IN ARRAY coalesce(v_pubs, '{}') LOOP
      EXECUTE format('ALTER PUBLICATION %I ADD TABLE public.%I', v_pub, v_name);
    END LOOP;
    DELETE FROM bs_shadow_pending WHERE xid = txid_current() AND table_name = v_name;
  END LOOP;
  RETURN array_length(v_tables, 1);
END
$$;

-- Makes this transaction's statements name the shadow of p_table made by bs_shadow_begin:
-- bs_shadow first on the search_path, for the rest of the transaction. Raises when the
-- name does not lead there (a role without USAGE on bs_shadow would else write the old
-- table, and its rows would go with it at the swap).
CREATE OR REPLACE FUNCTION bs_shadow_use(p_table text) RETURNS void
LANGUAGE plpgsql AS
$$
BEGIN
  IF current_setting('search_path') !~ '^bs_shadow,' THEN
    PERFORM set_config('search_path', 'bs_shadow, ' || current_setting('search_path'), true);
  END IF;
  IF to_regclass(quote_ident(p_table)) IS DISTINCT FROM to_regclass('bs_shadow.' || quote_ident(p_table)) THEN
    RAISE EXCEPTION 'the new table of % is not what this role reads and writes as %: it needs USAGE on schema bs_shadow', p_table, p_table;
  END IF;
END
$$;
