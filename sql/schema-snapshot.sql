-- The schema of this database as text, the same on PostgreSQL 15 and 17, in name order:
-- what sql/schema.txt holds for a database migrated from this repository
-- (`npm run schema:snapshot` writes it; test/sql/schema.test.ts compares). Run it on any
-- database to compare it with the repository:
--   psql -XAt -f sql/schema-snapshot.sql "$DATABASE_URL" | diff sql/schema.txt -
-- (Grants and policies for Supabase's API roles appear where those roles exist.)
--
-- What it shows: the project's schemas (public, landing, bs_shadow), and in them every table with its
-- columns (type, NOT NULL, default, comment where it differs from the column name),
-- constraints, indexes, triggers, row-level security, policies and grants; sequences;
-- every function with its definition's header (arguments, result, language, volatility,
-- SECURITY DEFINER, settings) and grants, its body as a line count and checksum (the body
-- itself: sql/functions); and the default privileges. Grants name roles other than the
-- object's owner; the owner (the migrator) is never named, so the text does not depend on
-- who migrated.
WITH nsp AS (
  SELECT oid, nspname FROM pg_namespace WHERE nspname IN ('public', 'landing', 'bs_shadow')
), rel AS (
  SELECT c.oid, c.relname, c.relkind, c.relowner, c.relacl, c.relrowsecurity, c.relforcerowsecurity,
         n.nspname, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS qname
  FROM pg_class c JOIN nsp n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S')
), grants AS (
  -- per object: "grant <privileges> to <role>" for every role but the owner
  SELECT x.oid, x.kind, string_agg(format('  grant %s to %s', x.privs, x.grantee), E'\n' ORDER BY x.grantee) AS lines
  FROM (
    SELECT o.oid, o.kind, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS grantee,
           string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type) AS privs
    FROM (SELECT oid, 'rel' AS kind, relowner AS owner, relacl AS acl FROM rel
          UNION ALL
          SELECT p.oid, 'fn', p.proowner, p.proacl FROM pg_proc p JOIN nsp n ON n.oid = p.pronamespace) o
    CROSS JOIN LATERAL aclexplode(o.acl) a
    WHERE a.grantee <> o.owner
    GROUP BY 1, 2, 3
  ) x
  GROUP BY 1, 2
), tables AS (
  SELECT r.qname,
    concat_ws(E'\n',
      CASE r.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' ELSE 'table ' END || r.qname
        || coalesce('  -- ' || obj_description(r.oid, 'pg_class'), ''),
      -- columns
      (SELECT string_agg(format('  %s %s', quote_ident(a.attname), format_type(a.atttypid, a.atttypmod))
                || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
                || coalesce('  -- ' || nullif(col_description(r.oid, a.attnum), a.attname::text), ''),
                E'\n' ORDER BY a.attnum)
       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped),
      -- constraints (NOT NULL is said on its column)
      (SELECT string_agg(format('  constraint %s %s', quote_ident(k.conname), pg_get_constraintdef(k.oid)), E'\n' ORDER BY k.conname)
       FROM pg_constraint k WHERE k.conrelid = r.oid AND k.contype <> 'n'),
      -- indexes that are not a constraint's
      (SELECT string_agg('  ' || pg_get_indexdef(i.indexrelid), E'\n' ORDER BY i.indexrelid::regclass::text)
       FROM pg_index i WHERE i.indrelid = r.oid AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = r.oid)),
      (SELECT string_agg('  ' || pg_get_triggerdef(tg.oid), E'\n' ORDER BY tg.tgname)
       FROM pg_trigger tg WHERE tg.tgrelid = r.oid AND NOT tg.tgisinternal),
      CASE WHEN r.relrowsecurity THEN '  row level security' || CASE WHEN r.relforcerowsecurity THEN ' (forced)' ELSE '' END END,
      (SELECT string_agg(format('  policy %s %s for %s to %s', quote_ident(p.policyname), lower(p.permissive), p.cmd, array_to_string(p.roles, ', '))
                || coalesce(' using (' || p.qual || ')', '') || coalesce(' with check (' || p.with_check || ')', ''), E'\n' ORDER BY p.policyname)
       FROM pg_policies p WHERE p.schemaname = r.nspname AND p.tablename = r.relname),
      (SELECT g.lines FROM grants g WHERE g.oid = r.oid AND g.kind = 'rel')
    ) AS text
  FROM rel r WHERE r.relkind IN ('r', 'p', 'v', 'm')
), sequences AS (
  SELECT r.qname,
    concat_ws(E'\n',
      'sequence ' || r.qname || coalesce((SELECT format(' owned by %s.%s', t.relname, a.attname)
                                           FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
                                           JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                                           WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid AND d.deptype IN ('a', 'i')), ''),
      (SELECT g.lines FROM grants g WHERE g.oid = r.oid AND g.kind = 'rel')) AS text
  FROM rel r WHERE r.relkind = 'S'
), functions AS (
  SELECT p.oid::regprocedure::text AS sig,
    concat_ws(E'\n',
      -- the definition up to its body: CREATE ..., RETURNS, LANGUAGE, volatility, SECURITY DEFINER, SET ...
      regexp_replace(pg_get_functiondef(p.oid), E'\\nAS \\$[a-z_]*\\$.*$', '', 's'),
      format(' -- body: %s lines, md5 %s', array_length(string_to_array(p.prosrc, E'\n'), 1), left(md5(p.prosrc), 16)),
      (SELECT g.lines FROM grants g WHERE g.oid = p.oid AND g.kind = 'fn')) AS text
  FROM pg_proc p JOIN nsp n ON n.oid = p.pronamespace
  WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
), defaults AS (
  SELECT format('default privileges%s on %s: %s',
           coalesce(' in schema ' || n.nspname, ''),
           CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' END,
           coalesce((SELECT string_agg(format('%s to %s', a.privilege_type, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END),
                                       ', ' ORDER BY a.grantee <> 0, pg_get_userbyid(a.grantee), a.privilege_type)
                     FROM aclexplode(d.defaclacl) a WHERE a.grantee <> d.defaclrole), 'the owner only')) AS text
  FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
  WHERE d.defaclrole = (SELECT datdba FROM pg_database WHERE datname = current_database()) OR pg_has_role(d.defaclrole, 'MEMBER')
)
SELECT E'-- The schema of a database migrated from this repository, with Supabase''s API roles.\n'
    || E'-- Written by `npm run schema:snapshot` (loader/db/schema-snapshot.ts, sql/schema-snapshot.sql):\n'
    || E'-- do not edit. Function bodies are in sql/functions; here, each one''s line count and checksum.\n\n'
    || string_agg(text, E'\n\n' ORDER BY section, key) AS snapshot
FROM (
  -- (public's comment is the server's own)
  SELECT 1 AS section, nspname AS key,
         'schema ' || nspname || coalesce('  -- ' || CASE WHEN nspname <> 'public' THEN obj_description(oid, 'pg_namespace') END, '') AS text
  FROM nsp
  UNION ALL SELECT 2, e.extname, 'extension ' || e.extname FROM pg_extension e WHERE e.extname <> 'plpgsql'
  UNION ALL SELECT 3, qname, text FROM tables
  UNION ALL SELECT 4, qname, text FROM sequences
  UNION ALL SELECT 5, sig, text FROM functions
  UNION ALL SELECT 6, text, text FROM defaults
) s;
