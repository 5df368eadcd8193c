-- How the patient is doing at each step (issue 11): asked the evening before each increase
-- and on /checkin. Scores: stiffness and spasms 0-10 (numeric rating scale); side effects
-- 0 none, 1 mild, 2 strong. A note only when the patient typed one.
CREATE TABLE checkins (
    checkin_id   INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    plan_id      INTEGER NOT NULL REFERENCES plans (plan_id) ON DELETE CASCADE,
    step_number  INTEGER NOT NULL,
    before_increase INTEGER NOT NULL CHECK (before_increase IN (0, 1)),
    created_at   INTEGER NOT NULL,
    stiffness    INTEGER CHECK (stiffness BETWEEN 0 AND 10),
    drowsiness   INTEGER CHECK (drowsiness BETWEEN 0 AND 2),
    dizziness    INTEGER CHECK (dizziness BETWEEN 0 AND 2),
    weakness     INTEGER CHECK (weakness BETWEEN 0 AND 2),
    nausea       INTEGER CHECK (nausea BETWEEN 0 AND 2),
    note         TEXT,
    completed_at INTEGER
);
CREATE INDEX checkins_user_plan ON checkins (user_id, plan_id, step_number);

-- "Stay at this dose longer, as my prescriber allows": who chose it and when. The plan's step
-- is extended in place (plans.steps) and later doses move; this row is the record.
CREATE TABLE holds (
    hold_id      INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    plan_id      INTEGER NOT NULL REFERENCES plans (plan_id) ON DELETE CASCADE,
    step_number  INTEGER NOT NULL,
    extra_days   INTEGER NOT NULL CHECK (extra_days BETWEEN 1 AND 7),
    chosen_by    INTEGER,            -- the Telegram user who pressed it (the patient)
    chosen_at    INTEGER NOT NULL,
    checkin_id   INTEGER REFERENCES checkins (checkin_id) ON DELETE SET NULL
);
CREATE INDEX holds_user_plan ON holds (user_id, plan_id);
