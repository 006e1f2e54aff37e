package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/trafficmaster/trafficmaster/internal/config"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// tokenRefreshAhead is how long before expiry the schedule renews tokens, so
// a bulk run never waits on a refresh.
const tokenRefreshAhead = 20 * time.Minute

// tokenKeptFor is how long after its last use for a call a token is still
// renewed ahead: one lifetime of WeChat's authorizer tokens (two hours).
// After that it lapses, and the next call refreshes it.
const tokenKeptFor = 2 * time.Hour

// newJobs builds the queue client with its schedules; its workers call the
// traffic service for each account of a run. They run in App.Background
// (serve, dev) or alone (worker).
func newJobs(cfg config.Config, pool *pgxpool.Pool, log *slog.Logger, instanceID string, attempter traffic.Attempter, schedules []jobs.Schedule, now func() time.Time, pulls jobs.RevenuePulls, collector jobs.RevenueCollector, applier jobs.Applier, autoOpens jobs.AutoOpenStore, alerts *postgres.AlertStore, sender jobs.AlertSender) (*jobs.Client, error) {
	return jobs.New(jobs.Config{
		ID: instanceID, Pool: pool, Store: &postgres.RunStore{Pool: pool, Alerts: alerts}, Slots: &postgres.RateSlots{Pool: pool}, Log: log, Attempter: attempter, AMS: applier,
		RatePerSecond: cfg.RatePerSecond, Concurrency: cfg.Concurrency, RetryWait: cfg.RetryBackoff, Now: now,
		Schedules: schedules, RevenuePulls: pulls, Revenue: collector, AutoOpens: autoOpens, Alerts: alerts, AlertSender: sender,
	})
}

func (a *App) schedules() []jobs.Schedule {
	s := []jobs.Schedule{jobs.RetryBelowThreshold(24 * time.Hour), {
		Name: "attempt_months", Description: "Keep the audit's month partitions ahead of time", Every: 24 * time.Hour, RunOnStart: true,
		Do: func(ctx context.Context, _ *jobs.Client) (string, error) {
			n, err := a.Attempts.AddAttemptMonths(ctx, a.Now())
			return fmt.Sprintf("%d month partitions created", n), err
		},
	}}
	if a.Platform != nil {
		s = append(s, jobs.Schedule{
			Name: "authorizer_sync", Description: "Read every authorizer from WeChat", Every: a.Config.SyncInterval, RunOnStart: true,
			Do: func(ctx context.Context, _ *jobs.Client) (string, error) {
				r, err := a.Platform.Sync(ctx)
				return r.String(), err
			},
		})
	}
	if a.TokenManager != nil {
		s = append(s, jobs.Schedule{
			Name: "token_refresh", Description: "Refresh access tokens ahead of expiry", Every: 5 * time.Minute, RunOnStart: true,
			Do: func(ctx context.Context, _ *jobs.Client) (string, error) {
				tm := *a.TokenManager
				tm.MinLife += tokenRefreshAhead
				ids, err := a.PlatformStore.TokensExpiringWithin(ctx, tm.MinLife, tokenKeptFor)
				if err != nil {
					return "", err
				}
				failed := 0
				for _, id := range ids {
					if err := tm.RenewAuthorizerToken(ctx, id); err != nil {
						failed++
						a.Log.Warn("refresh authorizer token ahead of expiry", "appid", id, "err", err)
					}
				}
				if failed > 0 {
					return "", fmt.Errorf("%d of %d authorizer tokens could not be refreshed", failed, len(ids))
				}
				return fmt.Sprintf("%d authorizer tokens refreshed", len(ids)), nil
			},
		})
	}
	return s
}
