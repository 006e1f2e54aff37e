package app

import (
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/platform"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// revenueEvery is how often the daily pull runs; each run pulls the last two
// days, so yesterday's figures, revised by WeChat during the day, end final.
const revenueEvery = 6 * time.Hour

// newRevenue builds the ad data store and the service that pulls into it and
// reads it for the pages.
func newRevenue(pool *pgxpool.Pool, componentAppID string, wc *wechat.Client, tokens *platform.TokenManager, log *slog.Logger, now func() time.Time) (*postgres.RevenueStore, *revenue.Service) {
	store := &postgres.RevenueStore{Pool: pool, ComponentAppID: componentAppID}
	return store, &revenue.Service{Store: store, WeChat: wc, Tokens: tokens, ComponentAppID: componentAppID, Log: log, Now: now}
}
