-- +goose Up
-- Upstream token refreshes are counted because the token endpoints have daily
-- quotas that cannot be reset; the platform page shows these counts.
ALTER TABLE platforms
    ADD COLUMN component_token_refreshes  bigint NOT NULL DEFAULT 0,
    ADD COLUMN authorizer_token_refreshes bigint NOT NULL DEFAULT 0,
    ADD COLUMN last_sync_result           jsonb;

-- +goose Down
ALTER TABLE platforms
    DROP COLUMN component_token_refreshes,
    DROP COLUMN authorizer_token_refreshes,
    DROP COLUMN last_sync_result;
