-- +goose Up
-- A run pauses itself when WeChat answers with a platform-wide error (the
-- platform lacks a permission, the server IP is not allowed, the daily quota is
-- spent…): every further call would fail the same way. The code and message
-- say why on the run's page until someone resumes it.
ALTER TABLE runs
    ADD COLUMN pause_code    integer,
    ADD COLUMN pause_message text NOT NULL DEFAULT '',
    ADD COLUMN paused_at     timestamptz;

-- +goose Down
ALTER TABLE runs DROP COLUMN pause_code, DROP COLUMN pause_message, DROP COLUMN paused_at;
