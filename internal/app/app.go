// Package app wires the program: pool, stores, services, web server and
// background work. main and the test harness build it the same way.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/config"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/platform"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/web"
)

// App is the wired program.
type App struct {
	Config config.Config
	Log    *slog.Logger
	Pool   *pgxpool.Pool
	Staff  *postgres.StaffStore
	Auth   *core.AuthService
	Server *web.Server
	// WeChat is the platform client (its base URL points at the simulator in tests).
	WeChat *wechat.Client
	// Tokens hands out authorizer access tokens.
	Tokens traffic.AuthorizerTokens
	// TokenManager is Tokens with the component token and retry helpers.
	TokenManager *platform.TokenManager
	// Platform receives pushes, syncs authorizers and onboards accounts.
	Platform *platform.Service
	// PlatformStore keeps tickets, tokens, authorizers and pushed events.
	PlatformStore *postgres.PlatformStore
	// Background work started by features, run until the context ends.
	Background []func(ctx context.Context) error

	// Traffic makes the audited traffic-master attempts (clicks and bulk runs).
	Traffic *traffic.Service
	// Attempts stores attempts and lists accounts and audit entries.
	Attempts *postgres.TrafficStore
	// InstanceID names this process on the pending attempts it owns.
	InstanceID string
	closers    []func()

	// Jobs is the Postgres job queue: bulk runs and scheduled work.
	Jobs *jobs.Client
}

// Options adjust the wiring for tests and the demo.
type Options struct {
	// HTTPClient is used for calls to WeChat (tests shorten its timeout).
	HTTPClient *http.Client
	// Now replaces the clock.
	Now func() time.Time
}

// New connects to the database, migrates it and wires every part.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opt Options) (*App, error) {
	pool, err := postgres.OpenTimeout(ctx, cfg.DatabaseURL, cfg.StatementTimeout)
	if err != nil {
		return nil, err
	}
	if err := postgres.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("TIME_ZONE: %w", err)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	a := &App{Config: cfg, Log: log, Pool: pool, Staff: &postgres.StaffStore{Pool: pool}}
	a.Auth = core.NewAuthService(a.Staff, a.Staff, a.Staff, a.Staff)
	a.Auth.Now = opt.Now
	httpClient := opt.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 15 * time.Second}
	}
	a.WeChat = wechat.NewClient(wechat.Config{BaseURL: cfg.WeChat.APIBaseURL, ComponentAppID: cfg.WeChat.ComponentAppID, ComponentAppSecret: cfg.WeChat.ComponentAppSecret, HTTPClient: httpClient})
	sessions := web.NewSessionStore(cfg, pool)
	deps := web.Deps{Config: cfg, Pool: pool, Logger: log, Auth: a.Auth, Staff: a.Staff, Sessions: sessions, Loc: loc}
	a.Background = append(a.Background, func(ctx context.Context) error {
		return Every(ctx, 10*time.Minute, func(ctx context.Context) {
			if n, err := sessions.DeleteExpired(ctx); err != nil {
				log.Warn("delete expired sessions", "err", err)
			} else if n > 0 {
				log.Info("deleted expired sessions", "count", n)
			}
			if err := a.Staff.DeleteOldLoginAttempts(ctx, opt.Now().Add(-24*time.Hour)); err != nil {
				log.Warn("delete old sign-in counters", "err", err)
			}
		})
	})
	if err := a.wirePlatform(&deps, opt); err != nil {
		a.Close()
		return nil, err
	}
	// Secrets an older version stored in clear are encrypted before anything runs.
	if err := a.PlatformStore.SealStoredSecrets(ctx); err != nil {
		a.Close()
		return nil, fmt.Errorf("encrypt stored secrets: %w", err)
	}
	if err := a.wireTraffic(ctx, &deps, opt); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.wireJobs(&deps, opt); err != nil {
		a.Close()
		return nil, err
	}
	a.Server = web.New(deps)
	return a, nil
}

// Close releases the pool.
func (a *App) Close() {
	for _, c := range a.closers {
		c()
	}
	a.Pool.Close()
}

// Run serves HTTP on addr and runs the background work until ctx ends or one fails.
func (a *App) Run(ctx context.Context, addr string) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.Server.Run(gctx, addr) })
	for _, bg := range a.Background {
		g.Go(func() error { return bg(gctx) })
	}
	return g.Wait()
}

// Every runs fn now and then every d until ctx ends.
func Every(ctx context.Context, d time.Duration, fn func(context.Context)) error {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		fn(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
