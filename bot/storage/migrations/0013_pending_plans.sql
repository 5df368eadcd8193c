-- A plan saved to start on a later day (issue 19): the current plan keeps reminding until the
-- new one's first day begins in the patient's zone, when the dispatcher's pass switches them.
-- Saving a plan to start today, or another plan for later, replaces the waiting one.
CREATE TABLE pending_plans (
    user_id              INTEGER PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    kind                 TEXT NOT NULL,
    start_date           TEXT NOT NULL,
    steps                TEXT NOT NULL,
    ends_after_last_step INTEGER NOT NULL,
    high_dose_confirmed  INTEGER NOT NULL,
    created_at           INTEGER NOT NULL
);
CREATE INDEX pending_plans_start ON pending_plans (start_date);
