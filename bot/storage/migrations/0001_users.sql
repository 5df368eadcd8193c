-- Instants are INTEGER unix seconds (UTC by definition); local times are computed with zoneinfo.
CREATE TABLE users (
    user_id          INTEGER PRIMARY KEY,          -- Telegram user id
    timezone         TEXT,                         -- IANA name, NULL until chosen
    region           TEXT,                         -- content-pack region key, NULL until chosen
    language         TEXT NOT NULL DEFAULT 'en',
    consented_at     INTEGER,                      -- NULL: nothing beyond the id may be stored
    announcements    INTEGER NOT NULL DEFAULT 1 CHECK (announcements IN (0, 1)),
    reminders_paused INTEGER NOT NULL DEFAULT 0 CHECK (reminders_paused IN (0, 1)),
    unreachable_at   INTEGER,                      -- set when Telegram answers 403
    created_at       INTEGER NOT NULL
);
