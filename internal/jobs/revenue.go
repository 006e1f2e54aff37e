package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/trafficmaster/trafficmaster/internal/revenue"
)

// RevenuePulls records pulls of WeChat's ad data and how far each got;
// internal/postgres implements it.
type RevenuePulls interface {
	// CreatePull records a pull and, in the same transaction, queues its
	// job through queue, so a pull is never recorded without its job.
	CreatePull(ctx context.Context, kind string, from, to time.Time, by *int64, queue func(ctx context.Context, tx pgx.Tx, id int64) error) (int64, error)
	Pull(ctx context.Context, id int64) (revenue.Pull, error)
	Pulls(ctx context.Context, limit int) ([]revenue.Pull, error)
	AdvancePull(ctx context.Context, id int64, next time.Time, res revenue.Result) error
	NotePullError(ctx context.Context, id int64, lastError string) error
	FinishPull(ctx context.Context, id int64, state, lastError string) error
}

// RevenueCollector pulls a range of WeChat's ad data into the store,
// calling pace before each WeChat call (the revenue service).
type RevenueCollector interface {
	Collect(ctx context.Context, from, to time.Time, pace func(context.Context) error) (revenue.Result, error)
}

// RevenueChunkDays is how many days one step of a pull asks WeChat for at
// once; progress is recorded after each step, so a resumed pull repeats at
// most one step (which replaces, never doubles, what it stored).
const RevenueChunkDays = 31

// revenuePullAttempts bounds the retries of a pull WeChat keeps refusing
// (-202, 1737): each retry carries on from the last stored step.
const revenuePullAttempts = 10

// RevenuePullArgs is the queue job of one pull.
type RevenuePullArgs struct {
	PullID int64 `json:"pull_id"`
}

// Kind names the job in the queue.
func (RevenuePullArgs) Kind() string { return "revenue_pull" }

type revenuePullWorker struct {
	river.WorkerDefaults[RevenuePullArgs]
	c *Client
}

// Timeout lets a long backfill run as long as its calls take at the global rate.
func (w *revenuePullWorker) Timeout(*river.Job[RevenuePullArgs]) time.Duration { return -1 }

func (w *revenuePullWorker) Work(ctx context.Context, job *river.Job[RevenuePullArgs]) error {
	store, collector := w.c.cfg.RevenuePulls, w.c.cfg.Revenue
	p, err := store.Pull(ctx, job.Args.PullID)
	if err != nil {
		return err
	}
	if p.State == "done" || p.State == "failed" {
		return nil
	}
	for day := p.Next; !day.After(p.To); {
		end := day.AddDate(0, 0, RevenueChunkDays-1)
		if end.After(p.To) {
			end = p.To
		}
		res, err := collector.Collect(ctx, day, end, w.c.Limiter.Wait)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			if nerr := store.NotePullError(ctx, p.ID, err.Error()); nerr != nil {
				return errors.Join(err, nerr)
			}
			if job.Attempt >= job.MaxAttempts || !errors.Is(err, revenue.ErrRetry) {
				return river.JobCancel(errors.Join(err, store.FinishPull(ctx, p.ID, "failed", err.Error())))
			}
			return err
		}
		day = end.AddDate(0, 0, 1)
		if err := store.AdvancePull(ctx, p.ID, day, res); err != nil {
			return err
		}
	}
	return store.FinishPull(ctx, p.ID, "done", "")
}

// StartRevenuePull records a pull of [from, to] (Beijing days) and queues it.
func (c *Client) StartRevenuePull(ctx context.Context, kind string, from, to time.Time, by *int64) (int64, error) {
	if c.cfg.RevenuePulls == nil || c.cfg.Revenue == nil {
		return 0, errors.New("revenue pulls are not configured")
	}
	return c.cfg.RevenuePulls.CreatePull(ctx, kind, from, to, by, func(ctx context.Context, tx pgx.Tx, id int64) error {
		_, err := c.River.InsertTx(ctx, tx, RevenuePullArgs{PullID: id}, &river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: revenuePullAttempts})
		return err
	})
}

// RevenuePulls lists the latest pulls for the Jobs page.
func (c *Client) RevenuePulls(ctx context.Context, limit int) ([]revenue.Pull, error) {
	if c.cfg.RevenuePulls == nil {
		return nil, nil
	}
	return c.cfg.RevenuePulls.Pulls(ctx, limit)
}

// RevenueDaily is the schedule that pulls the last two days every period:
// yesterday's figures, which WeChat revises during the day, and the day
// before's final ones, which replace what the previous run stored.
func RevenueDaily(every time.Duration, now func() time.Time) Schedule {
	return Schedule{
		Name:        "revenue_daily",
		Description: "Pull yesterday's ad data and settlement from WeChat",
		Every:       every,
		Do: func(ctx context.Context, c *Client) (string, error) {
			y := revenue.Day(now()).AddDate(0, 0, -1)
			id, err := c.StartRevenuePull(ctx, "daily", y.AddDate(0, 0, -1), y, nil)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("revenue pull %d queued", id), nil
		},
	}
}
