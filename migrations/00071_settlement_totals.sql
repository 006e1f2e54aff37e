-- +goose Up
-- WeChat's own totals of each interval: a settlement reply carries
-- revenue_all, penalty_all and settled_revenue_all over the intervals it
-- lists, so an interval asked for alone gives its revenue and penalty, which
-- the list itself never states. NULL for an interval pulled before they were
-- kept: its totals are unknown, not zero.
ALTER TABLE revenue_settlements
    ADD COLUMN revenue_fen bigint,
    ADD COLUMN penalty_fen bigint,
    ADD COLUMN reported_settled_fen bigint;

-- +goose Down
ALTER TABLE revenue_settlements
    DROP COLUMN reported_settled_fen,
    DROP COLUMN penalty_fen,
    DROP COLUMN revenue_fen;
