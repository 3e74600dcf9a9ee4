-- Functions: nobody's but their owner's and the roles granted. PostgreSQL lets every
-- role (PUBLIC) execute a new function; here, on every server:
--   - EXECUTE is revoked from PUBLIC on every function of the project's schemas (public,
--     landing; not the functions of extensions) owned by the role running migrate;
--   - that role's later functions are born without it (default privileges);
--   - migrate (loader/db/migrate.ts) calls bs_restrict_functions() in the transaction of
--     every migration and functions file it applies, so no function — even one that
--     grants to PUBLIC, or one made by a role without these default privileges — ever
--     commits executable by everyone, and the tests fail if one is (test/migrate.test.ts).
-- Who keeps EXECUTE: the owner (the migrator), and the roles granted it. The stack's
-- loader role is granted EXECUTE on every function of public by infra/database.ts (and by
-- the migrator's default privileges, for later ones); the reader, the tracker and
-- Supabase's API roles get none (a trigger's function runs without EXECUTE, and the
-- SECURITY DEFINER functions the tracker's writes reach run as their owner).

-- Takes EXECUTE from PUBLIC on the project's functions the running role owns; returns them.
CREATE OR REPLACE FUNCTION bs_restrict_functions() RETURNS text[]
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
CREATE OR REPLACE FUNCTION bs_functions_open_to_public() RETURNS text[]
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
