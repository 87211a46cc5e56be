-- Registered verification methods (security info).
CREATE TABLE security_methods (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('email', 'phone', 'authenticator', 'questions')),
    destination TEXT NOT NULL DEFAULT '',  -- email address or E.164 number; '' for the others
    phone_channel TEXT,                    -- 'sms' or 'voice' for phones
    secret TEXT,                           -- authenticator: encrypted TOTP secret (key outside the DB)
    last_step INTEGER NOT NULL DEFAULT 0,  -- authenticator: last accepted TOTP time step
    answers TEXT,                          -- questions: JSON [{question, answer_hash}]
    is_default INTEGER NOT NULL DEFAULT 0,
    verified_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, kind, destination)
);
CREATE INDEX security_methods_user ON security_methods (user_id);

-- When the user last confirmed their security info, and how often they
-- postponed registering.
ALTER TABLE users ADD COLUMN info_confirmed_at INTEGER;
ALTER TABLE users ADD COLUMN registration_skips INTEGER NOT NULL DEFAULT 0;

CREATE TABLE rate_counters (
    counter_key TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    hits INTEGER NOT NULL
);
