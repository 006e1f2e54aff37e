// Package app builds the program's parts once, in dependency order
// (platform → traffic → jobs), and runs their background work. It imports
// every package under internal/ and nothing above it: the web console is
// built over an App by web.ForApp, so every arrow points down, and the
// packages that start the program (main, the test harness) sit on top.
// TestOnlyTheRootImportsEveryLayer keeps it so.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/gorilla/sessions"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/alert"
	"github.com/trafficmaster/trafficmaster/internal/ams"
	"github.com/trafficmaster/trafficmaster/internal/config"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/platform"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// App is the wired program.
type App struct {
	Config config.Config
	Log    *slog.Logger
	Pool   *pgxpool.Pool
	Staff  *postgres.StaffStore
	Auth   *core.AuthService
	// WeChat is the platform client (its base URL points at the simulator in tests).
	WeChat *wechat.Client

	// TokenManager hands out component and authorizer access tokens.
	TokenManager *platform.TokenManager
	// Platform receives pushes, syncs authorizers and onboards accounts.
	Platform *platform.Service
	// PlatformStore keeps tickets, tokens, authorizers and pushed events.
	PlatformStore *postgres.PlatformStore

	// InstanceID names this process on the pending attempts it owns.
	InstanceID string
	// Traffic makes the audited traffic-master attempts (clicks and bulk runs).
	Traffic *traffic.Service
	// Attempts stores attempts and lists accounts and audit entries.
	Attempts *postgres.TrafficStore

	// Revenue pulls WeChat's ad data into RevenueStore and reads it for the pages.
	Revenue      *revenue.Service
	RevenueStore *postgres.RevenueStore

	// AMS manages the ads of opened Mini Programs (units, cover ads,
	// blocking, share ratio): snapshots of WeChat's answers, audited writes.
	AMS *ams.Service

	// Jobs is the Postgres job queue: bulk runs and scheduled work.
	Jobs *jobs.Client

	// Alerts lets admins manage where alerts go; AlertStore records events
	// and their deliveries, which the queue sends.
	Alerts     *alert.Service
	AlertStore *postgres.AlertStore

	// Sessions keeps the staff's signed-in sessions.
	Sessions *postgres.SessionStore
	// Loc is the zone times are shown in.
	Loc *time.Location
	// Now is the program's clock.
	Now func() time.Time

	// Background is the work run beside the server until the context ends.
	Background []func(ctx context.Context) error
	closers    []func()
}

// Options replace parts of the program, for tests and the demo.
type Options struct {
	// HTTPClient is used for calls to WeChat (tests shorten its timeout).
	HTTPClient *http.Client
	// Now replaces the clock.
	Now func() time.Time
	// Tokens replaces where the traffic service gets authorizer access
	// tokens (by default the platform's token manager).
	Tokens traffic.AuthorizerTokens
}

