-- Who may run what: the project's functions are not everyone's, on every server; and the
-- Slack bot's memory of the requests it has already run (replays).
-- bs_restrict_functions, bs_functions_open_to_public: the current definition is in sql/functions/grants.sql
-- exposure_pending: the current definition is in sql/functions/exposure.sql

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
