-- +goose Up
-- The platform page's counts of accounts (all, Mini Programs, Official
-- Accounts, revoked, without a refresh token), kept as the accounts change,
-- as account_state_counts keeps the list's (00040): the page counted them
-- over the whole authorizers table, raw profiles included, on every view
-- (about 1 KB an account: a scan of some 1.5 GB at a million accounts).
--
-- Each change of what an account counts as appends its deltas in the
-- transaction that makes it (-1 for its old kind, +1 for its new one), and
-- now and then a transaction folds the deltas it can see into one row per
-- kind (at most one folder at a time). Bulk loads pause the trigger and call
-- tm_recount_platform_counts() at the end.
CREATE TABLE platform_account_counts (
    id              bigserial PRIMARY KEY,
    component_appid text NOT NULL,
    mini_program    boolean NOT NULL,
    revoked         boolean NOT NULL,
    info_synced     boolean NOT NULL,
    no_refresh      boolean NOT NULL,
    n               bigint NOT NULL
) WITH (autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_scale_factor = 0);

-- +goose StatementBegin
CREATE FUNCTION tm_fold_platform_counts() RETURNS void LANGUAGE sql AS $$
    WITH d AS (DELETE FROM platform_account_counts RETURNING component_appid, mini_program, revoked, info_synced, no_refresh, n)
    INSERT INTO platform_account_counts (component_appid, mini_program, revoked, info_synced, no_refresh, n)
    SELECT component_appid, mini_program, revoked, info_synced, no_refresh, sum(n) FROM d
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION authorizers_platform_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO platform_account_counts (component_appid, mini_program, revoked, info_synced, no_refresh, n)
            VALUES (OLD.component_appid, OLD.is_mini_program, OLD.revoked_at IS NOT NULL, OLD.info_synced_at IS NOT NULL, OLD.refresh_token_enc IS NULL, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO platform_account_counts (component_appid, mini_program, revoked, info_synced, no_refresh, n)
            VALUES (NEW.component_appid, NEW.is_mini_program, NEW.revoked_at IS NOT NULL, NEW.info_synced_at IS NOT NULL, NEW.refresh_token_enc IS NULL, 1);
    END IF;
    -- About one change in 128 folds, under read committed only (as
    -- authorizer_state_count does).
    IF random() < 1.0 / 128 AND current_setting('transaction_isolation') = 'read committed'
       AND pg_try_advisory_xact_lock(hashtextextended('trafficmaster:platform_account_counts', 0)) THEN
        PERFORM tm_fold_platform_counts();
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER authorizers_platform_count_insert AFTER INSERT ON authorizers
    FOR EACH ROW EXECUTE FUNCTION authorizers_platform_count();
CREATE TRIGGER authorizers_platform_count_delete AFTER DELETE ON authorizers
    FOR EACH ROW EXECUTE FUNCTION authorizers_platform_count();
CREATE TRIGGER authorizers_platform_count_update AFTER UPDATE ON authorizers
    FOR EACH ROW WHEN ((OLD.component_appid, OLD.is_mini_program, OLD.revoked_at IS NOT NULL, OLD.info_synced_at IS NOT NULL, OLD.refresh_token_enc IS NULL)
        IS DISTINCT FROM (NEW.component_appid, NEW.is_mini_program, NEW.revoked_at IS NOT NULL, NEW.info_synced_at IS NOT NULL, NEW.refresh_token_enc IS NULL))
    EXECUTE FUNCTION authorizers_platform_count();

-- tm_recount_platform_counts() rebuilds the table from the accounts, with
-- them locked against changes while it counts.
-- +goose StatementBegin
CREATE FUNCTION tm_recount_platform_counts() RETURNS void LANGUAGE sql AS $$
    LOCK TABLE authorizers IN SHARE MODE;
    TRUNCATE platform_account_counts;
    INSERT INTO platform_account_counts (component_appid, mini_program, revoked, info_synced, no_refresh, n)
        SELECT component_appid, is_mini_program, revoked_at IS NOT NULL, info_synced_at IS NOT NULL, refresh_token_enc IS NULL, count(*)
        FROM authorizers GROUP BY 1, 2, 3, 4, 5;
$$;
-- +goose StatementEnd
SELECT tm_recount_platform_counts();

-- +goose Down
DROP FUNCTION tm_recount_platform_counts();
DROP TRIGGER authorizers_platform_count_update ON authorizers;
DROP TRIGGER authorizers_platform_count_delete ON authorizers;
DROP TRIGGER authorizers_platform_count_insert ON authorizers;
DROP FUNCTION authorizers_platform_count();
DROP FUNCTION tm_fold_platform_counts();
DROP TABLE platform_account_counts;
