-- Reset step 1 must take the same time whatever the typed ID names. A flow
-- that names a user paid for a foreign-key check (~100 µs on PostgreSQL,
-- measured by benches/reset_start.rs) that a flow for an unknown ID did
-- not. Users are never deleted (they are disabled) and ids are never
-- reused, so the key guarded nothing; whatever deletes users one day must
-- delete their flows in the same transaction.
ALTER TABLE flows DROP CONSTRAINT flows_user_id_fkey;
