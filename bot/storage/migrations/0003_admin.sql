-- Admin: broadcasts with a per-recipient outbox, the live content-pack version, the audit log.

-- A broadcast is written once as the exact Telegram HTML every recipient gets (body), so a
-- restart or a content reload in the middle never changes what the rest receive.
-- created_by is an admin's Telegram id, deliberately without a foreign key: an admin need not
-- be a user of the bot. Erasing a person sets it to NULL.
CREATE TABLE broadcasts (
    broadcast_id  INTEGER PRIMARY KEY,
    created_by    INTEGER,
    segment       TEXT NOT NULL CHECK (segment IN ('all', 'titration', 'maintenance', 'tapering')),
    body          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN (
                      'draft', 'discarded', 'sending', 'done', 'cancelled')),
    recipients    INTEGER NOT NULL DEFAULT 0,  -- outbox rows written when it was confirmed
    created_at    INTEGER NOT NULL,
    confirmed_at  INTEGER,
    finished_at   INTEGER,
    reported_at   INTEGER                       -- the admin was sent the summary
);

-- One row per recipient. A row is claimed ('sending') and committed before its message goes
-- out. A claim still present at start means the process died with the outcome unknown: the
-- row becomes 'unknown' and is never re-sent (an announcement may be lost, never doubled).
CREATE TABLE broadcast_outbox (
    broadcast_id    INTEGER NOT NULL REFERENCES broadcasts (broadcast_id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    status          TEXT NOT NULL CHECK (status IN (
                        'pending',      -- waiting for its turn (or for next_attempt_at)
                        'sending',      -- claimed: the message is being sent
                        'sent',
                        'failed',       -- Telegram refused it, or every retry failed
                        'unreachable',  -- the user blocked the bot
                        'unknown',      -- may or may not have arrived; not re-sent
                        'skipped',      -- announcements turned off (or blocked) meanwhile
                        'cancelled')),  -- an admin cancelled the broadcast
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    claimed_at      INTEGER,
    sent_at         INTEGER,
    message_id      INTEGER,
    PRIMARY KEY (broadcast_id, user_id)
);
CREATE INDEX broadcast_outbox_due ON broadcast_outbox (status, next_attempt_at);
CREATE INDEX broadcast_outbox_counts ON broadcast_outbox (broadcast_id, status);
CREATE INDEX broadcast_outbox_user ON broadcast_outbox (user_id);

-- Every content pack that went live (at start when the version changed, and on /reload); the
-- latest row is the live one. changed_topics: comma-separated topic keys that differ from the
-- pack it replaced.
CREATE TABLE content_loads (
    load_id        INTEGER PRIMARY KEY,
    version        TEXT NOT NULL,
    loaded_at      INTEGER NOT NULL,
    changed_topics TEXT NOT NULL DEFAULT ''
);

-- Every admin action and every refused attempt by a non-admin: who, what, when, outcome.
-- No foreign key to users: an actor may be an admin who never used /start. Erasing a person
-- sets their actor_id to NULL, so the log keeps what happened but not who. detail holds ids
-- and counts only, never message text.
CREATE TABLE admin_audit (
    audit_id  INTEGER PRIMARY KEY,
    actor_id  INTEGER,
    action    TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT '',
    at        INTEGER NOT NULL
);
CREATE INDEX admin_audit_actor ON admin_audit (actor_id);
CREATE INDEX admin_audit_at ON admin_audit (at);

-- /stats counts reminders by when they were sent without reading every dose event.
CREATE INDEX dose_events_sent ON dose_events (sent_at) WHERE sent_at IS NOT NULL;
