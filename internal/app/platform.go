package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/config"
	"github.com/trafficmaster/trafficmaster/internal/platform"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/secretbox"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// newPlatform builds the platform's store (secrets sealed at rest), its
// token manager and the platform service (pushes, sync, onboarding).
func newPlatform(cfg config.Config, pool *pgxpool.Pool, wc *wechat.Client, log *slog.Logger, now func() time.Time, alerts *postgres.AlertStore) (*postgres.PlatformStore, *platform.TokenManager, *platform.Service, error) {
	box, err := secretbox.New(cfg.Key("at-rest"))
	if err != nil {
		return nil, nil, nil, err
	}
	w := cfg.WeChat
	crypter, err := wechat.NewCrypter(w.Token, w.AESKey, w.AESKeyPrevious, w.ComponentAppID)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("WECHAT_COMPONENT_AES_KEY: %w", err)
	}
	store := &postgres.PlatformStore{Pool: pool, Box: box}
	tm := platform.NewTokenManager(store, wc, log)
	tm.Now = now
	tm.Alerts = alerts
	svc := platform.New(platform.Config{
		Store: store, WeChat: wc, Crypter: crypter, Tokens: tm,
		LoginPageBase: w.LoginPageBase, Log: log, Now: now,
	})
	// The periodic sync is a scheduled job on the queue (see schedules in
	// jobs.go), so one instance runs it however many are up.
	return store, tm, svc, nil
}

// askForTicket asks WeChat to push a ticket at start: a fresh install has
// none, and would otherwise wait ten minutes for the next push.
func (a *App) askForTicket(ctx context.Context) error {
	if err := a.Platform.EnsureTicket(ctx); err != nil && ctx.Err() == nil {
		a.Log.Warn("asking WeChat to push a ticket failed; it arrives within ten minutes anyway", "err", err)
	}
	return nil
}
