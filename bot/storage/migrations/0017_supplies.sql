-- Issue 21 (supply part): how much oral baclofen a patient has on hand, so the bot can project
-- the day it runs out across a titration or taper and remind them to order in time (fact sheet
-- 2.14). One row per patient. Tablets are counted in halves (on_hand = half-tablets); a liquid
-- in hundredths of a mL (on_hand = mL x 100), and only with the strength printed on the bottle
-- (mg_per_ml): without it the bot never converts mL to mg (2.14, section 3 item 11).
CREATE TABLE supplies (
    user_id           INTEGER PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    form              TEXT NOT NULL CHECK (form IN ('tablet', 'liquid')),
    strength_mg       TEXT,                              -- per tablet (Decimal text)
    scored            INTEGER NOT NULL DEFAULT 0 CHECK (scored IN (0, 1)),
    mg_per_ml         TEXT,                              -- liquid strength (Decimal text)
    on_hand           INTEGER NOT NULL CHECK (on_hand >= 0),
    lead_days         INTEGER NOT NULL DEFAULT 10 CHECK (lead_days BETWEEN 0 AND 60),
    counted_at        INTEGER NOT NULL,                  -- UTC seconds of the last count
    refill_ordered_at INTEGER,                           -- "I ordered": snoozes order reminders
    updated_at        INTEGER NOT NULL,
    CHECK (form = 'liquid' OR strength_mg IS NOT NULL)
);

-- The refill reminders already sent (the database is the schedule): one row per patient,
-- kind and run-out date, so a reminder is sent once even across restarts, and a refill that
-- moves the date makes new ones due.
CREATE TABLE supply_reminders (
    user_id      INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('order', 'two_days', 'last_day')),
    run_out_date TEXT NOT NULL,
    sent_at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind, run_out_date)
);
