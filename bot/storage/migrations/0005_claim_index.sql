-- Finding claims left by a crash must not scan every dose event at start.
CREATE INDEX dose_events_claimed ON dose_events (claimed_at) WHERE claimed_at IS NOT NULL;
