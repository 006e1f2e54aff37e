-- +goose Up
-- The number of accounts per state and status class, kept as the states
-- change, so a list page without a search reads a few rows instead of
-- counting every account (55 ms at a million accounts, on every page view).
--
-- Each change appends its deltas (-1 for the row's old state, +1 for its new
-- one) in the transaction that makes it: the completion of an attempt
-- (attempts_derive_state) and the authorizers trigger (sync, pushes) both
-- write authorizer_state, and a trigger on that table writes here. Appending
-- takes no lock, so concurrent completions never wait on a hot counter row;
-- the counts are the sums per key. Now and then a transaction folds the
-- deltas it can see into one row per key (at most one folder at a time, and
-- one that cannot take the lock at once simply leaves it to the next), so the
-- table stays a few hundred rows. A fold deletes exactly the rows it sums, so
-- rows of transactions it cannot see yet are left for a later fold.
CREATE TABLE account_state_counts (
    id           bigserial PRIMARY KEY,
    status_class text NOT NULL,
    state        text NOT NULL,
    n            bigint NOT NULL
) WITH (autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_scale_factor = 0);

-- +goose StatementBegin
CREATE FUNCTION tm_fold_state_counts() RETURNS void LANGUAGE sql AS $$
    WITH d AS (DELETE FROM account_state_counts RETURNING status_class, state, n)
    INSERT INTO account_state_counts (status_class, state, n)
    SELECT status_class, state, sum(n) FROM d GROUP BY status_class, state HAVING sum(n) <> 0
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION authorizer_state_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO account_state_counts (status_class, state, n) VALUES (NEW.status_class, NEW.state, 1);
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO account_state_counts (status_class, state, n) VALUES (OLD.status_class, OLD.state, -1);
    ELSE
        INSERT INTO account_state_counts (status_class, state, n)
            VALUES (OLD.status_class, OLD.state, -1), (NEW.status_class, NEW.state, 1);
    END IF;
    -- About one change in 128 folds. Only under read committed: a fold
    -- there skips rows another fold removed, where a snapshot transaction
    -- would fail on them.
    IF random() < 1.0 / 128 AND current_setting('transaction_isolation') = 'read committed'
       AND pg_try_advisory_xact_lock(hashtextextended('trafficmaster:account_state_counts', 0)) THEN
        PERFORM tm_fold_state_counts();
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER authorizer_state_count_insert AFTER INSERT ON authorizer_state
    FOR EACH ROW EXECUTE FUNCTION authorizer_state_count();
CREATE TRIGGER authorizer_state_count_delete AFTER DELETE ON authorizer_state
    FOR EACH ROW EXECUTE FUNCTION authorizer_state_count();
CREATE TRIGGER authorizer_state_count_update AFTER UPDATE OF state, status_class ON authorizer_state
    FOR EACH ROW WHEN ((OLD.state, OLD.status_class) IS DISTINCT FROM (NEW.state, NEW.status_class))
    EXECUTE FUNCTION authorizer_state_count();
-- A truncate would leave the counts behind; nothing truncates the list rows.
-- +goose StatementBegin
CREATE FUNCTION authorizer_state_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'authorizer_state: truncate would leave account_state_counts wrong; delete instead';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER authorizer_state_no_truncate BEFORE TRUNCATE ON authorizer_state
    FOR EACH STATEMENT EXECUTE FUNCTION authorizer_state_no_truncate();

LOCK TABLE authorizer_state IN SHARE MODE;
INSERT INTO account_state_counts (status_class, state, n)
    SELECT status_class, state, count(*) FROM authorizer_state GROUP BY status_class, state;

-- +goose Down
DROP TRIGGER authorizer_state_no_truncate ON authorizer_state;
DROP FUNCTION authorizer_state_no_truncate();
DROP TRIGGER authorizer_state_count_update ON authorizer_state;
DROP TRIGGER authorizer_state_count_delete ON authorizer_state;
DROP TRIGGER authorizer_state_count_insert ON authorizer_state;
DROP FUNCTION authorizer_state_count();
DROP FUNCTION tm_fold_state_counts();
DROP TABLE account_state_counts;
