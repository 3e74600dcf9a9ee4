-- Exposure through Supabase's API (PostgREST): what its roles may see and do.
--
--   authenticated         reads the warehouse tables (dims and facts) and nothing else
--   anon                  the same only when bs_settings.api_anon_read is 'true' (the
--                         deploy sets it from the stack setting apiAnonRead); otherwise nothing
--   tracker               reads, inserts and updates the staging_* tables; deletes nothing
--   benchsight_service    (the group of BenchSight's own login roles, made by the stack)
--                         passes row-level security; its grants decide what it may do
--
-- Every other table (load_history, load_rejects, etl_queue, schema_migrations, the
-- warehouse_* catalog, and any table a later migration adds) is not exposed at all: no
-- grant, no policy. Row-level security is enabled on every table of schema public.
--
-- Only tables and views the running role owns (directly or through a role it inherits)
-- are changed: a table another role made in public (PostGIS's spatial_ref_sys, a table
-- made in Supabase's dashboard) is left as its owner set it, and named in a NOTICE;
-- altering it would fail with "must be owner" and stop every later deploy.
--
-- Where none of anon, authenticated, tracker exists (plain PostgreSQL, RDS) apply_exposure()
-- does nothing. It is idempotent: migrate (loader/db/migrate.ts) runs it again whenever
-- exposure_pending() says it is out of date (a role created later, a table added since),
-- and the deploy's migrate function runs it after every migration run.

CREATE OR REPLACE FUNCTION apply_exposure() RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
  api_roles text;       -- 'anon, authenticated' (those that exist), quoted
  hidden_from text;     -- api_roles plus tracker
  has_tracker boolean := EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tracker');
  has_service boolean := EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'benchsight_service');
  has_catalog boolean := to_regclass('public.warehouse_tables') IS NOT NULL;
  readers text;         -- the API roles that may read the warehouse tables
  is_warehouse boolean;
  t record;
  p text;
BEGIN
  SELECT string_agg(quote_ident(rolname), ', ' ORDER BY rolname) INTO api_roles
    FROM pg_roles WHERE rolname IN ('anon', 'authenticated');
  SELECT string_agg(quote_ident(rolname), ', ' ORDER BY rolname) INTO hidden_from
    FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'tracker');
  IF hidden_from IS NULL THEN
    RETURN;  -- no API roles in this database: nothing to expose or hide
  END IF;
  SELECT string_agg(quote_ident(rolname), ', ' ORDER BY rolname) INTO readers
    FROM pg_roles WHERE rolname = 'authenticated' OR (rolname = 'anon' AND api_anon_read());

  -- Objects made later by the role running this get nothing for the API roles
  -- (Supabase grants everything to them by default for objects its postgres role makes),
  -- and new functions are not executable by everyone.
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM %s', hidden_from);
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM %s', hidden_from);
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON FUNCTIONS FROM %s', hidden_from);
  ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

  -- One by one, and only the running role's: REVOKE ... ON ALL ... IN SCHEMA fails on an
  -- object of another role on which it holds no right.
  FOR t IN
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'S' AND pg_has_role(c.relowner, 'USAGE')
  LOOP
    EXECUTE format('REVOKE ALL ON SEQUENCE public.%I FROM %s', t.relname, hidden_from);
  END LOOP;
  FOR t IN
    SELECT p.oid::regprocedure AS fn FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' AND pg_has_role(p.proowner, 'USAGE')
  LOOP
    EXECUTE format('REVOKE ALL ON ROUTINE %s FROM PUBLIC, %s', t.fn, hidden_from);
  END LOOP;

  -- Views run with their owner's rights and would bypass row-level security: hidden.
  FOR t IN
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm', 'f') AND pg_has_role(c.relowner, 'USAGE')
  LOOP
    EXECUTE format('REVOKE ALL ON public.%I FROM %s', t.relname, hidden_from);
  END LOOP;

  FOR t IN
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND pg_has_role(c.relowner, 'USAGE')
    ORDER BY c.relname
  LOOP
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t.relname);
    EXECUTE format('REVOKE ALL ON public.%I FROM %s', t.relname, hidden_from);
    FOR p IN
      SELECT policyname FROM pg_policies
      WHERE schemaname = 'public' AND tablename = t.relname AND policyname LIKE 'benchsight\_%'
    LOOP
      EXECUTE format('DROP POLICY %I ON public.%I', p, t.relname);
    END LOOP;

    IF has_service THEN
      EXECUTE format('CREATE POLICY benchsight_service_all ON public.%I FOR ALL TO benchsight_service USING (true) WITH CHECK (true)', t.relname);
    END IF;

    -- The warehouse tables are the ones the catalog lists (dims and facts).
    is_warehouse := false;
    IF has_catalog THEN
      EXECUTE 'SELECT EXISTS (SELECT 1 FROM public.warehouse_tables WHERE table_name = $1)' INTO is_warehouse USING t.relname;
    END IF;
    IF is_warehouse AND readers IS NOT NULL THEN
      EXECUTE format('GRANT SELECT ON public.%I TO %s', t.relname, readers);
      EXECUTE format('CREATE POLICY benchsight_api_read ON public.%I FOR SELECT TO %s USING (true)', t.relname, readers);
    END IF;

    IF t.relname LIKE 'staging\_%' AND has_tracker THEN
      -- SELECT too: an UPDATE with a WHERE clause, and an upsert, read the rows they change.
      EXECUTE format('GRANT SELECT, INSERT, UPDATE ON public.%I TO tracker', t.relname);
      EXECUTE format('CREATE POLICY benchsight_tracker_read ON public.%I FOR SELECT TO tracker USING (true)', t.relname);
      EXECUTE format('CREATE POLICY benchsight_tracker_insert ON public.%I FOR INSERT TO tracker WITH CHECK (true)', t.relname);
      EXECUTE format('CREATE POLICY benchsight_tracker_update ON public.%I FOR UPDATE TO tracker USING (true) WITH CHECK (true)', t.relname);
    END IF;
  END LOOP;

  FOR t IN
    SELECT c.relname, c.relowner::regrole AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT pg_has_role(c.relowner, 'USAGE')
    ORDER BY c.relname
  LOOP
    RAISE NOTICE 'apply_exposure: public.% belongs to %, not to %: left as its owner set it', t.relname, t.owner, current_user;
  END LOOP;
