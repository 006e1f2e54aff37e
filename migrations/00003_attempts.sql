-- +goose Up
-- Trigram indexes make the Mini Program search (substring of name, appid or
-- principal) an index scan at 100,000 accounts. pg_trgm is a trusted extension.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Every check and open attempt, inserted pending and committed before WeChat
-- is called, then completed exactly once. Append-only (see the trigger below).
CREATE TABLE attempts (
    id              bigserial PRIMARY KEY,
    appid           text NOT NULL REFERENCES authorizers (appid),
    action          text NOT NULL CHECK (action IN ('check', 'open')),
    staff_id        bigint REFERENCES staff (id),
    run_id          bigint,
    request_id      text NOT NULL DEFAULT '',
    client_ip       text NOT NULL DEFAULT '',
    -- instance_id names the process that owns a pending row, so a restarted
    -- process can tell its predecessor's orphans from a live neighbour's calls.
    instance_id     text NOT NULL DEFAULT '',
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    status          text NOT NULL CHECK (status IN ('pending', 'completed', 'interrupted', 'rejected')),
    outcome         text NOT NULL DEFAULT '',
    code            integer,
    message         text NOT NULL DEFAULT '',
    check_status    integer,
    raw             bytea,
    latency_ms      integer NOT NULL DEFAULT 0,
    transport_error text NOT NULL DEFAULT ''
);
-- Inserting the pending row is the lock: one attempt per Mini Program in
-- flight across every instance, and the lock is visible in the audit itself.
CREATE UNIQUE INDEX attempts_one_pending ON attempts (appid) WHERE status = 'pending';
CREATE INDEX attempts_appid_id ON attempts (appid, id DESC);
CREATE INDEX attempts_staff_id ON attempts (staff_id, id DESC);
CREATE INDEX attempts_outcome_id ON attempts (outcome, id DESC);
CREATE INDEX attempts_code_id ON attempts (code, id DESC) WHERE code IS NOT NULL;
CREATE INDEX attempts_started_at ON attempts (started_at DESC, id DESC);
CREATE INDEX attempts_pending ON attempts (instance_id) WHERE status = 'pending';

-- +goose StatementBegin
CREATE FUNCTION attempts_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'attempts are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- The one allowed update: completing a pending row, once, without
    -- touching who, what, when and where it started.
    IF OLD.status <> 'pending'
       OR NEW.status NOT IN ('completed', 'interrupted')
       OR NEW.id IS DISTINCT FROM OLD.id
       OR NEW.appid IS DISTINCT FROM OLD.appid
       OR NEW.action IS DISTINCT FROM OLD.action
       OR NEW.staff_id IS DISTINCT FROM OLD.staff_id
       OR NEW.run_id IS DISTINCT FROM OLD.run_id
       OR NEW.request_id IS DISTINCT FROM OLD.request_id
       OR NEW.client_ip IS DISTINCT FROM OLD.client_ip
       OR NEW.instance_id IS DISTINCT FROM OLD.instance_id
       OR NEW.started_at IS DISTINCT FROM OLD.started_at THEN
        RAISE EXCEPTION 'attempts are append-only: only completing a pending attempt once is allowed' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER attempts_append_only BEFORE UPDATE OR DELETE ON attempts
    FOR EACH ROW EXECUTE FUNCTION attempts_append_only();
CREATE TRIGGER attempts_no_truncate BEFORE TRUNCATE ON attempts
    FOR EACH STATEMENT EXECUTE FUNCTION attempts_append_only();

-- Search by substring of name, appid or principal. pg_trgm ignores Chinese
-- characters under the C locale, so the key spells every non-ASCII character
-- as u + six hex digits (ASCII lowercased): a substring of the text is then
-- an ASCII substring of the key, which a trigram index finds in any locale.
-- +goose StatementBegin
CREATE FUNCTION tm_search_key(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT coalesce(string_agg(CASE WHEN ascii(c) < 128 THEN lower(c) ELSE 'u' || lpad(to_hex(ascii(c)), 6, '0') END, '' ORDER BY i), '')
    FROM unnest(string_to_array(t, NULL)) WITH ORDINALITY AS x(c, i)
$$;
-- +goose StatementEnd

-- The list row of each account: its traffic-master state, derived from its
-- attempts and updated in the transaction that completes one, beside copies of
-- what the list filters and sorts by (status class, name, search key), kept
-- by a trigger on authorizers. Derived data, not audit: it may be updated, and
-- it lets the list, its search and its counts read one narrow table at
-- 100,000 accounts and 10 million attempts.
CREATE TABLE authorizer_state (
    appid           text PRIMARY KEY REFERENCES authorizers (appid),
    state           text NOT NULL DEFAULT 'never',
    status_class    text NOT NULL DEFAULT 'normal',
    nick_name       text NOT NULL DEFAULT '',
    search_key      text NOT NULL DEFAULT '',
    last_attempt_id bigint,
    last_attempt_at timestamptz,
    last_outcome    text NOT NULL DEFAULT '',
    last_code       integer
);
CREATE INDEX authorizer_state_counts ON authorizer_state (status_class, state);
CREATE INDEX authorizer_state_name ON authorizer_state (nick_name, appid);
CREATE INDEX authorizer_state_state_name ON authorizer_state (state, nick_name, appid);
CREATE INDEX authorizer_state_last ON authorizer_state (last_attempt_at DESC NULLS LAST, appid);
CREATE INDEX authorizer_state_search ON authorizer_state USING gin (search_key gin_trgm_ops);

-- Every account has a list row from the moment it is stored, whoever stores it.
-- +goose StatementBegin
CREATE FUNCTION authorizers_state_row() RETURNS trigger LANGUAGE plpgsql AS $$
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
INSERT INTO authorizer_state (appid, status_class, nick_name, search_key)
    SELECT appid, CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN NOT is_mini_program THEN 'official'
                       WHEN account_status <> 1 THEN 'abnormal' ELSE 'normal' END,
           nick_name, tm_search_key(nick_name || ' ' || appid || ' ' || principal_name)
    FROM authorizers ON CONFLICT DO NOTHING;

-- +goose Down
DROP TRIGGER authorizers_state_row ON authorizers;
DROP FUNCTION authorizers_state_row();
DROP TABLE authorizer_state;
DROP FUNCTION tm_search_key(text);
DROP TABLE attempts;
DROP FUNCTION attempts_append_only();
