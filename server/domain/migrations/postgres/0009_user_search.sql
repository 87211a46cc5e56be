-- The admin portal's user list: case-insensitive prefix search on the user
-- ID (already canonical), the name and the email address. The keys are the
-- name and the address folded like user IDs (identity::fold), written with
-- the row; rows from before this migration get them at start-up
-- (users::fill_search_keys).
--
-- A prefix is searched as a range (key >= prefix AND key < prefix || U+10FFFF),
-- which is only right in code-point order: the "C" collation, whatever the
-- database's default is (en_US, for one, ignores punctuation at first).
ALTER TABLE users ALTER COLUMN login TYPE TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN name_key TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN email_key TEXT COLLATE "C";
CREATE INDEX users_name_key ON users (name_key);
CREATE INDEX users_email_key ON users (email_key);
-- "Is this account in one of the Selected groups?" per account.
CREATE INDEX group_members_user ON group_members (user_id, group_id);
