-- Who runs a periodic job that one instance should run at a time (the
-- directory sync), and until when nobody else may start it. Claimed with a
-- conditional upsert, so two instances racing for it get one winner.
CREATE TABLE job_leases (
    job TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    held_until BIGINT NOT NULL
);
