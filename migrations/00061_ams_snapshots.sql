-- +goose Up
-- What WeChat last said about a Mini Program's ads (its units, cover ads,
-- blocking, share ratio), with when it was fetched: the pages show these
-- and refresh them on demand; writes drop the ones they make stale.
CREATE TABLE ams_snapshots (
    appid      text NOT NULL REFERENCES authorizers (appid),
    kind       text NOT NULL,
    body       jsonb NOT NULL,
    fetched_at timestamptz NOT NULL,
    PRIMARY KEY (appid, kind)
);

-- +goose Down
DROP TABLE ams_snapshots;
