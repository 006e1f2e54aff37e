-- +goose Up
-- A Mini Program's page lists the bulk runs it was part of, newest first.
CREATE INDEX run_items_appid_run ON run_items (appid, run_id DESC);

-- +goose Down
DROP INDEX run_items_appid_run;
