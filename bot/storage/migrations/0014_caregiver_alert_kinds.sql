-- Caregiver alerts (issue 19): an unanswered-dose alert now passes the dose-safety check
-- before it is sent, so it can also end as 'superseded' (a later dose time has passed, or the
-- plan changed) or 'recently_taken' (a dose was recorded as taken under 2 hours ago); and
-- two more alerts about the plan exist: 'taper_end' (the last dose of a taper that stops) and
-- 'step_down' (a lower step of a plan that is not a taper). SQLite cannot change a CHECK, so
-- the table is built again with the same columns and rows.
CREATE TABLE caregiver_alerts_new (
    alert_id       INTEGER PRIMARY KEY,
    link_id        INTEGER NOT NULL REFERENCES caregivers (link_id) ON DELETE CASCADE,
    event_id       INTEGER NOT NULL REFERENCES dose_events (event_id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN (
                       'unanswered', 'taper_step', 'taper_end', 'step_down')),
    state          TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'done')),
    outcome        TEXT CHECK (outcome IN (
                       'sent', 'answered', 'superseded', 'recently_taken', 'cancelled',
                       'unreachable', 'rejected', 'given_up')),
    said           TEXT,             -- what the sent message said (bot.domain.caregivers.Said)
    base_at        INTEGER NOT NULL,
    next_action_at INTEGER,
    claimed_at     INTEGER,
    in_flight_at   INTEGER,
    attempts       INTEGER NOT NULL DEFAULT 0,
    sent_at        INTEGER,
    message_id     INTEGER,
    finished_at    INTEGER,
    UNIQUE (link_id, event_id, kind)
);
INSERT INTO caregiver_alerts_new (alert_id, link_id, event_id, kind, state, outcome, said,
    base_at, next_action_at, claimed_at, in_flight_at, attempts, sent_at, message_id,
    finished_at)
SELECT alert_id, link_id, event_id, kind, state, outcome, said, base_at, next_action_at,
    claimed_at, in_flight_at, attempts, sent_at, message_id, finished_at
FROM caregiver_alerts;
DROP TABLE caregiver_alerts;
ALTER TABLE caregiver_alerts_new RENAME TO caregiver_alerts;
CREATE INDEX caregiver_alerts_next_action ON caregiver_alerts (next_action_at)
    WHERE next_action_at IS NOT NULL;
CREATE INDEX caregiver_alerts_event ON caregiver_alerts (event_id);
CREATE INDEX caregiver_alerts_claimed ON caregiver_alerts (claimed_at)
    WHERE claimed_at IS NOT NULL;
