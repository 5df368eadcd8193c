-- A user has at most one active plan (superseded_at IS NULL); older plans stay as history.
CREATE TABLE plans (
    plan_id                 INTEGER PRIMARY KEY,
    user_id                 INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    kind                    TEXT NOT NULL CHECK (kind IN ('standard', 'custom', 'taper')),
    start_date              TEXT NOT NULL,         -- local date of day 1, YYYY-MM-DD
    times                   TEXT NOT NULL,         -- local times, "08:00,14:00,20:00"
    steps                   TEXT NOT NULL,         -- "5x3,10x3,15x3,20x3" (mg per intake x days)
    ends_after_last_step    INTEGER NOT NULL CHECK (ends_after_last_step IN (0, 1)),
    high_dose_confirmed_at  INTEGER,               -- user confirmed the prescriber ordered > 80 mg/day
    materialized_until      INTEGER NOT NULL,      -- dose events exist up to this instant
    created_at              INTEGER NOT NULL,
    superseded_at           INTEGER
);
CREATE UNIQUE INDEX plans_one_active ON plans (user_id) WHERE superseded_at IS NULL;
CREATE INDEX plans_to_extend ON plans (materialized_until) WHERE superseded_at IS NULL;

-- One row per planned intake. next_action_at is the instant the dispatcher must act on the
-- row (first reminder, snoozed reminder or follow-up); NULL once nothing is left to do.
-- The due scan reads the partial index below, so its cost does not grow with the user count.
CREATE TABLE dose_events (
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
                            'scheduled', 'sending', 'sent', 'snoozed',
                            'taken', 'skipped', 'missed', 'cancelled')),
    next_action_at      INTEGER,
    claimed_at          INTEGER,                   -- set while a send is in flight
    resend_as_repeat    INTEGER NOT NULL DEFAULT 0,-- delivery of an earlier send is unknown
    attempts            INTEGER NOT NULL DEFAULT 0,
    sent_at             INTEGER,
    message_id          INTEGER,
    followup_message_id INTEGER,
    followup_sent_at    INTEGER,
    answered_at         INTEGER,
    UNIQUE (plan_id, local_date, local_time)
);
CREATE INDEX dose_events_next_action ON dose_events (next_action_at)
    WHERE next_action_at IS NOT NULL;
CREATE INDEX dose_events_user_due ON dose_events (user_id, due_at);

-- Tablet helper: the strength the user's pharmacy supplies, and whether it is scored.
ALTER TABLE users ADD COLUMN tablet_mg TEXT;
ALTER TABLE users ADD COLUMN tablet_scored INTEGER NOT NULL DEFAULT 0;
