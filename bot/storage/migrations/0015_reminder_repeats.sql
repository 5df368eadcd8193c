-- Reminders that repeat until answered (issue 22). Each patient chooses how an unanswered
-- reminder repeats: 0 = once, with one follow-up 30 minutes later (the behaviour before this
-- migration, and the default), or every 10, 15 or 30 minutes until the dose is answered.
ALTER TABLE users ADD COLUMN reminder_repeat_minutes INTEGER NOT NULL DEFAULT 0
    CHECK (reminder_repeat_minutes IN (0, 10, 15, 30));

-- A repeat is the same dose row acted on again (its next_action_at is the next repeat), so it
-- is claimed, sent and recovered like every reminder. repeat_message_id: the latest repeat's
-- message, the one live reminder of the dose (each repeat replaces the one before);
-- repeats_sent: how many went out for the dose (ids only, for the logs and /mydata).
ALTER TABLE dose_events ADD COLUMN repeat_message_id INTEGER;
ALTER TABLE dose_events ADD COLUMN repeats_sent INTEGER NOT NULL DEFAULT 0;
