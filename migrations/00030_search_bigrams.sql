-- +goose Up
-- Search that stays selective for Chinese. The old key spelled every
-- non-ASCII character as u + six hex digits, so every Chinese character began
-- with the same trigrams and a trigram index could not tell 花间 from any other
-- name (a search read most of the table at a million accounts). Now the list
-- row keeps the searched text itself (name, appid, principal and the original
-- gh_ id, ASCII lowercased) and the set of its character bigrams, plus each
-- non-ASCII character alone for one-character searches, under a GIN index: a
-- search takes the rows holding all of its bigrams, then checks the substring.

-- The searched text: ASCII letters lowercased, everything else as it is.
-- +goose StatementBegin
CREATE FUNCTION tm_search_text(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT translate(t, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
$$;
-- +goose StatementEnd

-- The grams of a row's text: every character bigram, and every non-ASCII
-- character alone. (PL/pgSQL: the same in plain SQL took 50 times longer.)
-- +goose StatementBegin
CREATE FUNCTION tm_search_grams(t text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    c text[] := string_to_array(tm_search_text(t), NULL);
    n int := cardinality(c);
    g text[] := '{}';
BEGIN
    FOR i IN 1 .. n LOOP
        IF i < n THEN
            g := g || (c[i] || c[i + 1]);
        END IF;
        IF ascii(c[i]) >= 128 THEN
            g := g || c[i];
        END IF;
    END LOOP;
    RETURN ARRAY(SELECT DISTINCT x FROM unnest(g) x);
END
$$;
-- +goose StatementEnd

-- The grams every match must hold: the query's bigrams, or the character
-- itself for a one-character query (none for one ASCII character, which
-- nearly every row holds anyway).
-- +goose StatementBegin
CREATE FUNCTION tm_query_grams(q text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
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

-- The one search predicate, used by the list, its counts and bulk-run
-- selection alike: a substring of the text (LIKE's metacharacters taken
-- literally), found through the grams index. A plain SQL expression, so the
-- planner inlines it and the grams condition reaches the index.
-- +goose StatementBegin
CREATE FUNCTION tm_search_match(grams text[], txt text, q text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT grams @> tm_query_grams(q)
       AND txt LIKE '%' || replace(replace(replace(tm_search_text(q), '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;
-- +goose StatementEnd

DROP INDEX authorizer_state_search;
ALTER TABLE authorizer_state DROP COLUMN search_key;
ALTER TABLE authorizer_state ADD COLUMN search_text text NOT NULL DEFAULT '',
    ADD COLUMN search_grams text[] NOT NULL DEFAULT '{}';
UPDATE authorizer_state s SET search_text = tm_search_text(a.nick_name || ' ' || a.appid || ' ' || a.principal_name || ' ' || a.user_name),
    search_grams = tm_search_grams(a.nick_name || ' ' || a.appid || ' ' || a.principal_name || ' ' || a.user_name)
    FROM authorizers a WHERE a.appid = s.appid;
CREATE INDEX authorizer_state_grams ON authorizer_state USING gin (search_grams) WITH (fastupdate = off);

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
DROP TRIGGER authorizers_state_row ON authorizers;
CREATE TRIGGER authorizers_state_row AFTER INSERT OR UPDATE OF revoked_at, is_mini_program, account_status, nick_name, principal_name, user_name ON authorizers
    FOR EACH ROW EXECUTE FUNCTION authorizers_state_row();

-- +goose Down
DROP TRIGGER authorizers_state_row ON authorizers;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION authorizers_state_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cls text := CASE WHEN NEW.revoked_at IS NOT NULL THEN 'revoked'
                     WHEN NOT NEW.is_mini_program THEN 'official'
                     WHEN NEW.account_status <> 1 THEN 'abnormal'
                     ELSE 'normal' END;
    k text := tm_search_key(NEW.nick_name || ' ' || NEW.appid || ' ' || NEW.principal_name);
BEGIN
    INSERT INTO authorizer_state (appid, status_class, nick_name, search_key) VALUES (NEW.appid, cls, NEW.nick_name, k)
        ON CONFLICT (appid) DO UPDATE SET status_class = EXCLUDED.status_class, nick_name = EXCLUDED.nick_name, search_key = EXCLUDED.search_key
        WHERE (authorizer_state.status_class, authorizer_state.nick_name, authorizer_state.search_key)
              IS DISTINCT FROM (EXCLUDED.status_class, EXCLUDED.nick_name, EXCLUDED.search_key);
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER authorizers_state_row AFTER INSERT OR UPDATE OF revoked_at, is_mini_program, account_status, nick_name, principal_name ON authorizers
    FOR EACH ROW EXECUTE FUNCTION authorizers_state_row();
DROP INDEX authorizer_state_grams;
ALTER TABLE authorizer_state ADD COLUMN search_key text NOT NULL DEFAULT '';
UPDATE authorizer_state s SET search_key = tm_search_key(a.nick_name || ' ' || a.appid || ' ' || a.principal_name)
    FROM authorizers a WHERE a.appid = s.appid;
CREATE INDEX authorizer_state_search ON authorizer_state USING gin (search_key gin_trgm_ops);
ALTER TABLE authorizer_state DROP COLUMN search_text, DROP COLUMN search_grams;
DROP FUNCTION tm_search_match(text[], text, text);
DROP FUNCTION tm_query_grams(text);
DROP FUNCTION tm_search_grams(text);
DROP FUNCTION tm_search_text(text);
