-- +goose Up
-- A broad search (one common character such as 花, or a common pair such as
-- 花间: one name in sixteen at a million accounts) needs only its first page
-- in name order, but the bigram index yields matches in table order: the
-- page sorted every match (tens of thousands of rows, 0.5-1.3 s), and walking
-- the name index instead reads every name before the first match (the
-- matches of a name's first word are one block in pinyin order: 312,500
-- names before 花间 in generated data).
--
-- account_search_chars holds, for every non-ASCII character of a list row's
-- searched text (its single-character grams), the row's name and appid, in
-- name order under the primary key. A broad search walks its character's
-- entries from the page's cursor in name order and checks each row's full
-- match, stopping at a page: a few hundred rows wherever the matches lie.
-- It is kept by the statement that changes a list row's name or text.
CREATE TABLE account_search_chars (
    ch        text NOT NULL,
    nick_name text COLLATE tm_name NOT NULL,
    appid     text NOT NULL,
    PRIMARY KEY (ch, nick_name, appid)
);

-- +goose StatementBegin
CREATE FUNCTION account_search_chars_sync() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER account_search_chars_insert AFTER INSERT OR DELETE ON authorizer_state
    FOR EACH ROW EXECUTE FUNCTION account_search_chars_sync();
CREATE TRIGGER account_search_chars_update AFTER UPDATE OF nick_name, search_grams ON authorizer_state
    FOR EACH ROW WHEN (OLD.nick_name IS DISTINCT FROM NEW.nick_name OR OLD.search_grams IS DISTINCT FROM NEW.search_grams)
    EXECUTE FUNCTION account_search_chars_sync();

INSERT INTO account_search_chars (ch, nick_name, appid)
SELECT g, s.nick_name, s.appid FROM authorizer_state s, unnest(s.search_grams) g WHERE length(g) = 1
ORDER BY 1, 2, 3
ON CONFLICT DO NOTHING;
ANALYZE account_search_chars;

-- +goose Down
DROP TRIGGER account_search_chars_update ON authorizer_state;
DROP TRIGGER account_search_chars_insert ON authorizer_state;
DROP FUNCTION account_search_chars_sync();
DROP TABLE account_search_chars;
