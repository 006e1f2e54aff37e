package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/config"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/web"
)

// app is the wired program: pool, stores, services and the web server.
type app struct {
	cfg    config.Config
	log    *slog.Logger
	pool   *pgxpool.Pool
	staff  *postgres.StaffStore
	auth   *core.AuthService
	server *web.Server
	// background work started by features, run until the context ends
	background []func(ctx context.Context) error
}

// newApp connects to the database, migrates it and wires every part.
func newApp(ctx context.Context, cfg config.Config, log *slog.Logger) (*app, error) {
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
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
	a := &app{cfg: cfg, log: log, pool: pool, staff: &postgres.StaffStore{Pool: pool}}
	a.auth = core.NewAuthService(a.staff, a.staff, a.staff)
	sessions := web.NewSessionStore(cfg, pool)
	deps := web.Deps{Config: cfg, Pool: pool, Logger: log, Auth: a.auth, Staff: a.staff, Sessions: sessions, Loc: loc}
	a.background = append(a.background, func(ctx context.Context) error {
		return every(ctx, 10*time.Minute, func(ctx context.Context) {
			if n, err := sessions.DeleteExpired(ctx); err != nil {
				log.Warn("delete expired sessions", "err", err)
			} else if n > 0 {
				log.Info("deleted expired sessions", "count", n)
			}
		})
	})
	a.server = web.New(deps)
	return a, nil
}

func (a *app) close() { a.pool.Close() }

// every runs fn now and then every d until ctx ends.
func every(ctx context.Context, d time.Duration, fn func(context.Context)) error {
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
