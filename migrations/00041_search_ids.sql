-- +goose Up
-- A search for an appid or an original id (wx + hex digits, gh_ + letters
-- and digits) is a prefix lookup in a btree, not a bigram search: the hex
-- digits' bigrams are each in a sixteenth of all rows, so finding one appid
-- by its bigrams read tens of thousands of index entries (13 ms at 200,000
-- accounts, growing with them). The searched text now begins with the two
-- ids, at fixed places (appid, then the gh_ id or nothing, then name and
-- principal), so an expression index on each place serves the prefix; the
-- search predicate keeps its signature and its callers.

-- The id a query names, lowercased, when it has the shape of one (wx and at
-- least six hex digits; gh_ and at least four letters or digits), else NULL.
-- Shorter queries, and any other text, go through the bigrams as before: a
-- name may well contain "wx" or "gh_", but not an id's worth of hex.
-- +goose StatementBegin
CREATE FUNCTION tm_query_id(q text, kind text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT CASE
        WHEN kind = 'appid' AND tm_search_text(btrim(q)) ~ '^wx[0-9a-f]{6,16}$' THEN tm_search_text(btrim(q))
        WHEN kind = 'gh' AND tm_search_text(btrim(q)) ~ '^gh_[0-9a-z]{4,}$' THEN tm_search_text(btrim(q))
    END
$$;
-- +goose StatementEnd

-- The grams a match must hold; for a query shaped like an id, a gram no row
-- holds (grams are one or two characters), so the bigram branch of the
-- search reads one empty index entry and the id branches do the work.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tm_query_grams(q text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    s text := tm_search_text(q);
BEGIN
    IF tm_query_id(q, 'appid') IS NOT NULL OR tm_query_id(q, 'gh') IS NOT NULL THEN
        RETURN ARRAY['<id>'];
    ELSIF length(s) = 1 AND ascii(s) >= 128 THEN
        RETURN ARRAY[s];
    ELSIF length(s) < 2 THEN
        RETURN '{}';
    END IF;
    RETURN ARRAY(SELECT x FROM unnest(tm_search_grams(s)) x WHERE length(x) = 2);
END
$$;
-- +goose StatementEnd

-- The one search predicate (list, counts, bulk-run selection): a substring
-- through the bigrams, or an id prefix through the ids' indexes. A NULL id
-- makes its branch's range empty; with the query known, the planner drops
-- it altogether. Ids hold only ASCII letters, digits and _, all below '~'.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tm_search_match(grams text[], txt text, q text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (grams @> tm_query_grams(q)
            AND txt LIKE '%' || replace(replace(replace(tm_search_text(q), '\', '\\'), '%', '\%'), '_', '\_') || '%')
        OR (split_part(txt, ' ', 1) COLLATE "C" >= tm_query_id(q, 'appid')
            AND split_part(txt, ' ', 1) COLLATE "C" < tm_query_id(q, 'appid') || '~')
        OR (split_part(txt, ' ', 2) COLLATE "C" >= tm_query_id(q, 'gh')
            AND split_part(txt, ' ', 2) COLLATE "C" < tm_query_id(q, 'gh') || '~')
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION authorizers_state_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cls text := CASE WHEN NEW.revoked_at IS NOT NULL THEN 'revoked'
                     WHEN NOT NEW.is_mini_program THEN 'official'
                     WHEN NEW.account_status <> 1 THEN 'abnormal'
                     ELSE 'normal' END;
    t text := tm_search_text(NEW.appid || ' ' || NEW.user_name || ' ' || NEW.nick_name || ' ' || NEW.principal_name);
BEGIN
    INSERT INTO authorizer_state (appid, status_class, nick_name, search_text, search_grams)
        VALUES (NEW.appid, cls, NEW.nick_name, t, tm_search_grams(t))
        ON CONFLICT (appid) DO UPDATE SET status_class = EXCLUDED.status_class, nick_name = EXCLUDED.nick_name,
            search_text = EXCLUDED.search_text, search_grams = EXCLUDED.search_grams
        WHERE (authorizer_state.status_class, authorizer_state.nick_name, authorizer_state.search_text)
              IS DISTINCT FROM (EXCLUDED.status_class, EXCLUDED.nick_name, EXCLUDED.search_text);
    RETURN NEW;
END
$$;
-- +goose StatementEnd

-- Rewrite every row's text in the new order, with the grams index dropped
-- meanwhile (building it again is much faster than updating it row by row).
DROP INDEX authorizer_state_grams;
UPDATE authorizer_state s SET search_text = x.t, search_grams = tm_search_grams(x.t)
    FROM (SELECT appid, tm_search_text(appid || ' ' || user_name || ' ' || nick_name || ' ' || principal_name) AS t FROM authorizers) x
    WHERE x.appid = s.appid;
CREATE INDEX authorizer_state_grams ON authorizer_state USING gin (search_grams) WITH (fastupdate = off);
CREATE INDEX authorizer_state_search_appid ON authorizer_state ((split_part(search_text, ' ', 1) COLLATE "C"));
CREATE INDEX authorizer_state_search_gh ON authorizer_state ((split_part(search_text, ' ', 2) COLLATE "C"));

-- +goose Down
DROP INDEX authorizer_state_search_gh;
DROP INDEX authorizer_state_search_appid;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tm_search_match(grams text[], txt text, q text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT grams @> tm_query_grams(q)
       AND txt LIKE '%' || replace(replace(replace(tm_search_text(q), '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tm_query_grams(q text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    s text := tm_search_text(q);
BEGIN
    IF length(s) = 1 AND ascii(s) >= 128 THEN
        RETURN ARRAY[s];
    ELSIF length(s) < 2 THEN
        RETURN '{}';
    END IF;
    RETURN ARRAY(SELECT x FROM unnest(tm_search_grams(s)) x WHERE length(x) = 2);
END
$$;
-- +goose StatementEnd
DROP FUNCTION tm_query_id(text, text);
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION authorizers_state_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cls text := CASE WHEN NEW.revoked_at IS NOT NULL THEN 'revoked'
                     WHEN NOT NEW.is_mini_program THEN 'official'
                     WHEN NEW.account_status <> 1 THEN 'abnormal'
                     ELSE 'normal' END;
    t text := tm_search_text(NEW.nick_name || ' ' || NEW.appid || ' ' || NEW.principal_name || ' ' || NEW.user_name);
BEGIN
    INSERT INTO authorizer_state (appid, status_class, nick_name, search_text, search_grams)
        VALUES (NEW.appid, cls, NEW.nick_name, t, tm_search_grams(t))
        ON CONFLICT (appid) DO UPDATE SET status_class = EXCLUDED.status_class, nick_name = EXCLUDED.nick_name,
            search_text = EXCLUDED.search_text, search_grams = EXCLUDED.search_grams
        WHERE (authorizer_state.status_class, authorizer_state.nick_name, authorizer_state.search_text)
              IS DISTINCT FROM (EXCLUDED.status_class, EXCLUDED.nick_name, EXCLUDED.search_text);
    RETURN NEW;
END
$$;
-- +goose StatementEnd
UPDATE authorizer_state s SET search_text = x.t, search_grams = tm_search_grams(x.t)
    FROM (SELECT appid, tm_search_text(nick_name || ' ' || appid || ' ' || principal_name || ' ' || user_name) AS t FROM authorizers) x
    WHERE x.appid = s.appid;
