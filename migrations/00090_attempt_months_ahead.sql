-- +goose Up
-- The audit's month partitions are kept 3 months ahead (the daily schedule
-- adds each month before it comes; postgres.AttemptMonthsAhead), not 24.
-- A statement that cannot prune partitions when it is planned is planned
-- over every one of them and their indexes: with 39 partitions of 17
-- indexes each, a date-filtered audit page spent about 177 ms planning on a
-- fresh connection. Months beyond the window that hold no row are dropped;
-- a month with rows (a clock far ahead) is kept.
-- +goose StatementBegin
DO $$
DECLARE
    r record;
    empty boolean;
BEGIN
    FOR r IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'attempts'::regclass AND c.relname ~ '^attempts_[0-9]{4}_[0-9]{2}$'
               AND to_date(substr(c.relname, 10), 'YYYY_MM') > now() + interval '3 months'
    LOOP
        EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %I)', r.relname) INTO empty;
        IF empty THEN
            EXECUTE format('DROP TABLE %I', r.relname);
        END IF;
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
SELECT tm_attempts_add_months(now(), now() + interval '24 months');
