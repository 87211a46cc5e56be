-- Same schema as PostgreSQL's 0003: flows.user_id without a foreign key
-- (see there for why). SQLite cannot drop a constraint, so the table is
-- rebuilt.
CREATE TABLE flows_new (
    id_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id INTEGER,
    state TEXT NOT NULL,
    data TEXT NOT NULL,                    -- JSON
    attempts INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    consumed_at INTEGER
);
INSERT INTO flows_new (id_hash, kind, user_id, state, data, attempts, version, created_at, expires_at, consumed_at)
    SELECT id_hash, kind, user_id, state, data, attempts, version, created_at, expires_at, consumed_at FROM flows;
DROP TABLE flows;
ALTER TABLE flows_new RENAME TO flows;
CREATE INDEX flows_user ON flows (user_id);
CREATE INDEX flows_expiry ON flows (expires_at);