END
$$;

-- Whether Supabase's anon role (the project's public API key) may read the warehouse
-- tables: bs_settings.api_anon_read, 'false' (authenticated users only) when unset.
CREATE OR REPLACE FUNCTION api_anon_read() RETURNS boolean
LANGUAGE plpgsql STABLE AS
$$
BEGIN
  IF to_regclass('public.bs_settings') IS NULL THEN
    RETURN false;
  END IF;
  RETURN coalesce((SELECT value = 'true' FROM public.bs_settings WHERE key = 'api_anon_read'), false);
END
$$;

-- True when apply_exposure() has something to do: an API role exists, and a table of
-- public it may change has no row-level security, or a role apply_exposure() writes
-- policies for has none yet, or an API role may execute a function of public, or anon's
-- reading of the warehouse tables differs from api_anon_read().
CREATE OR REPLACE FUNCTION exposure_pending() RETURNS boolean
LANGUAGE sql STABLE AS
$$
  SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'tracker'))
     AND (
       EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity AND pg_has_role(c.relowner, 'USAGE'))
       OR EXISTS (SELECT 1 FROM pg_roles r
                   WHERE r.rolname IN ('authenticated', 'tracker', 'benchsight_service')
                     AND NOT EXISTS (SELECT 1 FROM pg_policies p
                                      WHERE p.schemaname = 'public' AND p.policyname LIKE 'benchsight\_%'
                                        AND r.rolname = ANY (p.roles)))
       OR EXISTS (SELECT 1 FROM pg_proc f JOIN pg_namespace n ON n.oid = f.pronamespace
                    JOIN pg_roles r ON r.rolname IN ('anon', 'authenticated', 'tracker')
                   WHERE n.nspname = 'public' AND has_function_privilege(r.oid, f.oid, 'EXECUTE')
                     AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                      WHERE d.classid = 'pg_proc'::regclass AND d.objid = f.oid AND d.deptype = 'e'))
       OR EXISTS (SELECT 1 FROM pg_roles r JOIN pg_class c ON c.relkind IN ('r', 'p')
                    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
                   WHERE r.rolname = 'anon' AND to_regclass('public.warehouse_tables') IS NOT NULL
                     AND c.relname IN (SELECT table_name FROM public.warehouse_tables)
                     AND has_table_privilege(r.oid, c.oid, 'SELECT') IS DISTINCT FROM api_anon_read())
     )
$$;
