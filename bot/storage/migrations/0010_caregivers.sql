-- Caregivers (issue 13): a partner or parent linked by a one-time invite, told when a dose is
-- still unanswered a while after its follow-up, when two doses in a row are missed, and when a
-- taper step starts. Never doses or history.

-- How long after a reminder's follow-up a caregiver is told the dose is still unanswered.
ALTER TABLE users ADD COLUMN caregiver_delay_minutes INTEGER NOT NULL DEFAULT 60
    CHECK (caregiver_delay_minutes BETWEEN 30 AND 180);

-- A one-time invite link. Only a hash of the token is stored: the database alone cannot be
-- used to accept an invite. used_at: accepted. At most three stay open per patient.
CREATE TABLE caregiver_invites (
    invite_id    INTEGER PRIMARY KEY,
    patient_id   INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    patient_name TEXT NOT NULL,      -- the patient's Telegram first name, shown to the invitee
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
);
CREATE INDEX caregiver_invites_patient ON caregiver_invites (patient_id);

-- One row per patient and caregiver. The caregiver has a users row too (consented_at NULL
-- unless they are also a patient), so that erasure, /mydata and "unreachable" work for them as
-- for anyone; erasing either side deletes the link and, with it, its alerts.
CREATE TABLE caregivers (
    link_id        INTEGER PRIMARY KEY,
    patient_id     INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    caregiver_id   INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    patient_name   TEXT NOT NULL,    -- as the caregiver sees the patient
    caregiver_name TEXT NOT NULL,    -- as the patient sees the caregiver
    linked_at      INTEGER NOT NULL,
    UNIQUE (patient_id, caregiver_id),
    CHECK (patient_id != caregiver_id)
);
CREATE INDEX caregivers_caregiver ON caregivers (caregiver_id);

-- One alert to one caregiver about one dose. next_action_at is when the dispatcher sends it
-- (NULL once its life is over, see bot.storage.caregivers); the due scan reads the partial
-- index, as for dose events. base_at: the follow-up instant the delay counts from.
CREATE TABLE caregiver_alerts (
    alert_id       INTEGER PRIMARY KEY,
    link_id        INTEGER NOT NULL REFERENCES caregivers (link_id) ON DELETE CASCADE,
    event_id       INTEGER NOT NULL REFERENCES dose_events (event_id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN ('unanswered', 'taper_step')),
    state          TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'done')),
    outcome        TEXT CHECK (outcome IN (
                       'sent', 'answered', 'cancelled', 'unreachable', 'rejected', 'given_up')),
    said           TEXT,             -- what the sent message said: 'unanswered', 'two_missed', 'taper_step'
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
CREATE INDEX caregiver_alerts_next_action ON caregiver_alerts (next_action_at)
    WHERE next_action_at IS NOT NULL;
CREATE INDEX caregiver_alerts_event ON caregiver_alerts (event_id);
CREATE INDEX caregiver_alerts_claimed ON caregiver_alerts (claimed_at)
    WHERE claimed_at IS NOT NULL;
