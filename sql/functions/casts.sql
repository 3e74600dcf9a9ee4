-- Values as the ETL writes them, cast to the warehouse's types: what load_table reads
-- from the text landing tables (the engine's own reader, loader/engine/values.ts, writes
-- the same values itself; test/engine/values.test.ts holds the two side by side).
--
-- Empty cells, and the missing-value spellings pandas has produced (nan, NaN, None, null,
-- NULL), are NULL in every non-text column and in text keys and relations (bs_key_text). Integers may carry a `.0` fraction (pandas
-- writes 1730.0); any other fraction fails the cast instead of being rounded. A value
-- that does not fit fails the request, named by bs_raise_bad_value with its line, column
-- and value.

CREATE OR REPLACE FUNCTION bs_is_missing(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT v IS NULL OR v = '' OR v IN ('nan', 'NaN', 'None', 'null', 'NULL') $$;

-- `1730.0` → 1730, `1730` → 1730, `1.5` → error. This runs for every integer cell of
-- every file, so the common shapes come first and cost no string building: pandas'
-- `.0` is cut off; anything else goes to int4in, which refuses every fraction.
CREATE OR REPLACE FUNCTION bs_int_text(v text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN strpos(v, '.') = 0 THEN v
               WHEN rtrim(substr(v, strpos(v, '.') + 1), '0') = '' THEN left(v, strpos(v, '.') - 1)
               ELSE v END $$;

CREATE OR REPLACE FUNCTION bs_int(v text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN v IS NULL OR v = '' THEN NULL
               WHEN v LIKE '%.0' THEN left(v, -2)::integer
               WHEN v IN ('nan', 'NaN', 'None', 'null', 'NULL') THEN NULL
               ELSE bs_int_text(v)::integer END $$;

-- (bs_int's shortcuts matter for the many integer columns; no warehouse column is bigint.)
CREATE OR REPLACE FUNCTION bs_bigint(v text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN bs_is_missing(v) THEN NULL ELSE bs_int_text(v)::bigint END $$;

CREATE OR REPLACE FUNCTION bs_numeric(v text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN bs_is_missing(v) THEN NULL ELSE v::numeric END $$;

CREATE OR REPLACE FUNCTION bs_boolean(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN bs_is_missing(v) THEN NULL ELSE bs_int_text(v)::boolean END $$;

-- A text key or relation column: the missing-value spellings are no value there (a row
-- without its key, a relation that points nowhere), not a key named "nan" — as the
-- engine's reader reads them (loader/engine/csv-records.ts). Other text columns keep the
-- words: they may be text.
CREATE OR REPLACE FUNCTION bs_key_text(v text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN bs_is_missing(v) THEN NULL ELSE v END $$;

-- Only ISO dates are accepted: `01/02/2024` means different days to different people.
-- A value that is not ISO is cast with a marker so that the cast fails and names it.
CREATE OR REPLACE FUNCTION bs_timestamp(v text) RETURNS timestamp
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN bs_is_missing(v) THEN NULL
               WHEN btrim(v) ~ '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$' THEN btrim(v)::timestamp
               ELSE ('not an ISO timestamp: ' || v)::timestamp END $$;

-- A date column takes `2024-09-15` or `2024-09-15 00:00:00`, never a time of day it would drop.
CREATE OR REPLACE FUNCTION bs_date(v text) RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN bs_is_missing(v) THEN NULL
               WHEN btrim(v) ~ '^\d{4}-\d{2}-\d{2}([ T]00:00(:00(\.0+)?)?)?$' THEN left(btrim(v), 10)::date
               ELSE ('not an ISO date: ' || v)::date END $$;

CREATE OR REPLACE FUNCTION bs_time(v text) RETURNS time
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN bs_is_missing(v) THEN NULL
               WHEN btrim(v) ~ '^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$' THEN btrim(v)::time
               ELSE ('not a time of day: ' || v)::time END $$;

-- The SQL expression that casts staged text `expr` to a column of type `typ`.
CREATE OR REPLACE FUNCTION bs_cast_expr(expr text, typ text) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE typ
     WHEN 'integer' THEN format('bs_int(%s)', expr)
     WHEN 'bigint' THEN format('bs_bigint(%s)', expr)
     WHEN 'smallint' THEN format('bs_int(%s)::smallint', expr)
     WHEN 'numeric' THEN format('bs_numeric(%s)', expr)
     WHEN 'double precision' THEN format('bs_numeric(%s)::double precision', expr)
     WHEN 'boolean' THEN format('bs_boolean(%s)', expr)
     WHEN 'timestamp without time zone' THEN format('bs_timestamp(%s)', expr)
     WHEN 'date' THEN format('bs_date(%s)', expr)
     WHEN 'time without time zone' THEN format('bs_time(%s)', expr)
     WHEN 'text' THEN format('NULLIF(%s, %L)', expr, '')
     ELSE format('NULLIF(%s, %L)::%s', expr, '', typ)
   END $$;

-- True when `v` casts to `typ`: used only to find the culprit after a failed load.
CREATE OR REPLACE FUNCTION bs_castable(v text, typ text) RETURNS boolean
LANGUAGE plpgsql STABLE AS
$$
BEGIN
  EXECUTE format('SELECT %s', bs_cast_expr('$1', typ)) USING v;
  RETURN true;
EXCEPTION WHEN OTHERS THEN
  RETURN false;
END
$$;

-- Finds the first staged value that does not fit its column after a failed cast, and
-- raises an error naming its line, column and value (DETAIL is JSON for programs).
CREATE OR REPLACE FUNCTION bs_raise_bad_value(p_table text, p_stage regclass, p_scope text, p_error text) RETURNS void
LANGUAGE plpgsql AS
$$
DECLARE
  v_value text := regexp_replace(substring(p_error from '"(.*)"'), '^not an? [A-Za-z ]+: ', '');
  v_col record;
  v_hit record;
  v_line bigint;
  v_bad_value text;
  v_bad_col text;
  v_bad_type text;
  v_kind text;
BEGIN
  FOR pass IN 1..2 LOOP
    FOR v_col IN
      SELECT c.column_name, c.column_type FROM bs_table_columns(p_table) c
      JOIN pg_attribute a ON a.attrelid = p_stage AND a.attname = c.column_name AND NOT a.attisdropped
      WHERE c.column_type <> 'text' ORDER BY c.col_position
    LOOP
      IF pass = 1 AND v_value IS NULL THEN CONTINUE; END IF;
      EXECUTE format('SELECT s._line AS line, s.%1$I AS value FROM %2$s s WHERE %3$s AND %4$s AND NOT bs_castable(s.%1$I, %5$L) ORDER BY s._line LIMIT 1',
        v_col.column_name, p_stage, p_scope,
        CASE WHEN pass = 1 THEN format('btrim(s.%I) = %L', v_col.column_name, v_value) ELSE 'true' END,
        v_col.column_type) INTO v_hit;
      IF v_hit.line IS NOT NULL AND (v_line IS NULL OR v_hit.line < v_line) THEN
        v_line := v_hit.line; v_bad_value := v_hit.value; v_bad_col := v_col.column_name; v_bad_type := v_col.column_type;
      END IF;
    END LOOP;
    EXIT WHEN v_line IS NOT NULL;
  END LOOP;
  IF v_line IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22P02', MESSAGE = p_error;
  END IF;
  v_kind := CASE v_bad_type
    WHEN 'integer' THEN 'a whole number' WHEN 'bigint' THEN 'a whole number' WHEN 'smallint' THEN 'a whole number'
    WHEN 'numeric' THEN 'a number' WHEN 'boolean' THEN 'true or false'
    WHEN 'timestamp without time zone' THEN 'a date and time (YYYY-MM-DD HH:MM:SS)'
    WHEN 'date' THEN 'a date (YYYY-MM-DD)' WHEN 'time without time zone' THEN 'a time of day (HH:MM:SS)'
    ELSE v_bad_type END;
  RAISE EXCEPTION USING ERRCODE = '22P02',
    MESSAGE = format('line %s, column %s: %s is not %s', v_line, v_bad_col,
      quote_literal(left(v_bad_value, 200)) || CASE WHEN length(v_bad_value) > 200 THEN format('… (%s characters)', length(v_bad_value)) ELSE '' END, v_kind),
    DETAIL = json_build_object('line', v_line, 'column', v_bad_col, 'value', left(v_bad_value, 1000), 'type', v_bad_type)::text;
END
$$;

-- True when `v` fits a column of type `typ` by the rules above (a missing value always
-- fits), without casting: what a changed export's values are checked with before a load
-- decides to widen a column or reject the rows (drift.sql). One expression per type, no
-- exception block, so it runs over many rows at once.
CREATE OR REPLACE FUNCTION bs_fits(v text, typ text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE
     WHEN v IS NULL OR v = '' OR v IN ('nan', 'NaN', 'None', 'null', 'NULL') THEN true
     WHEN typ IN ('integer', 'smallint', 'bigint') THEN
       CASE WHEN btrim(v) ~ '^[+-]?\d{1,19}(\.0*)?$'
         THEN bs_int_text(btrim(v))::numeric BETWEEN
           CASE typ WHEN 'integer' THEN -2147483648 WHEN 'smallint' THEN -32768 ELSE -9223372036854775808 END
           AND CASE typ WHEN 'integer' THEN 2147483647 WHEN 'smallint' THEN 32767 ELSE 9223372036854775807 END
         ELSE false END
     WHEN typ IN ('numeric', 'double precision') THEN btrim(v) ~ '^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$'
     WHEN typ = 'boolean' THEN lower(btrim(bs_int_text(v))) IN ('true', 'false', 't', 'f', '1', '0', 'yes', 'no', 'y', 'n', 'on', 'off')
     WHEN typ = 'timestamp without time zone' THEN btrim(v) ~ '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$'
     WHEN typ = 'date' THEN btrim(v) ~ '^\d{4}-\d{2}-\d{2}([ T]00:00(:00(\.0+)?)?)?$'
     WHEN typ = 'time without time zone' THEN btrim(v) ~ '^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$'
     ELSE true
   END $$;
