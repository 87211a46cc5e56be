-- Every saved SSPR policy, whoever saved it (the admin portal or `sspr
-- policy set`), with the field-by-field changes against the policy it
-- replaced. The `settings` row stays the one in force; this is its history.
CREATE TABLE policy_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    saved_at INTEGER NOT NULL,
    saved_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    saved_by_name TEXT NOT NULL,            -- the admin's user ID then, or "sspr policy set"
    replaces INTEGER NOT NULL UNIQUE,       -- the version it replaced (0: none); two saves of one version cannot both land
    restored_from INTEGER,                  -- the version this one brought back, if any
    policy TEXT NOT NULL,                   -- JSON, the whole policy
    changes TEXT NOT NULL                   -- JSON [{field, before, after}]
);

-- The audit log page filters by event, by account and by typed user ID, and
-- pages by id.
CREATE INDEX audit_events_event ON audit_events (event, id);
CREATE INDEX audit_events_actor ON audit_events (actor_user_id);
CREATE INDEX audit_events_subject_login ON audit_events (subject_login);
