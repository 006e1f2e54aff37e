-- +goose Up
-- One row per component appid, so two platforms pushing to one URL never
-- overwrite each other's ticket or token.
CREATE TABLE platforms (
    component_appid            text PRIMARY KEY,
    verify_ticket              text NOT NULL DEFAULT '',
    verify_ticket_at           timestamptz,
    component_token            text NOT NULL DEFAULT '',
    component_token_expires_at timestamptz,
    component_token_refreshed_at timestamptz,
    last_sync_started_at       timestamptz,
    last_sync_finished_at      timestamptz,
    last_sync_ok               boolean,
    last_sync_message          text NOT NULL DEFAULT '',
    retry_below_threshold      boolean NOT NULL DEFAULT true,
    updated_at                 timestamptz NOT NULL DEFAULT now()
);

-- Authorized accounts, synced from WeChat. Never deleted: a revoked account
-- keeps its history. Refresh tokens are encrypted (AES-GCM) at rest.
CREATE TABLE authorizers (
    appid                 text PRIMARY KEY,
    component_appid       text NOT NULL REFERENCES platforms (component_appid),
    is_mini_program       boolean NOT NULL DEFAULT false,
    nick_name             text NOT NULL DEFAULT '',
    head_img              text NOT NULL DEFAULT '',
    user_name             text NOT NULL DEFAULT '',
    principal_name        text NOT NULL DEFAULT '',
    account_status        integer NOT NULL DEFAULT 0,
    service_type          integer NOT NULL DEFAULT 0,
    verify_type           integer NOT NULL DEFAULT 0,
    refresh_token_enc     bytea,
    authorized_at         timestamptz,
    revoked_at            timestamptz,
    revoked_reason        text NOT NULL DEFAULT '',
    retry_below_threshold boolean NOT NULL DEFAULT true,
    raw_info              jsonb,
    info_synced_at        timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX authorizers_component_idx ON authorizers (component_appid);

-- Authorizer access tokens (2 h). Kept in Postgres so every instance reuses one.
CREATE TABLE authorizer_tokens (
    appid        text PRIMARY KEY REFERENCES authorizers (appid),
    access_token_enc bytea NOT NULL,
    expires_at   timestamptz NOT NULL,
    refreshed_at timestamptz NOT NULL DEFAULT now()
);

-- Every accepted push, stored before 'success' is answered.
CREATE TABLE wechat_events (
    id              bigserial PRIMARY KEY,
    received_at     timestamptz NOT NULL DEFAULT now(),
    component_appid text NOT NULL,
    info_type       text NOT NULL,
    authorizer_appid text NOT NULL DEFAULT '',
    create_time     timestamptz,
    dedupe_key      text NOT NULL,
    raw_body        text NOT NULL,
    decrypted_xml   text NOT NULL,
    decoded         jsonb NOT NULL
);
-- WeChat retries a push it got no 'success' for; the same event is stored once.
CREATE UNIQUE INDEX wechat_events_dedupe_key ON wechat_events (dedupe_key);

-- +goose Down
DROP TABLE wechat_events;
DROP TABLE authorizer_tokens;
DROP TABLE authorizers;
DROP TABLE platforms;
