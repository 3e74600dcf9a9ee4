-- Rejected rows say what is wrong in fields, not only in a sentence: programs read these
-- columns (loader/engine/outcome.ts tells which parent a child's orphans point to), people
-- read `detail`, the same said in words. sql/functions/rejects.sql writes both.
ALTER TABLE load_rejects
  ADD COLUMN column_name text,   -- the column at fault: the key (missing_key, duplicate_key), or the
                                 -- relation that points nowhere (orphan; the first when several do)
  ADD COLUMN value text,         -- its value as loaded (NULL: no value)
  ADD COLUMN parent_table text,  -- orphan: where that value was looked for
  ADD COLUMN relations jsonb;    -- orphan: every relation the row breaks, in column order:
                                 -- [{"column", "value", "parent_table", "parent_column"}, ...]
