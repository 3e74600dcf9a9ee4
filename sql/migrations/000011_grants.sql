-- Who may run what: the project's functions are not everyone's, on every server; and the
-- Slack bot's memory of the requests it has already run (replays).

-- ── Functions: nobody's but their owner's and the roles granted ─────────────────────
-- PostgreSQL lets every role (PUBLIC) execute a new function. 000006 took that away only
-- where Supabase's API roles exist; on plain PostgreSQL and RDS any role that could
-- connect (the stack's read-only reader included) could run the SECURITY DEFINER
-- functions — bs_add_columns ALTERs warehouse tables with the owner's rights. Here, on
-- every server:
--   - EXECUTE is revoked from PUBLIC on every function of the project's schemas (public,
--     landing; not the functions of extensions) owned by the role running this;
--   - that role's later functions are born without it (default privileges);
--   - migrate (loader/db/migrate.ts) calls bs_restrict_functions() again in the
--     transaction of every migration it applies, so a later migration's functions — even
--     one that grants to PUBLIC, or one run by a role without these default privileges —
--     never commit executable by everyone, and the tests fail if one is (test/migrate.test.ts).
-- Who keeps EXECUTE: the owner (the migrator), and the roles granted it. The stack's
-- loader role is granted EXECUTE on every function of public by infra/database.ts (and by
-- the migrator's default privileges, for later ones); the reader, the tracker and
-- Supabase's API roles get none (a trigger's function runs without EXECUTE, and the
-- SECURITY DEFINER functions the tracker's writes reach run as their owner).
CREATE FUNCTION bs_restrict_functions() RETURNS text[]
LANGUAGE plpgsql AS
$$
DECLARE
  f regprocedure;
  changed text[] := '{}';
BEGIN
  ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
  FOR f IN
    SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname IN ('public', 'landing')
       AND pg_has_role(p.proowner, 'MEMBER')
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
       AND EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                    WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
     ORDER BY p.oid::regprocedure::text
  LOOP
    EXECUTE format('REVOKE EXECUTE ON ROUTINE %s FROM PUBLIC', f);
    changed := changed || f::text;
  END LOOP;
  RETURN changed;
END
$$;

-- Functions of the project's schemas that PUBLIC may still execute: those the role
-- running migrate does not own, so could not restrict. migrate names them.
CREATE FUNCTION bs_functions_open_to_public() RETURNS text[]
LANGUAGE sql STABLE AS
$$
  SELECT coalesce(array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text), '{}')
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname IN ('public', 'landing')
     AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
     AND EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                  WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
$$;

-- ── The exposure, again when it is out of date ───────────────────────────────────────
-- apply_exposure() (000006) does nothing where Supabase's roles do not exist. A project
-- that gains them later (or a table added since it last ran) is covered by the next
-- migrate, without a new migration: migrate runs apply_exposure() when this says there is
-- something to do — an API role exists, and a table of public has no row-level security,
-- or a role apply_exposure() writes policies for has none yet, or an API role may execute
-- a function of public.
CREATE FUNCTION exposure_pending() RETURNS boolean
LANGUAGE sql STABLE AS
$$
  SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'tracker'))
     AND (
       EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity)
       OR EXISTS (SELECT 1 FROM pg_roles r
                   WHERE r.rolname IN ('anon', 'authenticated', 'tracker', 'benchsight_service')
                     AND NOT EXISTS (SELECT 1 FROM pg_policies p
                                      WHERE p.schemaname = 'public' AND p.policyname LIKE 'benchsight\_%'
                                        AND r.rolname = ANY (p.roles)))
       OR EXISTS (SELECT 1 FROM pg_proc f JOIN pg_namespace n ON n.oid = f.pronamespace
                    JOIN pg_roles r ON r.rolname IN ('anon', 'authenticated', 'tracker')
                   WHERE n.nspname = 'public' AND has_function_privilege(r.oid, f.oid, 'EXECUTE')
                     AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                      WHERE d.classid = 'pg_proc'::regclass AND d.objid = f.oid AND d.deptype = 'e'))
     )
$$;

-- ── Slack requests already seen (bot/request-guard.ts) ─────────────────────────────
-- A signed Slack request is accepted once: its signature is claimed here before Bolt
-- runs it, so the same request sent again — to this process or to another Lambda
-- container — is refused. A signature needs keeping only while its timestamp would still
-- pass the five-minute check (plus a minute); expired rows are deleted by the next claim.
CREATE TABLE slack_seen_signatures (
  signature text PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX slack_seen_signatures_expires_idx ON slack_seen_signatures (expires_at);

SELECT bs_restrict_functions();
