-- +goose Up
-- An account's traffic-master state is derived in one place: this function,
-- applied by the trigger below whenever an attempt finishes, however it
-- finishes (completed by the caller, or marked interrupted by recovery).
-- The states follow what staff do next: the old catch-all 'failed' mixed
-- temporary WeChat trouble (-202) with the platform's own setup (48001), so it
-- is split, and an attempt whose outcome nobody knows (a timeout, a process
-- that died mid-call) leaves 'unknown' instead of the state before it, so that
-- a run over "never tried" accounts does not call them again unawares.
-- The outcome → group table in internal/core is the reference; a store test
-- checks that this function agrees with it for every outcome.
-- +goose StatementBegin
CREATE FUNCTION tm_next_state(prev text, action text, outcome text, check_status integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        -- Open is sticky: nothing short of a new authorization closes a traffic master.
        WHEN prev = 'open' THEN 'open'
        WHEN outcome = 'success' AND action = 'open' THEN 'open'
        WHEN outcome = 'success' AND check_status = 1 THEN 'eligible'
        WHEN outcome = 'success' THEN 'not_eligible'
        WHEN outcome = 'already_done' THEN 'open'
        WHEN outcome = 'needs_merchant' THEN 'needs_merchant'
        WHEN outcome = 'not_yet_eligible' THEN 'below_threshold'
        WHEN outcome IN ('retryable', 'rate_limited', 'not_sent') THEN 'retry_later'
        WHEN outcome IN ('provider_config', 'token') THEN 'platform_setup'
        WHEN outcome IN ('unknown', 'interrupted') THEN 'unknown'
        -- Refusals never reach here (they are inserted finished); anything
        -- else is our bug or an answer nobody can explain.
        WHEN outcome IN ('in_progress', 'not_allowed', '') THEN coalesce(prev, 'never')
        ELSE 'our_bug'
    END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION attempts_derive_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO authorizer_state AS s (appid, state, last_attempt_id, last_attempt_at, last_outcome, last_code)
    VALUES (NEW.appid, tm_next_state('never', NEW.action, NEW.outcome, NEW.check_status), NEW.id, NEW.started_at, NEW.outcome, NEW.code)
    ON CONFLICT (appid) DO UPDATE SET state = tm_next_state(s.state, NEW.action, NEW.outcome, NEW.check_status),
        last_attempt_id = NEW.id, last_attempt_at = NEW.started_at, last_outcome = NEW.outcome, last_code = NEW.code
        -- One attempt per account is pending at a time, so attempts finish in
        -- id order; the guard keeps a late recovery from rewinding the state.
        WHERE s.last_attempt_id IS NULL OR s.last_attempt_id <= NEW.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER attempts_derive_state AFTER UPDATE OF status ON attempts
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status IN ('completed', 'interrupted'))
    EXECUTE FUNCTION attempts_derive_state();

-- Backfill: split the old catch-all by the last outcome it recorded.
UPDATE authorizer_state SET state = tm_next_state('never', 'check', last_outcome, NULL) WHERE state = 'failed';
-- Backfill: accounts whose latest finished attempt is unknown or interrupted
-- (recovery used to leave the state as it was).
UPDATE authorizer_state s SET state = 'unknown', last_attempt_id = x.id, last_attempt_at = x.started_at, last_outcome = x.outcome, last_code = x.code
FROM (SELECT DISTINCT ON (appid) appid, id, started_at, outcome, code FROM attempts
      WHERE status IN ('completed', 'interrupted') ORDER BY appid, id DESC) x
WHERE x.appid = s.appid AND x.outcome IN ('unknown', 'interrupted') AND s.state <> 'open'
  AND (s.last_attempt_id IS NULL OR s.last_attempt_id <= x.id);

-- +goose Down
DROP TRIGGER attempts_derive_state ON attempts;
DROP FUNCTION attempts_derive_state();
UPDATE authorizer_state SET state = 'failed' WHERE state IN ('retry_later', 'platform_setup', 'our_bug', 'unknown');
DROP FUNCTION tm_next_state(text, text, text, integer);
