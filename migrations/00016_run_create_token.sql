-- +goose Up
-- A run is started from a confirmation form that carries a one-time token.
-- Submitting the same form twice (a double click, Back and submit again)
-- presents the same token, and this constraint makes the second insert fail,
-- so the run is started once and the second request is sent to it.
ALTER TABLE runs ADD COLUMN create_token text;
ALTER TABLE runs ADD CONSTRAINT runs_create_token_key UNIQUE (create_token);

-- +goose Down
ALTER TABLE runs DROP COLUMN create_token;
