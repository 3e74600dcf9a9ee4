-- Objects of the drop bucket that reached the loader: each S3 object (bucket, key and
-- version, ETag or sequencer) is loaded at most once, and an older upload of a key
-- never replaces a newer one that already loaded (sequencers order events of a key).
CREATE TABLE s3_objects (
  id bigserial PRIMARY KEY,
  bucket text NOT NULL,
  key text NOT NULL,
  version_id text,
  etag text,
  sequencer text,
  identity text NOT NULL,                 -- version id, else ETag, else sequencer
  kind text NOT NULL,                     -- csv | batch | tracker | unknown
  status text NOT NULL CHECK (status IN ('loading', 'loaded', 'failed', 'skipped')),
  attempts integer NOT NULL DEFAULT 1,
  request_id uuid,
  history_id bigint,
  note text,
  received_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz
);
CREATE UNIQUE INDEX s3_objects_identity_idx ON s3_objects (bucket, key, identity);
CREATE INDEX s3_objects_key_idx ON s3_objects (bucket, key, status);
COMMENT ON TABLE s3_objects IS 'BenchSight Ops: drop-bucket objects seen by the loader (dedupe and ordering of S3 events)';
-- bs_sequencer_order: the current definition is in sql/functions/s3_claims.sql
