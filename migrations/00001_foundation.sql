-- +goose Up
CREATE TABLE staff (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX staff_username_key ON staff (lower(username));

-- The cookie carries a random token; only its SHA-256 is stored, so a copy of
-- this table cannot be replayed as sessions.
CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    staff_id     bigint REFERENCES staff (id) ON DELETE CASCADE,
    data         bytea NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_staff_idx ON sessions (staff_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE security_log (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    event           text NOT NULL,
    success         boolean NOT NULL,
    actor_id        bigint REFERENCES staff (id),
    target_id       bigint REFERENCES staff (id),
    username        text NOT NULL DEFAULT '',
    client_ip       text NOT NULL DEFAULT '',
    request_id      text NOT NULL DEFAULT '',
    detail          text NOT NULL DEFAULT ''
);
CREATE INDEX security_log_at_idx ON security_log (at DESC, id DESC);
CREATE INDEX security_log_login_user_idx ON security_log (lower(username), at) WHERE event = 'login' AND NOT success;
CREATE INDEX security_log_login_ip_idx ON security_log (client_ip, at) WHERE event = 'login' AND NOT success;

-- +goose StatementBegin
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER security_log_append_only BEFORE UPDATE OR DELETE ON security_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER security_log_no_truncate BEFORE TRUNCATE ON security_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- +goose Down
DROP TABLE security_log;
DROP FUNCTION refuse_change();
DROP TABLE sessions;
DROP TABLE staff;
