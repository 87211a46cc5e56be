-- Accounts mirrored from the organisation's directory (docs/security.md #84).
-- directory_id is the directory's stable id (entryUUID, or objectGUID as AD
-- tools print it): a renamed or moved user is the same row, so their security
-- info stays theirs. NULL for sspr's own accounts.
ALTER TABLE users ADD COLUMN directory_id TEXT;
-- Where the entry was when last seen: the DN binds and writes go to.
ALTER TABLE users ADD COLUMN directory_dn TEXT;
ALTER TABLE users ADD COLUMN directory_seen_at BIGINT;
-- Set by a sync that no longer finds the entry; such an account is disabled.
ALTER TABLE users ADD COLUMN directory_gone_at BIGINT;
CREATE UNIQUE INDEX users_directory_id ON users (directory_id) WHERE directory_id IS NOT NULL;
