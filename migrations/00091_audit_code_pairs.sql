-- +goose Up
-- The WeChat code filter in every pair the audit's form offers is served by
-- an index that yields the pair's rows newest first (00042 did this for the
-- other filters; the code had only its own index, so a code beside a staff
-- member, an action, an outcome or a run that rarely go with it walked all
-- of the code's rows, or all of the other filter's, looking for the pair).
--   code + staff, code + action, code + outcome (and so code + what to do
--   next, read outcome by outcome), code + run: one index each below;
--   code + account: the account's own attempts, filtered;
--   code + dates: the code's index inside the dates' id range;
--   code + pending: nothing, answered without a query (a pending row has no
--   code yet).
-- Rows without a code (not sent, timeouts, pending) are left out of them.
-- (IF NOT EXISTS: a large database may have them built ahead of the migration.)
CREATE INDEX IF NOT EXISTS attempts_staff_code_id ON attempts (staff_id, code, id DESC) WHERE code IS NOT NULL;
CREATE INDEX IF NOT EXISTS attempts_code_action_id ON attempts (code, action, id DESC) WHERE code IS NOT NULL;
CREATE INDEX IF NOT EXISTS attempts_outcome_code_id ON attempts (outcome, code, id DESC) WHERE code IS NOT NULL;
CREATE INDEX IF NOT EXISTS attempts_run_code_id ON attempts (run_id, code, id DESC) WHERE run_id IS NOT NULL AND code IS NOT NULL;

-- +goose Down
DROP INDEX attempts_run_code_id;
DROP INDEX attempts_outcome_code_id;
DROP INDEX attempts_code_action_id;
DROP INDEX attempts_staff_code_id;