func (o Options) withDefaults() Options {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// New connects to the database, migrates it and builds every part.
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
	a := &App{Config: cfg, Log: log, Pool: pool, Loc: loc}
	if err := a.build(ctx, opt.withDefaults()); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// build makes every part once, in dependency order: each step uses only what
// the steps before it made, and App's fields are set here alone.
func (a *App) build(ctx context.Context, opt Options) error {
	a.Now = opt.Now
	// What every layer stands on: staff and sign-in, and the WeChat client.
	a.Staff = &postgres.StaffStore{Pool: a.Pool}
	a.Auth = newAuth(a.Staff, opt.Now)
	a.WeChat = newWeChat(a.Config, opt.HTTPClient)

	// Alerts: before every store that records an event.
	var err error
	var alertSender *alert.Sender
	if a.AlertStore, a.Alerts, alertSender, err = newAlerts(a.Config, a.Pool, opt.Now); err != nil {
		return err
	}

	// Platform: tokens, pushes, sync, onboarding.
	if a.PlatformStore, a.TokenManager, a.Platform, err = newPlatform(a.Config, a.Pool, a.WeChat, a.Log, opt.Now, a.AlertStore); err != nil {
		return err
	}
	// Secrets an older version stored in clear are encrypted before anything runs.
	if err := a.PlatformStore.SealStoredSecrets(ctx); err != nil {
		return fmt.Errorf("encrypt stored secrets: %w", err)
	}

	// Traffic: this instance's liveness, then the audited attempts.
	a.InstanceID = newInstanceID()
	live, err := postgres.StartLiveness(ctx, a.Pool, a.InstanceID, a.Config.InstanceLease, a.Log)
	if err != nil {
		return err
	}
	a.closers = append(a.closers, live.Stop)
	tokens := opt.Tokens
	if tokens == nil {
		tokens = a.TokenManager
	}
	// The component-token writes and the ad operations' reads take both
	// kinds of token from the same source, the test's when it has both.
	var both ams.Tokens = a.TokenManager
	if t, ok := tokens.(ams.Tokens); ok {
		both = t
	}
	a.Attempts, a.Traffic = newTraffic(a.Pool, a.WeChat, tokens, both, a.InstanceID, a.Log, opt.Now, a.AlertStore)
	a.recoverOrphans(ctx)

	// Ad operations: cached reads, audited writes through the traffic service.
	a.AMS = newAMS(a.Pool, a.Config.WeChat.ComponentAppID, a.WeChat, both, a.Traffic, a.Log, opt.Now)

	// Revenue: WeChat's ad data, pulled by the queue, read by the pages.
	a.RevenueStore, a.Revenue = newRevenue(a.Pool, a.Config.WeChat.ComponentAppID, a.WeChat, a.TokenManager, a.Log, opt.Now)

	// Jobs: bulk runs and the schedules, calling the traffic service.
	schedules := append(a.schedules(), jobs.RevenueDaily(revenueEvery, opt.Now), jobs.RevenueStateFold(jobs.RevenueStateFoldEvery, a.RevenueStore),
		jobs.RevenuePrincipals(jobs.RevenuePrincipalsEvery, a.RevenueStore))
	if a.Jobs, err = newJobs(a.Config, a.Pool, a.Log, a.InstanceID, a.Traffic, schedules, opt.Now, a.RevenueStore, a.Revenue, a.AMS, a.PlatformStore, a.AlertStore, alertSender); err != nil {
		return err
	}
	// Opening on authorization: the platform store records an authorization
	// and queues its opening on the queue in one transaction. The queue is
	// made after the store (its workers call the traffic service, which
	// takes its tokens from the platform), so the store learns it here,
	// before anything runs.
	a.PlatformStore.QueueAutoOpen = a.Jobs.QueueAutoOpen

	// Sessions, for the console that web.ForApp builds over all of the above.
	a.Sessions = newSessionStore(a.Config, a.Pool)

	a.Background = []func(context.Context) error{
		a.sweepSessions(a.Sessions, opt.Now),
		a.askForTicket,
		a.watchOrphans(live.Lease),
		a.Jobs.Run,
	}
	return nil
}

// newAuth builds the sign-in and staff service over the staff store.
func newAuth(staff *postgres.StaffStore, now func() time.Time) *core.AuthService {
	auth := core.NewAuthService(staff, staff, staff, staff)
	auth.Now = now
	return auth
}

// newWeChat builds the platform's WeChat client.
func newWeChat(cfg config.Config, hc *http.Client) *wechat.Client {
	return wechat.NewClient(wechat.Config{BaseURL: cfg.WeChat.APIBaseURL, ComponentAppID: cfg.WeChat.ComponentAppID, ComponentAppSecret: cfg.WeChat.ComponentAppSecret, HTTPClient: hc})
}

// newSessionStore builds the Postgres-backed session store from configuration.
func newSessionStore(cfg config.Config, pool *pgxpool.Pool) *postgres.SessionStore {
	return postgres.NewSessionStore(pool, cfg.Key("session-cookie"), &sessions.Options{
		Path:     "/",
		MaxAge:   int(cfg.SessionAbsolute.Seconds()),
		HttpOnly: true,
		Secure:   cfg.Secure(),
		// Lax, not Strict: staff return from WeChat's authorization page by a
		// cross-site link and must still be signed in.
		SameSite: http.SameSiteLaxMode,
	}, cfg.SessionIdle, cfg.SessionAbsolute)
}

// sweepSessions deletes expired sessions and old sign-in counters every ten minutes.
func (a *App) sweepSessions(sessions *postgres.SessionStore, now func() time.Time) func(context.Context) error {
	return func(ctx context.Context) error {
		return Every(ctx, 10*time.Minute, func(ctx context.Context) {
			if n, err := sessions.DeleteExpired(ctx); err != nil {
				a.Log.Warn("delete expired sessions", "err", err)
			} else if n > 0 {
				a.Log.Info("deleted expired sessions", "count", n)
			}
			if err := a.Staff.DeleteOldLoginAttempts(ctx, now().Add(-24*time.Hour)); err != nil {
				a.Log.Warn("delete old sign-in counters", "err", err)
			}
		})
	}
}

// Close stops the liveness lease and releases the pool.
func (a *App) Close() {
	for _, c := range a.closers {
		c()
	}
	a.Pool.Close()
}

// Run runs the background work and the queue's workers, with whatever else
// is given (the web console's server), until ctx ends or one of them fails.
// Without more it is the worker-only process.
func (a *App) Run(ctx context.Context, more ...func(ctx context.Context) error) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, bg := range append(append([]func(context.Context) error{}, a.Background...), more...) {
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
