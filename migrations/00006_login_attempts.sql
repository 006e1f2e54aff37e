-- +goose Up
-- Sign-in attempts are counted here, one atomic upsert per attempt taken
-- before the password is checked, by (username, address), by address and by
-- username. The window starts at a key's first attempt; tries made while
-- throttled are counted but never move it. next_at spaces out the attempts
-- for a username that is being guessed from many addresses.
CREATE TABLE login_attempts (
    key          text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    attempts     integer NOT NULL,
    next_at      timestamptz NOT NULL DEFAULT '-infinity'
);

-- +goose Down
DROP TABLE login_attempts;
