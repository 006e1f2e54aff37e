-- +goose Up
-- Every call that changes something at WeChat goes through the audited
-- attempt: the ad-operation writes join checking and opening in the one
-- attempts table, with what was asked (params) kept beside the answer.
--
-- At most one attempt is in flight per account and *lane*: checking and
-- opening share the 'publisher' lane (as before), and each ad-operation
-- action has a lane of its own, so creating an ad unit need not wait for a
-- cover-ad toggle of the same Mini Program, while two creations do.
-- Only checking and opening move the account's traffic-master state.
-- The check on action was named when the table was partitioned (its old
-- name went with the old table), so it is found by what it checks.
-- +goose StatementBegin
DO $$
DECLARE c text;
BEGIN
    SELECT conname INTO STRICT c FROM pg_constraint
    WHERE conrelid = 'attempts'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%action%';
    EXECUTE format('ALTER TABLE attempts DROP CONSTRAINT %I', c);
END
$$;
-- +goose StatementEnd
ALTER TABLE attempts ADD CONSTRAINT attempts_action_check CHECK (action IN (
    'check', 'open',
    'unit_create', 'unit_update',
    'cover_status', 'cover_scene',
    'blocklist', 'block_industry',
    'share_ratio'));
ALTER TABLE attempts ADD COLUMN params jsonb;

-- +goose StatementBegin
CREATE FUNCTION tm_attempt_lane(action text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN action IN ('check', 'open') THEN 'publisher' ELSE action END
$$;
-- +goose StatementEnd

ALTER TABLE attempts_in_flight ADD COLUMN lane text NOT NULL DEFAULT 'publisher';
ALTER TABLE attempts_in_flight ALTER COLUMN lane DROP DEFAULT;
ALTER TABLE attempts_in_flight DROP CONSTRAINT attempts_one_pending;
ALTER TABLE attempts_in_flight ADD CONSTRAINT attempts_one_pending PRIMARY KEY (appid, lane);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION attempts_in_flight_begin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO attempts_in_flight (appid, lane, attempt_id) VALUES (NEW.appid, tm_attempt_lane(NEW.action), NEW.id);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- What was asked is part of the attempt's identity: completion may not change it.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION attempts_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'attempts are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- The one allowed update: completing a pending row, once, without
    -- touching who, what, when and where it started.
    IF OLD.status <> 'pending'
       OR NEW.status NOT IN ('completed', 'interrupted')
       OR NEW.id IS DISTINCT FROM OLD.id
       OR NEW.appid IS DISTINCT FROM OLD.appid
       OR NEW.action IS DISTINCT FROM OLD.action
       OR NEW.params IS DISTINCT FROM OLD.params
       OR NEW.staff_id IS DISTINCT FROM OLD.staff_id
       OR NEW.run_id IS DISTINCT FROM OLD.run_id
       OR NEW.request_id IS DISTINCT FROM OLD.request_id
       OR NEW.client_ip IS DISTINCT FROM OLD.client_ip
       OR NEW.instance_id IS DISTINCT FROM OLD.instance_id
       OR NEW.started_at IS DISTINCT FROM OLD.started_at THEN
        RAISE EXCEPTION 'attempts are append-only: only completing a pending attempt once is allowed' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

DROP TRIGGER attempts_derive_state ON attempts;
CREATE TRIGGER attempts_derive_state AFTER UPDATE OF status ON attempts
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status IN ('completed', 'interrupted') AND NEW.action IN ('check', 'open'))
    EXECUTE FUNCTION attempts_derive_state();

-- +goose Down
DROP TRIGGER attempts_derive_state ON attempts;
CREATE TRIGGER attempts_derive_state AFTER UPDATE OF status ON attempts
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status IN ('completed', 'interrupted'))
    EXECUTE FUNCTION attempts_derive_state();

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION attempts_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'attempts are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.status <> 'pending'
       OR NEW.status NOT IN ('completed', 'interrupted')
       OR NEW.id IS DISTINCT FROM OLD.id
       OR NEW.appid IS DISTINCT FROM OLD.appid
       OR NEW.action IS DISTINCT FROM OLD.action
       OR NEW.staff_id IS DISTINCT FROM OLD.staff_id
       OR NEW.run_id IS DISTINCT FROM OLD.run_id
       OR NEW.request_id IS DISTINCT FROM OLD.request_id
       OR NEW.client_ip IS DISTINCT FROM OLD.client_ip
       OR NEW.instance_id IS DISTINCT FROM OLD.instance_id
       OR NEW.started_at IS DISTINCT FROM OLD.started_at THEN
        RAISE EXCEPTION 'attempts are append-only: only completing a pending attempt once is allowed' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION attempts_in_flight_begin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO attempts_in_flight (appid, attempt_id) VALUES (NEW.appid, NEW.id);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
ALTER TABLE attempts_in_flight DROP CONSTRAINT attempts_one_pending;
DELETE FROM attempts_in_flight WHERE lane <> 'publisher';
ALTER TABLE attempts_in_flight ADD CONSTRAINT attempts_one_pending PRIMARY KEY (appid);
ALTER TABLE attempts_in_flight DROP COLUMN lane;
DROP FUNCTION tm_attempt_lane(text);
ALTER TABLE attempts DROP COLUMN params;
ALTER TABLE attempts DROP CONSTRAINT attempts_action_check;
ALTER TABLE attempts ADD CONSTRAINT attempts_action_check CHECK (action IN ('check', 'open'));
