-- +goose Up
-- Every audit filter the form offers, and every pair of them, is served by
-- an index that yields its rows newest first, or by a scan bounded by a
-- small set (one account's attempts, one run's, an id range from the dates).
-- Before, a pair of filters that rarely occur together (a staff member and an
-- outcome they never had) walked one filter's index through all of its rows
-- looking for the other: at 10 million rows 1.4 s warm, 10 s cold.
--
--   staff + outcome, staff + action, outcome + action: one index each.
--   run: its own index (runs can hold a million attempts: the old index on
--   (run_id, appid) served recovery but not a page newest first);
--   run + outcome: one index; run + staff and run + action: a run has one
--   action and one creator, which its attempts carry, so a mismatch is
--   answered from the run's row without reading attempts (in the query).
--   account + anything: bounded by the account's own attempts.
--   dates + anything: the dates become an id range, and the other filter's
--   index (all of them end in id) is read inside it.
CREATE INDEX attempts_staff_outcome_id ON attempts (staff_id, outcome, id DESC);
CREATE INDEX attempts_staff_action_id ON attempts (staff_id, action, id DESC);
CREATE INDEX attempts_outcome_action_id ON attempts (outcome, action, id DESC);
CREATE INDEX attempts_run_id ON attempts (run_id, id DESC) WHERE run_id IS NOT NULL;
CREATE INDEX attempts_run_outcome_id ON attempts (run_id, outcome, id DESC) WHERE run_id IS NOT NULL;

-- +goose Down
DROP INDEX attempts_run_outcome_id;
DROP INDEX attempts_run_id;
DROP INDEX attempts_outcome_action_id;
DROP INDEX attempts_staff_action_id;
DROP INDEX attempts_staff_outcome_id;
