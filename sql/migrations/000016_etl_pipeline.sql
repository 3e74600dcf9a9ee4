-- The team's own ETL pipeline, run as a job (loader/etl/pipeline*.ts): each step a child
-- process whose output is kept here, line by line, in the order it was read; `benchsight
-- etl log <job>` prints it (and Slack, and the Portal's GET /api/etl/jobs/{id}).
-- stream: stdout / stderr of the step, or `system` (what the runner did: a step started,
-- exited, timed out, the export loaded). attempt: the job's attempt that wrote the line.
CREATE TABLE etl_job_log (
  job_id bigint NOT NULL REFERENCES etl_queue (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  attempt integer NOT NULL,
  step text,
  stream text NOT NULL CHECK (stream IN ('stdout', 'stderr', 'system')),
  line text NOT NULL,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (job_id, seq)
);

-- The step that stopped a pipeline job: its place and name, the command, the exit code (or
-- the signal, or timed_out), and its last lines; NULL while the job has not failed at a step.
ALTER TABLE etl_queue ADD COLUMN failed_step jsonb;
