-- Rows whose code has run out are scrubbed by the worker (docs/security.md #81):
-- the predicate it selects them by.
CREATE INDEX outbox_not_after ON outbox (not_after) WHERE not_after IS NOT NULL;
