-- +goose Up
-- A bulk run either checks or opens the traffic master (action) or applies
-- one ad operation (op) with its settings (params) to every account, through
-- the same queue, rate, pause, cancel and exactly-once items. A run has one
-- or the other, never both: check and open runs are unchanged.
ALTER TABLE runs ALTER COLUMN action DROP NOT NULL;
ALTER TABLE runs
    ADD COLUMN op     text CHECK (op IN ('unit_create', 'slot_switch', 'cover_status', 'cover_scene', 'blocklist', 'block_industry', 'share_ratio')),
    ADD COLUMN params jsonb;
ALTER TABLE runs ADD CONSTRAINT runs_action_or_op CHECK ((action IS NULL) = (op IS NOT NULL) AND (op IS NULL) = (params IS NULL));

-- +goose Down
DELETE FROM runs WHERE op IS NOT NULL;
ALTER TABLE runs DROP CONSTRAINT runs_action_or_op;
ALTER TABLE runs DROP COLUMN op, DROP COLUMN params;
ALTER TABLE runs ALTER COLUMN action SET NOT NULL;
