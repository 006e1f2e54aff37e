package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// newInstanceID names this process on the attempts and jobs it owns.
func newInstanceID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newTraffic builds the attempts store and the traffic-master service that
// makes the audited attempts for clicks and bulk runs alike.
func newTraffic(pool *pgxpool.Pool, wc *wechat.Client, tokens traffic.AuthorizerTokens, component traffic.ComponentTokens, instanceID string, log *slog.Logger, now func() time.Time, alerts *postgres.AlertStore) (*postgres.TrafficStore, *traffic.Service) {
	// Revenue chunks and finishes resume from their checkpoints, so a dead
	// instance's are handed over as its run items are.
	store := &postgres.TrafficStore{Pool: pool, HandOverJobKinds: []string{jobs.RunItemArgs{}.Kind(),
		jobs.RevenueChunkArgs{}.Kind(), jobs.RevenuePullArgs{}.Kind()}, Alerts: alerts}
	svc := &traffic.Service{Store: store, WeChat: wc, Tokens: tokens, Component: component, InstanceID: instanceID, Now: now, Log: log}
	// Recovery must not take the attempts this instance is completing for orphans.
	store.Completing = svc.Completing
	return store, svc
}

// recoverOrphans marks the attempts of dead instances interrupted and hands
// their queued work over.
func (a *App) recoverOrphans(ctx context.Context) {
	if r, err := a.Attempts.Recover(ctx, a.InstanceID); err != nil {
		if ctx.Err() == nil {
			a.Log.Warn("recover interrupted attempts", "err", err)
		}
	} else if r.Attempts > 0 || r.Jobs > 0 {
		a.Log.Warn("took over the work of stopped instances", "interrupted_attempts", r.Attempts, "handed_over_jobs", r.Jobs)
	}
}

// watchOrphans recovers orphans every half lease: neighbours may die while
// this instance runs, and their orphans are found within a lease and a half
// of their death.
func (a *App) watchOrphans(lease time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		return Every(ctx, lease/2, a.recoverOrphans)
	}
}
