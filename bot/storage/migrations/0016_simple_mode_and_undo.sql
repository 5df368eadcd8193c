-- Issue 22: simple mode, and Undo for a mis-tap.
-- Simple mode is a per-patient setting: short reminders, one large Taken button, check-ins
-- that ask only the stiffness score. It changes wording, never the dose-safety rules.
ALTER TABLE users ADD COLUMN simple_mode INTEGER NOT NULL DEFAULT 0 CHECK (simple_mode IN (0, 1));

-- Every Taken or Skip press, with the dose row as it was just before it, so that an Undo
-- (within 5 minutes) can put the row back exactly, and the report can show a Taken that was
-- undone ("recorded as taken at 08:02, undone at 08:04"). Kept as an audit trail: an Undo sets
-- undone_at, it deletes nothing. Erased with the dose row (and so with its user).
CREATE TABLE dose_answers (
    answer_id           INTEGER PRIMARY KEY,
    event_id            INTEGER NOT NULL REFERENCES dose_events (event_id) ON DELETE CASCADE,
    user_id             INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    status              TEXT NOT NULL CHECK (status IN ('taken', 'skipped')),
    answered_at         INTEGER NOT NULL,
    prev_status         TEXT NOT NULL,
    prev_next_action_at INTEGER,
    prev_answered_at    INTEGER,
    undone_at           INTEGER
);
CREATE INDEX dose_answers_event ON dose_answers (event_id);
CREATE INDEX dose_answers_user_undone ON dose_answers (user_id, undone_at)
    WHERE undone_at IS NOT NULL;

-- The caregiver alerts a Taken or Skip ended ('pending' -> 'done' / 'answered'), with when
-- each was due: an Undo makes them pending again at that instant.
CREATE TABLE dose_answer_alerts (
    answer_id      INTEGER NOT NULL REFERENCES dose_answers (answer_id) ON DELETE CASCADE,
    alert_id       INTEGER NOT NULL REFERENCES caregiver_alerts (alert_id) ON DELETE CASCADE,
    next_action_at INTEGER,
    PRIMARY KEY (answer_id, alert_id)
);
