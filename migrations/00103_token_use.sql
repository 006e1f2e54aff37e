-- +goose Up
-- When an account's access token was last handed out for a call to WeChat.
-- The token schedule renews ahead of expiry only the tokens used within
-- their last lifetime: it renewed every stored token every two hours for
-- ever, so every account ever called (each Mini Program the daily revenue
-- pull reads, every account of a bulk run) cost a call to WeChat every two
-- hours from then on, serially in one job: at a million accounts, about 140
-- a second, more than one job can make.
ALTER TABLE authorizer_tokens ADD COLUMN used_at timestamptz NOT NULL DEFAULT now();

-- +goose Down
ALTER TABLE authorizer_tokens DROP COLUMN used_at;
