-- +goose Up
-- A broad search (花, 花间, 鲜果: one account in sixteen of generated data)
-- counts its first 1,001 matches in name order by walking the entries of
-- its first character in account_search_chars (00092). Each entry looked up
-- its list row for the state, the status and the full match: about four
-- buffers an entry, 4,000 for the counts, most of such a page at a million
-- accounts (29-52 ms p50, 123-211 ms p99).
--
-- Each entry now carries what the counts and the page's filters need: the
-- row's state and status class, and the characters that follow the entry's
-- character in the searched text (its "nexts": 间 for 花 in 花间日记). A query
-- of one character matches every entry of it; a query of two whose first is
-- the entry's character matches exactly the entries whose nexts hold the
-- second (the text holds 花间 exactly when some 花 in it is followed by 间).
-- Those searches, their counts and their filters by status or state, read
-- the entries alone: a few dozen pages, not a list row for each. Longer
-- queries still look up the list row of each entry whose nexts hold the
-- query's next character.
--
-- The state and status are kept by the same trigger as the entries, in the
-- statement (and so the transaction) that changes the list row; a change of
-- state updates the row's entries in place (HOT: no index holds them, and
-- the table keeps room on its pages).

-- The non-ASCII characters of a row's grams and, for each, the characters
-- that follow it (the second characters of its bigrams).
-- +goose StatementBegin
CREATE FUNCTION tm_search_chars(grams text[]) RETURNS TABLE (ch text, nexts text) LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT left(g, 1), string_agg(substr(g, 2), '' ORDER BY g) FROM unnest(grams) g WHERE ascii(g) >= 128 GROUP BY 1
$$;
-- +goose StatementEnd

CREATE TABLE account_search_chars_next (
    ch           text NOT NULL,
    nick_name    text COLLATE tm_name NOT NULL,
    appid        text NOT NULL,
    state        text NOT NULL,
    status_class text NOT NULL,
    nexts        text NOT NULL
) WITH (fillfactor = 85);
INSERT INTO account_search_chars_next (ch, nick_name, appid, state, status_class, nexts)
SELECT c.ch, s.nick_name, s.appid, s.state, s.status_class, c.nexts
FROM authorizer_state s, tm_search_chars(s.search_grams) c
ORDER BY 1, 2, 3;
DROP TABLE account_search_chars;
ALTER TABLE account_search_chars_next RENAME TO account_search_chars;
ALTER TABLE account_search_chars ADD CONSTRAINT account_search_chars_pkey PRIMARY KEY (ch, nick_name, appid);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION account_search_chars_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.nick_name IS NOT DISTINCT FROM NEW.nick_name
       AND OLD.search_grams IS NOT DISTINCT FROM NEW.search_grams THEN
        -- Only the state or the status changed: the same entries, updated.
        UPDATE account_search_chars c SET state = NEW.state, status_class = NEW.status_class
        FROM unnest(NEW.search_grams) g
        WHERE length(g) = 1 AND c.ch = g AND c.nick_name = NEW.nick_name AND c.appid = NEW.appid;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM account_search_chars c USING unnest(OLD.search_grams) g
        WHERE length(g) = 1 AND c.ch = g AND c.nick_name = OLD.nick_name AND c.appid = OLD.appid;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO account_search_chars (ch, nick_name, appid, state, status_class, nexts)
        SELECT c.ch, NEW.nick_name, NEW.appid, NEW.state, NEW.status_class, c.nexts FROM tm_search_chars(NEW.search_grams) c
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
DROP TRIGGER account_search_chars_update ON authorizer_state;
CREATE TRIGGER account_search_chars_update AFTER UPDATE OF nick_name, search_grams, state, status_class ON authorizer_state
    FOR EACH ROW WHEN (OLD.nick_name IS DISTINCT FROM NEW.nick_name OR OLD.search_grams IS DISTINCT FROM NEW.search_grams
                       OR OLD.state IS DISTINCT FROM NEW.state OR OLD.status_class IS DISTINCT FROM NEW.status_class)
    EXECUTE FUNCTION account_search_chars_sync();
ANALYZE account_search_chars;

-- +goose Down
DROP TRIGGER account_search_chars_update ON authorizer_state;
ALTER TABLE account_search_chars DROP COLUMN state, DROP COLUMN status_class, DROP COLUMN nexts;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION account_search_chars_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM account_search_chars c USING unnest(OLD.search_grams) g
        WHERE length(g) = 1 AND c.ch = g AND c.nick_name = OLD.nick_name AND c.appid = OLD.appid;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO account_search_chars (ch, nick_name, appid)
        SELECT g, NEW.nick_name, NEW.appid FROM unnest(NEW.search_grams) g WHERE length(g) = 1
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER account_search_chars_update AFTER UPDATE OF nick_name, search_grams ON authorizer_state
    FOR EACH ROW WHEN (OLD.nick_name IS DISTINCT FROM NEW.nick_name OR OLD.search_grams IS DISTINCT FROM NEW.search_grams)
    EXECUTE FUNCTION account_search_chars_sync();
DROP FUNCTION tm_search_chars(text[]);
