-- Issue 21 (pump part): pump mode for intrathecal (ITB) users and their refill reminders.
-- The refill date is the one the clinic gave (fact sheet 2.13: the clinic sets it from the
-- pump readout, and the bot never works one out). Local dates as YYYY-MM-DD.
ALTER TABLE users ADD COLUMN pump_mode INTEGER NOT NULL DEFAULT 0 CHECK (pump_mode IN (0, 1));
-- The next refill date the clinic gave, the low-reservoir alarm date from the clinic's
-- printout (optional), and the clinic's phone number as the patient typed it (optional).
ALTER TABLE users ADD COLUMN pump_refill_on TEXT;
ALTER TABLE users ADD COLUMN pump_alarm_on TEXT;
ALTER TABLE users ADD COLUMN pump_clinic_phone TEXT;

-- The schedule of refill reminders and the caregiver alerts about the pump: one row per
-- message, due at due_at (UTC seconds). kind: 'd14', 'd7', 'd3', 'd1', 'd0' (days before the
-- refill, at 10:00 local), 'cg_missed' (the refill day passed without "refill done": the
-- caregivers are told), 'cg_alarm' (the patient wrote about a pump alarm).
CREATE TABLE refill_reminders (
    reminder_id INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('d14', 'd7', 'd3', 'd1', 'd0', 'cg_missed', 'cg_alarm')),
    refill_on   TEXT,                -- the refill date the row is about
    due_at      INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'cancelled', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    sent_at     INTEGER
);
CREATE INDEX refill_reminders_due ON refill_reminders (due_at) WHERE status = 'pending';
CREATE INDEX refill_reminders_user ON refill_reminders (user_id, status);
