-- A random key per user, made on the first /calendar: each calendar event's UID is a keyed hash
-- of it with the dose's local date and time, so a newer file replaces the events of an older
-- one in the patient's phone calendar. It is not the Telegram id and says nothing about health.
-- Erased with the user row; shown in /mydata.
ALTER TABLE users ADD COLUMN calendar_key TEXT;
