-- +goose Up
-- Platform-wide settings that admins change, one row per platform (a
-- missing row is every setting at its default). Who changed a setting last
-- is kept here for the page; every change is also in the security log.
CREATE TABLE platform_settings (
    component_appid       text PRIMARY KEY REFERENCES platforms (component_appid),
    -- Off by default: opening the traffic master cannot be undone, so the
    -- platform's admins choose to have the system do it unasked.
    open_on_authorization boolean NOT NULL DEFAULT false,
    updated_by            bigint REFERENCES staff (id),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- One automatic check-and-open per authorization of an account, recorded in
-- the transaction that records the authorization (the `authorized` push) and
-- queued, in the transaction that makes the account ready, once its profile
-- says it is a Mini Program and its refresh token is known. The row is the
-- key that makes it happen once however often WeChat repeats the push; a
-- revocation ends the authorization (ended_at), so authorizing again starts
-- a new one.
CREATE TABLE auto_opens (
    appid            text PRIMARY KEY REFERENCES authorizers (appid),
    -- waiting: for the profile or the refresh token; queued: its job is in
    -- the queue; opening: the open call may have been sent (a job that finds
    -- this after a crash does not call again); done: finished, see result.
    state            text NOT NULL CHECK (state IN ('waiting', 'queued', 'opening', 'done')),
    authorized_at    timestamptz NOT NULL,
    queued_at        timestamptz,
    finished_at      timestamptz,
    ended_at         timestamptz,
    -- The outcome key of the step that decided (or a reason: not_mini_program,
    -- revoked, switched_off), and the attempts the job made.
    result           text NOT NULL DEFAULT '',
    check_attempt_id bigint,
    -- The check said it can be opened: a retry of the open does not check again.
    eligible         boolean NOT NULL DEFAULT false,
    open_attempt_id  bigint,
    -- Calls recorded so far (checks and opens), bounding retries after -202, 1737.
    tries            integer NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE auto_opens;
DROP TABLE platform_settings;
