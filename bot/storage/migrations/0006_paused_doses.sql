-- Pausing reminders is not pausing the medicine: doses that fall due while reminders are
-- paused stay in the plan with the status 'paused' (not reminded), so /today, /missed and the
-- history still show them. SQLite cannot change a CHECK constraint, so the table is rebuilt.
CREATE TABLE dose_events_new (
    event_id            INTEGER PRIMARY KEY,
    user_id             INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    plan_id             INTEGER NOT NULL REFERENCES plans (plan_id) ON DELETE CASCADE,
    due_at              INTEGER NOT NULL,
    local_date          TEXT NOT NULL,
    local_time          TEXT NOT NULL,
    mg                  TEXT NOT NULL,
    step_number         INTEGER NOT NULL,
    step_count          INTEGER NOT NULL,
    day_number          INTEGER NOT NULL,
    is_step_start       INTEGER NOT NULL,
    is_maintenance      INTEGER NOT NULL,
    is_last_step_dose   INTEGER NOT NULL,
    status              TEXT NOT NULL CHECK (status IN (
                            'scheduled', 'sending', 'sent', 'snoozed', 'paused',
                            'taken', 'skipped', 'missed', 'cancelled')),
    next_action_at      INTEGER,
    claimed_at          INTEGER,
    resend_as_repeat    INTEGER NOT NULL DEFAULT 0,
    attempts            INTEGER NOT NULL DEFAULT 0,
    sent_at             INTEGER,
    message_id          INTEGER,
    followup_message_id INTEGER,
    followup_sent_at    INTEGER,
    answered_at         INTEGER,
    UNIQUE (plan_id, local_date, local_time)
);
INSERT INTO dose_events_new SELECT * FROM dose_events;
DROP TABLE dose_events;
ALTER TABLE dose_events_new RENAME TO dose_events;
CREATE INDEX dose_events_next_action ON dose_events (next_action_at)
    WHERE next_action_at IS NOT NULL;
CREATE INDEX dose_events_user_due ON dose_events (user_id, due_at);
CREATE INDEX dose_events_sent ON dose_events (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX dose_events_claimed ON dose_events (claimed_at) WHERE claimed_at IS NOT NULL;

-- Doses of paused users that the old code cancelled in advance are planned doses again.
UPDATE dose_events SET status = 'paused', next_action_at = NULL
 WHERE status = 'cancelled'
   AND user_id IN (SELECT user_id FROM users WHERE reminders_paused = 1)
   AND plan_id IN (SELECT plan_id FROM plans WHERE superseded_at IS NULL);
