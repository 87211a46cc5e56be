-- Times are UTC Unix seconds (INTEGER) so both backends compare them the same way.
-- Flags are INTEGER 0/1: the sqlx `Any` driver decodes them as i64 on both backends.

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    login TEXT NOT NULL UNIQUE,            -- canonical: NFKC + case fold + trim
    login_display TEXT NOT NULL,           -- as the admin typed it
    display_name TEXT NOT NULL,
    email TEXT,
    role TEXT NOT NULL CHECK (role IN ('user', 'admin')),
    enabled INTEGER NOT NULL DEFAULT 1,
    password_hash TEXT,                    -- argon2id PHC string; NULL = no usable password
    locale TEXT,
    created_at INTEGER NOT NULL,
    password_changed_at INTEGER
);

CREATE TABLE user_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,             -- canonical, like logins
    display_name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE group_members (
    group_id INTEGER NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,              -- SHA-256 of the cookie value; the value itself is never stored
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    authenticated_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL            -- absolute lifetime
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    event TEXT NOT NULL,
    outcome TEXT NOT NULL,
    actor_user_id INTEGER,
    subject_user_id INTEGER,
    subject_login TEXT,
    ip TEXT,
    detail TEXT
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_subject ON audit_events (subject_user_id);

CREATE TABLE settings (
    setting_key TEXT PRIMARY KEY,
    value TEXT NOT NULL,                   -- JSON
    updated_at INTEGER NOT NULL
);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'voice')),
    recipient TEXT NOT NULL,
    locale TEXT NOT NULL,
    template TEXT NOT NULL,
    params TEXT NOT NULL,                  -- JSON
    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'expired')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until INTEGER,
    not_after INTEGER,                     -- never deliver after this (codes)
    sent_at INTEGER,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

CREATE TABLE flows (
    id_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    data TEXT NOT NULL,                    -- JSON
    attempts INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    consumed_at INTEGER
);
CREATE INDEX flows_user ON flows (user_id);
CREATE INDEX flows_expiry ON flows (expires_at);

CREATE TABLE throttle (
    throttle_key TEXT PRIMARY KEY,         -- purpose + normalized identifier
    failures INTEGER NOT NULL DEFAULT 0,
    last_failure_at INTEGER NOT NULL DEFAULT 0,
    recent TEXT NOT NULL DEFAULT '',       -- keyed fingerprints of recent wrong secrets
    version INTEGER NOT NULL DEFAULT 0
);
