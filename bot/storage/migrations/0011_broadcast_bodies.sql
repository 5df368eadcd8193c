-- A broadcast in each language: the admin's words are written once, the template around them
-- is in the recipient's language (issue 12). broadcasts.body stays the default language's text,
-- for recipients whose language has no row (a language added after the broadcast was written).
CREATE TABLE broadcast_bodies (
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts (broadcast_id) ON DELETE CASCADE,
    language     TEXT NOT NULL,
    body         TEXT NOT NULL,
    PRIMARY KEY (broadcast_id, language)
);
