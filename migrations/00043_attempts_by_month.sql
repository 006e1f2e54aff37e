-- +goose Up
-- The audit is partitioned by month of started_at (native partitioning), so
-- an old month is one table that costs nothing to the pages of recent ones,
-- and a date filter reads only its months. Every rule the database enforced
-- on the one table holds on the partitions:
--   * append-only: the row triggers are cloned onto every partition, and
--     every partition refuses TRUNCATE like the parent;
--   * completion rules and state derivation: the same trigger functions;
--   * one attempt in flight per account: a unique index on a partitioned
--     table must include the partition key, so it cannot say "one pending row
--     per appid". The pending rows' appids are kept in attempts_in_flight
--     instead, whose primary key keeps the old index's name
--     (attempts_one_pending), inserted by the same statement that inserts the
--     pending row and removed by the one that completes it.
-- The primary key becomes (id, started_at); ids still come from one sequence.

-- Creates the month partitions from the month of since through the month of
-- until (those that do not exist yet), each refusing TRUNCATE. Rows outside
-- every month land in attempts_default.
-- +goose StatementBegin
CREATE FUNCTION tm_attempts_add_months(since timestamptz, until timestamptz) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    m timestamptz := date_trunc('month', since AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    name text;
    made integer := 0;
BEGIN
    WHILE m <= until LOOP
        name := 'attempts_' || to_char(m AT TIME ZONE 'UTC', 'YYYY_MM');
        IF to_regclass(name) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF attempts FOR VALUES FROM (%L) TO (%L)',
                name, m, (m AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC');
            EXECUTE format('CREATE TRIGGER attempts_no_truncate BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION attempts_append_only()', name);
            made := made + 1;
        END IF;
        m := (m AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC';
    END LOOP;
    RETURN made;
END
$$;
-- +goose StatementEnd

-- The pending row's appid goes into attempts_in_flight in the statement that
-- inserts the row: a second pending row for the account fails there, with
-- the same constraint name as before.
-- +goose StatementBegin
CREATE FUNCTION attempts_in_flight_begin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO attempts_in_flight (appid, attempt_id) VALUES (NEW.appid, NEW.id);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION attempts_in_flight_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM attempts_in_flight WHERE appid = OLD.appid AND attempt_id = OLD.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

ALTER TABLE attempts RENAME TO attempts_unpartitioned;
ALTER SEQUENCE attempts_id_seq OWNED BY NONE;
CREATE TABLE attempts (
    id              bigint NOT NULL DEFAULT nextval('attempts_id_seq'),
    appid           text NOT NULL REFERENCES authorizers (appid),
    action          text NOT NULL CHECK (action IN ('check', 'open')),
    staff_id        bigint REFERENCES staff (id),
    run_id          bigint,
    request_id      text NOT NULL DEFAULT '',
    client_ip       text NOT NULL DEFAULT '',
    instance_id     text NOT NULL DEFAULT '',
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    status          text NOT NULL CHECK (status IN ('pending', 'completed', 'interrupted', 'rejected')),
    outcome         text NOT NULL DEFAULT '',
    code            integer,
    message         text NOT NULL DEFAULT '',
    check_status    integer,
    raw             bytea,
    latency_ms      integer NOT NULL DEFAULT 0,
    transport_error text NOT NULL DEFAULT ''
) PARTITION BY RANGE (started_at);
ALTER SEQUENCE attempts_id_seq OWNED BY attempts.id;
CREATE TABLE attempts_default PARTITION OF attempts DEFAULT;
CREATE TRIGGER attempts_no_truncate BEFORE TRUNCATE ON attempts_default
    FOR EACH STATEMENT EXECUTE FUNCTION attempts_append_only();
SELECT tm_attempts_add_months(least((SELECT min(started_at) FROM attempts_unpartitioned), now() - interval '13 months'), now() + interval '24 months');

INSERT INTO attempts SELECT * FROM attempts_unpartitioned;
DROP TABLE attempts_unpartitioned;
-- One row per account with an attempt in flight (the old index is gone with
-- the old table, and its name passes to this key).
CREATE TABLE attempts_in_flight (
    appid      text CONSTRAINT attempts_one_pending PRIMARY KEY,
    attempt_id bigint NOT NULL
);
INSERT INTO attempts_in_flight (appid, attempt_id) SELECT appid, id FROM attempts WHERE status = 'pending';

ALTER TABLE attempts ADD CONSTRAINT attempts_pkey PRIMARY KEY (id, started_at);
CREATE INDEX attempts_appid_id ON attempts (appid, id DESC);
CREATE INDEX attempts_staff_id ON attempts (staff_id, id DESC);
CREATE INDEX attempts_outcome_id ON attempts (outcome, id DESC);
CREATE INDEX attempts_code_id ON attempts (code, id DESC) WHERE code IS NOT NULL;
CREATE INDEX attempts_started_at ON attempts (started_at DESC, id DESC);
CREATE INDEX attempts_pending ON attempts (instance_id) WHERE status = 'pending';
CREATE INDEX attempts_run_idx ON attempts (run_id, appid) WHERE run_id IS NOT NULL;
CREATE INDEX attempts_staff_outcome_id ON attempts (staff_id, outcome, id DESC);
CREATE INDEX attempts_staff_action_id ON attempts (staff_id, action, id DESC);
CREATE INDEX attempts_outcome_action_id ON attempts (outcome, action, id DESC);
CREATE INDEX attempts_run_id ON attempts (run_id, id DESC) WHERE run_id IS NOT NULL;
CREATE INDEX attempts_run_outcome_id ON attempts (run_id, outcome, id DESC) WHERE run_id IS NOT NULL;

CREATE TRIGGER attempts_append_only BEFORE UPDATE OR DELETE ON attempts
    FOR EACH ROW EXECUTE FUNCTION attempts_append_only();
CREATE TRIGGER attempts_no_truncate BEFORE TRUNCATE ON attempts
    FOR EACH STATEMENT EXECUTE FUNCTION attempts_append_only();
CREATE TRIGGER attempts_derive_state AFTER UPDATE OF status ON attempts
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status IN ('completed', 'interrupted'))
    EXECUTE FUNCTION attempts_derive_state();
CREATE TRIGGER attempts_in_flight_begin AFTER INSERT ON attempts
    FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION attempts_in_flight_begin();
CREATE TRIGGER attempts_in_flight_end AFTER UPDATE OF status ON attempts
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status <> 'pending') EXECUTE FUNCTION attempts_in_flight_end();

-- +goose Down
ALTER TABLE attempts RENAME TO attempts_partitioned;
ALTER SEQUENCE attempts_id_seq OWNED BY NONE;
CREATE TABLE attempts (LIKE attempts_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE attempts ADD FOREIGN KEY (appid) REFERENCES authorizers (appid), ADD FOREIGN KEY (staff_id) REFERENCES staff (id);
INSERT INTO attempts SELECT * FROM attempts_partitioned;
DROP TABLE attempts_partitioned;
DROP TABLE attempts_in_flight;
DROP FUNCTION attempts_in_flight_end();
DROP FUNCTION attempts_in_flight_begin();
DROP FUNCTION tm_attempts_add_months(timestamptz, timestamptz);
ALTER SEQUENCE attempts_id_seq OWNED BY attempts.id;
ALTER TABLE attempts ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX attempts_one_pending ON attempts (appid) WHERE status = 'pending';
CREATE INDEX attempts_appid_id ON attempts (appid, id DESC);
CREATE INDEX attempts_staff_id ON attempts (staff_id, id DESC);
CREATE INDEX attempts_outcome_id ON attempts (outcome, id DESC);
CREATE INDEX attempts_code_id ON attempts (code, id DESC) WHERE code IS NOT NULL;
CREATE INDEX attempts_started_at ON attempts (started_at DESC, id DESC);
CREATE INDEX attempts_pending ON attempts (instance_id) WHERE status = 'pending';
CREATE INDEX attempts_run_idx ON attempts (run_id, appid) WHERE run_id IS NOT NULL;
CREATE INDEX attempts_staff_outcome_id ON attempts (staff_id, outcome, id DESC);
CREATE INDEX attempts_staff_action_id ON attempts (staff_id, action, id DESC);
CREATE INDEX attempts_outcome_action_id ON attempts (outcome, action, id DESC);
CREATE INDEX attempts_run_id ON attempts (run_id, id DESC) WHERE run_id IS NOT NULL;
CREATE INDEX attempts_run_outcome_id ON attempts (run_id, outcome, id DESC) WHERE run_id IS NOT NULL;
CREATE TRIGGER attempts_append_only BEFORE UPDATE OR DELETE ON attempts
    FOR EACH ROW EXECUTE FUNCTION attempts_append_only();
CREATE TRIGGER attempts_no_truncate BEFORE TRUNCATE ON attempts
    FOR EACH STATEMENT EXECUTE FUNCTION attempts_append_only();
CREATE TRIGGER attempts_derive_state AFTER UPDATE OF status ON attempts
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status IN ('completed', 'interrupted'))
    EXECUTE FUNCTION attempts_derive_state();
