-- +goose Up
-- The platform page's count of the pushes received, kept as they are stored,
-- as its counts of accounts are (00102): the page counted wechat_events on
-- every view, and nothing indexes that table by platform, so each view read
-- every push ever stored with its raw and decrypted bodies (a ticket every
-- ten minutes, about 52,000 a year, and a push for every authorization and
-- change of one): 290-360 ms and 1.6 GB of buffers at a million pushes.
--
-- Each statement that stores, moves or removes pushes appends one delta a
-- platform it touched, and about one statement in 128 folds the deltas it
-- can see into one row a platform (at most one folder at a time).
CREATE TABLE platform_event_counts (
    id              bigserial PRIMARY KEY,
    component_appid text NOT NULL,
    n               bigint NOT NULL
) WITH (autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_scale_factor = 0);

-- +goose StatementBegin
CREATE FUNCTION tm_fold_platform_event_counts() RETURNS void LANGUAGE sql AS $$
    WITH d AS (DELETE FROM platform_event_counts RETURNING component_appid, n)
    INSERT INTO platform_event_counts (component_appid, n)
    SELECT component_appid, sum(n) FROM d GROUP BY 1 HAVING sum(n) <> 0
$$;
-- +goose StatementEnd

-- The transition tables hold the statement's rows as it left them: a push
-- that ON CONFLICT skipped is in none.
-- +goose StatementBegin
CREATE FUNCTION wechat_events_platform_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO platform_event_counts (component_appid, n)
            SELECT component_appid, count(*) FROM new_events GROUP BY 1;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO platform_event_counts (component_appid, n)
            SELECT component_appid, -count(*) FROM old_events GROUP BY 1;
    ELSE
        -- Only a push moved to another platform changes a count.
        INSERT INTO platform_event_counts (component_appid, n)
            SELECT component_appid, sum(n) FROM (
                SELECT component_appid, -1 AS n FROM old_events
                UNION ALL SELECT component_appid, 1 FROM new_events) c
            GROUP BY 1 HAVING sum(n) <> 0;
    END IF;
    IF random() < 1.0 / 128 AND current_setting('transaction_isolation') = 'read committed'
       AND pg_try_advisory_xact_lock(hashtextextended('trafficmaster:platform_event_counts', 0)) THEN
        PERFORM tm_fold_platform_event_counts();
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER wechat_events_platform_count_insert AFTER INSERT ON wechat_events
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION wechat_events_platform_count();
CREATE TRIGGER wechat_events_platform_count_delete AFTER DELETE ON wechat_events
    REFERENCING OLD TABLE AS old_events FOR EACH STATEMENT EXECUTE FUNCTION wechat_events_platform_count();
CREATE TRIGGER wechat_events_platform_count_update AFTER UPDATE ON wechat_events
    REFERENCING OLD TABLE AS old_events NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION wechat_events_platform_count();

LOCK TABLE wechat_events IN SHARE MODE;
INSERT INTO platform_event_counts (component_appid, n)
    SELECT component_appid, count(*) FROM wechat_events GROUP BY 1;

-- +goose Down
DROP TRIGGER wechat_events_platform_count_update ON wechat_events;
DROP TRIGGER wechat_events_platform_count_delete ON wechat_events;
DROP TRIGGER wechat_events_platform_count_insert ON wechat_events;
DROP FUNCTION wechat_events_platform_count();
DROP FUNCTION tm_fold_platform_event_counts();
DROP TABLE platform_event_counts;
