-- When a claimed reminder's request actually left (NULL: claimed, still waiting for a send slot).
-- After a crash only rows that left may have reached the patient, so only those are re-sent as
-- possible repeats; the rest go out as ordinary reminders.
ALTER TABLE dose_events ADD COLUMN in_flight_at INTEGER;

-- The same for broadcast messages: a claimed row that never left goes back to pending.
ALTER TABLE broadcast_outbox ADD COLUMN in_flight_at INTEGER;

-- A reminder given up after its last attempt (the patient got nothing): set until the next
-- reminder that does reach them says so.
ALTER TABLE dose_events ADD COLUMN undelivered_at INTEGER;
