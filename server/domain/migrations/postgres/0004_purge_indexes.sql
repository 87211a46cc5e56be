-- An index for every predicate housekeeping deletes by (docs/security.md #80),
-- so a purge batch finds its rows without scanning the table.
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX sessions_seen ON sessions (last_seen_at);
CREATE INDEX rate_counters_window ON rate_counters (window_start);
CREATE INDEX throttle_last_failure ON throttle (last_failure_at);
CREATE INDEX outbox_finished ON outbox (created_at) WHERE state IN ('sent', 'failed', 'expired');
