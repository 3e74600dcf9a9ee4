-- Rejected rows (load_rejects) are kept for bs_settings.rejects_retention_days; every
-- load purges older ones after it commits.

-- Deletes the rejected rows older than the retention setting; returns how many.
CREATE OR REPLACE FUNCTION bs_purge_rejects() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  DELETE FROM load_rejects
  WHERE rejected_at < now() - make_interval(days => (SELECT value::integer FROM bs_settings WHERE key = 'rejects_retention_days'));
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
