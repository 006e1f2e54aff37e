-- +goose Up
-- The dashboard narrowed to a traffic-master state (and maybe a slot) reads
-- a rollup per state instead of summing every selected account's slot rows
-- for every day shown (800,000 rows a day at 100,000 accounts).
--
-- revenue_state_members says under which state each account's rows are
-- counted in revenue_state_rollup (without a row: "never", as an account
-- without a state row is); revenue_state_rollup holds, per state,
-- day and slot, the sums of the slot rows (as of the day's last rebuild) of
-- the accounts counted under that state, and how many rows they are. An
-- account's state changes when an attempt completes, far more often than a
-- pull: the change only records the account in revenue_state_moves, and the
-- read corrects the rollup by the rows of the moved accounts (few), until
-- the fold (revenue_state.go, every ten seconds and at each rebuild) moves their
-- rows from the old state's rollup to the new one's.
CREATE TABLE revenue_state_rollup (
    state      text   NOT NULL,
    day        date   NOT NULL,
    slot       text   NOT NULL,
    slot_rows  bigint NOT NULL, -- a day and slot with no row is not listed, as when summed from the rows
    req_succ   bigint NOT NULL,
    exposure   bigint NOT NULL,
    clicks     bigint NOT NULL,
    income_fen bigint NOT NULL,
    PRIMARY KEY (state, day, slot)
);

CREATE TABLE revenue_state_members (
    appid text PRIMARY KEY,
    state text NOT NULL
);

-- A log, not a set: an account appears once per change (a handful between
-- folds). Without a key nothing in it is shared or locked, so the insert
-- of a change never waits, and a fold (which deletes the rows its snapshot
-- sees) never waits for it either: a change not committed yet is not seen,
-- and stays for the next fold.
CREATE TABLE revenue_state_moves (
    appid text NOT NULL
);

-- An account whose state changed is recorded. A new list row is a change
-- only when it is not "never" (no row is "never"), so a sync of many new
-- accounts records nothing.
-- +goose StatementBegin
CREATE FUNCTION revenue_state_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO revenue_state_moves (appid) VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.appid ELSE NEW.appid END);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER revenue_state_moved_insert AFTER INSERT ON authorizer_state
    FOR EACH ROW WHEN (NEW.state <> 'never') EXECUTE FUNCTION revenue_state_moved();
CREATE TRIGGER revenue_state_moved_update AFTER UPDATE OF state ON authorizer_state
    FOR EACH ROW WHEN (NEW.state IS DISTINCT FROM OLD.state) EXECUTE FUNCTION revenue_state_moved();
CREATE TRIGGER revenue_state_moved_delete AFTER DELETE ON authorizer_state
    FOR EACH ROW WHEN (OLD.state <> 'never') EXECUTE FUNCTION revenue_state_moved();

-- Every account as it is now (creating the triggers locked authorizer_state
-- against changes until this commits), and the rollup of every day stored.
INSERT INTO revenue_state_members (appid, state)
    SELECT a.appid, coalesce(st.state, 'never') FROM authorizers a LEFT JOIN authorizer_state st ON st.appid = a.appid;
INSERT INTO revenue_state_rollup (state, day, slot, slot_rows, req_succ, exposure, clicks, income_fen)
    SELECT coalesce(m.state, 'never'), r.day, r.slot, count(*), sum(r.req_succ), sum(r.exposure), sum(r.clicks), sum(r.income_fen)
    FROM revenue_slot_daily r LEFT JOIN revenue_state_members m ON m.appid = r.appid
    GROUP BY 1, r.day, r.slot;

-- +goose Down
DROP TRIGGER revenue_state_moved_delete ON authorizer_state;
DROP TRIGGER revenue_state_moved_update ON authorizer_state;
DROP TRIGGER revenue_state_moved_insert ON authorizer_state;
DROP FUNCTION revenue_state_moved();
DROP TABLE revenue_state_moves;
DROP TABLE revenue_state_members;
DROP TABLE revenue_state_rollup;
