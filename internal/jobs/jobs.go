// Package jobs runs the console's background work on River, a Postgres job
// queue shared by every instance: bulk runs (one job per account), and the
// scheduled retries, authorizer sync and token refresh.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// Queue names. Bulk calls have their own queue so a long run never delays
// the scheduled maintenance jobs.
const (
	QueueBulk        = "bulk"
	QueueMaintenance = river.QueueDefault
)

// Config configures the queue client.
type Config struct {
	// ID names this process in the queue (River's client ID); the instance
	// id, so recovery can hand a dead process's jobs over at once.
	ID   string
	Pool *pgxpool.Pool
	// Store keeps the runs and Slots the rate limiter's slots (both
	// implemented by internal/postgres); required.
	Store Store
	Slots SlotStore
	Log   *slog.Logger
	// Attempter makes the audited call for each account of a run.
	Attempter traffic.Attempter
	// AMS applies the ad operation of an ad-operation run to each account.
	AMS Applier
	// RatePerSecond is the global call rate across every instance.
	RatePerSecond float64
	// Concurrency is how many accounts this instance calls at once.
	Concurrency int
	// MaxTries bounds the calls for one account in one run when WeChat asks
	// to retry (1737, -202, -1, 45009). Default 5.
	MaxTries int
	// Backoff returns the wait before retry number tries (1-based) after
	// outcome; the default is exponential with jitter from RetryWait (see
	// BackoffFrom).
	Backoff func(tries int, o traffic.Outcome) time.Duration
	// RetryWait is the first wait before an account is called again after a
	// transient error (RETRY_BACKOFF); default 5 s.
	RetryWait time.Duration
	// JobTimeout bounds one job (a schedule may have its own); RescueAfter is
	// when a job whose process died is handed to another instance. Defaults
	// 2 minutes, and 3 more than the longest of them.
	JobTimeout  time.Duration
	RescueAfter time.Duration
	// Schedules are the periodic jobs; only the elected leader enqueues them.
	Schedules []Schedule
	// Now replaces the clock for run bookkeeping.
	Now func() time.Time
	// FetchPoll shortens the queue's fallback polling (tests).
	FetchPoll time.Duration
	// RevenuePulls and Revenue record and perform pulls of WeChat's ad data (revenue.go).
	RevenuePulls RevenuePulls
	Revenue      RevenueCollector
	// AutoOpens keeps the opens on authorization (autoopen.go).
	AutoOpens AutoOpenStore
	// RevenueConcurrency is how many chunks of pulls this instance works
	// on at once (default 4); RevenueChunkAccounts how many Mini Programs
	// a chunk pulls (default RevenueChunkAccounts); RevenueChunkBudget how
	// long a chunk's job works before handing itself back (default half of
	// JobTimeout); RevenueAccountsAtOnce how many accounts of a chunk are
	// pulled at once (default 4).
	RevenueConcurrency    int
	RevenueChunkAccounts  int
	RevenueChunkBudget    time.Duration
	RevenueAccountsAtOnce int
	// Alerts and AlertSender keep and send the alerts' deliveries (alerts.go).
	Alerts      AlertDeliveries
	AlertSender AlertSender
}

// Client is the queue client with the services built on it.
type Client struct {
	River   *river.Client[pgx.Tx]
	Runs    *Runs
	Limiter *RateLimiter
	items   ItemStore
	cfg     Config
}

// New builds the client; Start runs its workers.
func New(cfg Config) (*Client, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.MaxTries <= 0 {
		cfg.MaxTries = 5
	}
	if cfg.Backoff == nil {
		cfg.Backoff = BackoffFrom(cfg.RetryWait)
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = 2 * time.Minute
	}
	// A job still running is never taken for one whose process died.
	longest := cfg.JobTimeout
	for _, s := range cfg.Schedules {
		longest = max(longest, s.Timeout)
	}
	if cfg.RescueAfter <= longest {
		cfg.RescueAfter = longest + 3*time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RevenueConcurrency <= 0 {
		cfg.RevenueConcurrency = 4
	}
	if cfg.Store == nil || cfg.Slots == nil {
		return nil, errors.New("jobs: Config.Store and Config.Slots are required")
	}
	c := &Client{cfg: cfg, items: cfg.Store, Limiter: &RateLimiter{Slots: cfg.Slots, Name: "wechat", PerSecond: cfg.RatePerSecond}}
	c.Runs = &Runs{Store: cfg.Store, client: c}

	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &runItemWorker{c: c}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &scheduleWorker{c: c}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &revenuePullWorker{c: c}); err != nil {
		return nil, err
	}
	if cfg.AutoOpens != nil {
		if err := river.AddWorkerSafely(workers, &autoOpenWorker{c: c}); err != nil {
			return nil, err
		}
	}
	if err := river.AddWorkerSafely(workers, &revenueChunkWorker{c: c}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &alertWorker{c: c}); err != nil {
		return nil, err
	}
	var periodic []*river.PeriodicJob
	for _, s := range cfg.Schedules {
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(s.Every), func() (river.JobArgs, *river.InsertOpts) {
			// The tag lets the Jobs page ask the queue for the schedule's latest job.
			return ScheduleArgs{Name: s.Name}, &river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: scheduleAttempts, Tags: []string{s.Name},
				UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: s.Every}}
		}, &river.PeriodicJobOpts{ID: s.Name, RunOnStart: s.RunOnStart}))
	}
	rcfg := &river.Config{
		ID: cfg.ID,
		Queues: map[string]river.QueueConfig{
			QueueBulk:        {MaxWorkers: cfg.Concurrency},
			QueueMaintenance: {MaxWorkers: 2},
			QueueRevenue:     {MaxWorkers: cfg.RevenueConcurrency},
		},
		Workers:              workers,
		PeriodicJobs:         periodic,
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		Logger:               cfg.Log.With("component", "river"),
		FetchCooldown:        10 * time.Millisecond,
	}
	if cfg.FetchPoll > 0 {
		rcfg.FetchPollInterval = cfg.FetchPoll
	}
	rc, err := river.NewClient(riverpgxv5.New(cfg.Pool), rcfg)
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	c.River = rc
	return c, nil
}

// Start runs the workers until Stop (or ctx ends).
func (c *Client) Start(ctx context.Context) error { return c.River.Start(ctx) }

// Stop lets running jobs finish, then stops.
func (c *Client) Stop(ctx context.Context) error { return c.River.Stop(ctx) }

// Run starts the workers and stops them gracefully when ctx ends: the shape
// of App.Background.
func (c *Client) Run(ctx context.Context) error {
	if err := c.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Stop(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// DefaultRetryWait is the first wait after a transient error.
const DefaultRetryWait = 5 * time.Second

// BackoffFrom waits first base after a transient error and six times as long
// after "operating too fast" (WeChat asks for a minute; 30 s for the default
// 5 s), doubling per try up to 180 times base (15 minutes), with ±50% jitter
// so accounts throttled together do not return together. A base of zero or
// less is DefaultRetryWait.
func BackoffFrom(base time.Duration) func(tries int, o traffic.Outcome) time.Duration {
	if base <= 0 {
		base = DefaultRetryWait
	}
	return func(tries int, o traffic.Outcome) time.Duration {
		first := base
		if o == traffic.OutcomeRateLimited {
			first = 6 * base
		}
		d := first << min(tries-1, 5)
		d = min(d, 180*base)
		return d/2 + time.Duration(rand.Int64N(int64(d)))
	}
}
