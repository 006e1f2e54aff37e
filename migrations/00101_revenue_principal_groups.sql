-- +goose Up
-- The dashboard narrowed to a principal that matches hundreds or thousands
-- of accounts (any part of a name: 深圳, 公司 5, 深圳鲜果) reads sums kept
-- for it instead of looking up or scanning the accounts' slot rows of every
-- day shown.
--
-- revenue_principal_terms lists the texts kept (chosen by
-- revenue_principal.go: those held by the principals of more than a few
-- accounts), each with its group's canonical text (canon): texts that
-- select the same accounts share a group. revenue_principal_members lists a
-- group's accounts, those whose principal holds its canon, and
-- revenue_principal_rollup sums their slot rows per group, state, day and
-- slot.
-- An authorizer added, removed or renamed only records its appid in
-- revenue_principal_moves (triggers below); while any is recorded, reads
-- read the rows as before, and the fold (every ten seconds, and first in
-- every choice) moves its rows between the groups and drops any text that
-- no longer selects its group's accounts. The days a pull stored are
-- summed again by the fold too (revenue_principal_days).
CREATE TABLE revenue_principal_terms (
    term  text PRIMARY KEY,
    canon text NOT NULL
);

CREATE TABLE revenue_principal_members (
    appid text NOT NULL,
    canon text NOT NULL,
    PRIMARY KEY (appid, canon)
);

-- Per state too (the state each account is counted under in
-- revenue_state_members, moved with it by the states' fold), so that a
-- principal and a state read their sums as a state alone does.
CREATE TABLE revenue_principal_rollup (
    canon      text   NOT NULL,
    state      text   NOT NULL,
    day        date   NOT NULL,
    slot       text   NOT NULL,
    slot_rows  bigint NOT NULL,
    req_succ   bigint NOT NULL,
    exposure   bigint NOT NULL,
    clicks     bigint NOT NULL,
    income_fen bigint NOT NULL,
    PRIMARY KEY (canon, state, day, slot)
);

-- The days whose sums are stale: a pull's finish records the days it
-- stored rather than summing them (at 100,000 accounts a day joins its
-- 800,000 slot rows to over a million members); reads that touch one read
-- the rows as before, and the fold sums a few of them at a time.
CREATE TABLE revenue_principal_days (
    day date PRIMARY KEY
);

-- A log, as revenue_state_moves: no key, so recording never waits.
CREATE TABLE revenue_principal_moves (
    appid text NOT NULL
);

-- +goose StatementBegin
CREATE FUNCTION revenue_principal_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO revenue_principal_moves (appid) VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.appid ELSE NEW.appid END);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER revenue_principal_moved_insert AFTER INSERT ON authorizers
    FOR EACH ROW EXECUTE FUNCTION revenue_principal_moved();
CREATE TRIGGER revenue_principal_moved_update AFTER UPDATE OF principal_name ON authorizers
    FOR EACH ROW WHEN (NEW.principal_name IS DISTINCT FROM OLD.principal_name) EXECUTE FUNCTION revenue_principal_moved();
CREATE TRIGGER revenue_principal_moved_delete AFTER DELETE ON authorizers
    FOR EACH ROW EXECUTE FUNCTION revenue_principal_moved();

-- +goose Down
DROP TRIGGER revenue_principal_moved_delete ON authorizers;
DROP TRIGGER revenue_principal_moved_update ON authorizers;
DROP TRIGGER revenue_principal_moved_insert ON authorizers;
DROP FUNCTION revenue_principal_moved();
DROP TABLE revenue_principal_moves;
DROP TABLE revenue_principal_days;
DROP TABLE revenue_principal_rollup;
DROP TABLE revenue_principal_members;
DROP TABLE revenue_principal_terms;
