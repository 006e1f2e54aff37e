package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/trafficmaster/trafficmaster/internal/revenue"
)

// A pull of WeChat's ad data is one recorded pull (revenue_pulls, on the
// Jobs page) and many short queue jobs: one chunk for the provider's own
// calls and one per RevenueChunkAccounts Mini Programs, queued with the pull
// in one transaction. Chunks run on the revenue queue, any instance taking
// any chunk, each call through the same global rate limiter as runs. A
// chunk checkpoints where it got to every few seconds and hands itself back
// to the queue after RevenueChunkBudget, so no job runs long and a job
// taken over after a crash repeats only the accounts since its last
// checkpoint (each replaces its days, never doubles them). The chunk that
// ends last queues the pull's finish: the per-slot rollup of the range,
// then the pull is done (or failed, if a chunk gave up).

// RevenuePulls records pulls of WeChat's ad data, their chunks and how far
// each got; internal/postgres implements it.
type RevenuePulls interface {
	// CreatePull records a pull of [from, to] with its chunks (the provider
	// chunk 0, then the Mini Programs in appid order, chunkSize to a chunk)
	// and, in the same transaction, queues them through queue, so a pull is
	// never recorded without its jobs.
	CreatePull(ctx context.Context, kind string, from, to time.Time, by *int64, chunkSize int, queue RevenueQueueFunc) (int64, error)
	Pull(ctx context.Context, id int64) (revenue.Pull, error)
	Pulls(ctx context.Context, limit int) ([]revenue.Pull, error)
	// StartChunk reads a chunk as its job finds it, marking it and its pull
	// running if they were queued.
	StartChunk(ctx context.Context, pullID int64, chunk int) (RevenueChunk, error)
	// SaveChunk checkpoints c if the chunk is still at pass and next (what
	// this job read or last saved); false when another job moved it on.
	SaveChunk(ctx context.Context, c RevenueChunk, pass, next int) (bool, error)
	// FinishChunk ends a chunk as done or failed, once; the chunk that ends
	// the pull's last one calls queue with the pull's id in the same
	// transaction (last is then true).
	FinishChunk(ctx context.Context, pullID int64, chunk int, state, lastError string, queue func(ctx context.Context, tx pgx.Tx, pullID int64) error) (last bool, err error)
	// AdvancePull records that the pull's rollup is rebuilt for every day before next.
	AdvancePull(ctx context.Context, id int64, next time.Time, res revenue.Result) error
	NotePullError(ctx context.Context, id int64, lastError string) error
	// FinishPull ends the pull as state (done, or failed when a chunk
	// failed) unless it has ended already.
	FinishPull(ctx context.Context, id int64, state, lastError string) error
	// ChunksFailed counts the pull's chunks that gave up.
	ChunksFailed(ctx context.Context, id int64) (int, error)
}

// RevenueQueueFunc queues the jobs of a new pull's chunks inside the
// transaction that records them.
type RevenueQueueFunc func(ctx context.Context, tx pgx.Tx, pullID int64, chunks []int) error

// RevenueChunk is one chunk of a pull and how far it got.
type RevenueChunk struct {
	PullID    int64
	Chunk     int
	PullState string
	From, To  time.Time
	// Provider is chunk 0: the provider's totals and settlement.
	Provider bool
	// AppIDs are the accounts of this pass; Next indexes the first not yet
	// stored; Retry collects those WeChat asked to call again, the next
	// pass's AppIDs.
	AppIDs []string
	Pass   int
	Next   int
	Retry  []string
	// Done counts accounts stored, refused or given up on; Rows the rows
	// stored; Errors the refused calls (retried ones included).
	Done      int
	Rows      int64
	Errors    int
	LastError string
	State     string
}

// RevenueCollector pulls WeChat's ad data into the store, calling pace
// before each WeChat call (the revenue service).
type RevenueCollector interface {
	CollectProvider(ctx context.Context, from, to time.Time, pace func(context.Context) error) (revenue.Result, error)
	CollectAccount(ctx context.Context, appID string, from, to time.Time, pace func(context.Context) error) (revenue.AccountOutcome, error)
	RebuildRollup(ctx context.Context, from, to time.Time) error
}

// QueueRevenue is the queue of revenue chunks: beside runs, so a backfill
// and a run share the rate limit but never each other's workers.
const QueueRevenue = "revenue"

// RevenueChunkAccounts is how many Mini Programs one chunk pulls.
const RevenueChunkAccounts = 500

// revenueAccountsAtOnce is how many accounts of a chunk are pulled at once
// unless configured.
const revenueAccountsAtOnce = 4

// revenueCheckpointEvery is how often a chunk records how far it got: what a
// job taken over after a crash repeats at most.
const revenueCheckpointEvery = 2 * time.Second

// revenueChunkAttempts bounds the passes over accounts WeChat keeps asking
// to retry (-202, 1737), each after the queue's backoff, and the retries
// of a chunk whose store is away.
const revenueChunkAttempts = 10

// RevenueChunkArgs is the queue job of one chunk of a pull.
type RevenueChunkArgs struct {
	PullID int64 `json:"pull_id"`
	Chunk  int   `json:"chunk"`
}

// Kind names the job in the queue.
func (RevenueChunkArgs) Kind() string { return "revenue_pull_chunk" }

// RevenuePullArgs is the queue job that finishes a pull once its last chunk
// has ended: the rollup of the range, then the pull's end.
type RevenuePullArgs struct {
	PullID int64 `json:"pull_id"`
}

// Kind names the job in the queue.
func (RevenuePullArgs) Kind() string { return "revenue_pull" }

type revenueChunkWorker struct {
	river.WorkerDefaults[RevenueChunkArgs]
	c *Client
}

// Timeout leaves a chunk its budget plus room for the account in hand.
func (w *revenueChunkWorker) Timeout(*river.Job[RevenueChunkArgs]) time.Duration {
	return w.c.cfg.JobTimeout
}

func (w *revenueChunkWorker) Work(ctx context.Context, job *river.Job[RevenueChunkArgs]) error {
	store, collector := w.c.cfg.RevenuePulls, w.c.cfg.Revenue
	ch, err := store.StartChunk(ctx, job.Args.PullID, job.Args.Chunk)
	if err != nil {
		return err
	}
	if ch.State == "done" || ch.State == "failed" || ch.PullState == "done" || ch.PullState == "failed" {
		return nil
	}
	lastTry := job.Attempt >= job.MaxAttempts
	if ch.Provider {
		res, err := collector.CollectProvider(ctx, ch.From, ch.To, w.c.Limiter.Wait)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			ch.Errors++
			ch.LastError = "provider: " + err.Error()
			if ok, serr := w.save(ctx, ch, ch.Pass, ch.Next); serr != nil || !ok {
				return errors.Join(err, serr)
			}
			if lastTry || !errors.Is(err, revenue.ErrRetry) {
				return river.JobCancel(errors.Join(err, w.finishChunk(ctx, ch, "failed")))
			}
			return err
		}
		ch.Rows, ch.LastError = res.Rows, ""
		if ok, err := w.save(ctx, ch, ch.Pass, ch.Next); err != nil || !ok {
			return err
		}
		return w.finishChunk(ctx, ch, "done")
	}

	// The accounts, from the last checkpoint on.
	pass, next := ch.Pass, ch.Next
	gaveUp := false
	budget := time.Now().Add(w.c.revenueBudget())
	saved := time.Now()
	checkpoint := func() (bool, error) {
		ok, err := w.save(ctx, ch, pass, next)
		pass, next, saved = ch.Pass, ch.Next, time.Now()
		return ok, err
	}
	at := w.c.cfg.RevenueAccountsAtOnce
	if at <= 0 {
		at = revenueAccountsAtOnce
	}
	for ch.Next < len(ch.AppIDs) {
		// A few accounts at a time, so a chunk keeps calls waiting for the
		// rate limiter's slots while others store what they got; the
		// checkpoint moves past a batch once all of it is stored.
		batch := ch.AppIDs[ch.Next:min(ch.Next+at, len(ch.AppIDs))]
		outs := make([]revenue.AccountOutcome, len(batch))
		errs := make([]error, len(batch))
		var wg sync.WaitGroup
		for i, id := range batch {
			wg.Go(func() { outs[i], errs[i] = collector.CollectAccount(ctx, id, ch.From, ch.To, w.c.Limiter.Wait) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			// The database or the job's context: keep what is recorded and
			// let the queue run the chunk again from there (the batch's
			// stored accounts are pulled again, replacing themselves).
			_, serr := checkpoint()
			return errors.Join(err, serr)
		}
		for i, out := range outs {
			id := batch[i]
			ch.Next++
			switch {
			case out.Retry && !lastTry:
				// What it stored is replaced, and counted, by the next pass.
				ch.Retry = append(ch.Retry, id)
				ch.Errors++
				ch.LastError = fmt.Sprintf("%s: %v", id, out.Err)
			case out.Err != nil:
				gaveUp = gaveUp || out.Retry
				ch.Done++
				ch.Rows += int64(out.Rows)
				ch.Errors++
				ch.LastError = fmt.Sprintf("%s: %v", id, out.Err)
			default:
				ch.Done++
				ch.Rows += int64(out.Rows)
			}
		}
		if time.Since(saved) >= revenueCheckpointEvery || time.Now().After(budget) {
			if ok, err := checkpoint(); err != nil || !ok {
				return err
			}
			if time.Now().After(budget) && ch.Next < len(ch.AppIDs) {
				// Back to the queue at once: another job carries on, so
				// no job outlives the budget whatever the rate.
				return river.JobSnooze(0)
			}
		}
	}
	if len(ch.Retry) > 0 {
		// Another pass over the accounts WeChat asked to call again, after
		// the queue's backoff.
		retry := len(ch.Retry)
		ch.AppIDs, ch.Retry, ch.Next, ch.Pass = ch.Retry, nil, 0, ch.Pass+1
		if ok, err := checkpoint(); err != nil || !ok {
			return err
		}
		return fmt.Errorf("%w: %d accounts of chunk %d (%s)", revenue.ErrRetry, retry, ch.Chunk, ch.LastError)
	}
	if ok, err := checkpoint(); err != nil || !ok {
		return err
	}
	state := "done"
	if gaveUp {
		// Accounts WeChat still asked to retry on the last pass: the pull
		// says so.
		state = "failed"
	}
	return w.finishChunk(ctx, ch, state)
}

// save checkpoints the chunk; recording must survive the job's context
// ending right after a call.
func (w *revenueChunkWorker) save(ctx context.Context, ch RevenueChunk, pass, next int) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return w.c.cfg.RevenuePulls.SaveChunk(ctx, ch, pass, next)
}

// finishChunk ends the chunk; ending the pull's last chunk queues its finish.
func (w *revenueChunkWorker) finishChunk(ctx context.Context, ch RevenueChunk, state string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, err := w.c.cfg.RevenuePulls.FinishChunk(ctx, ch.PullID, ch.Chunk, state, ch.LastError, func(ctx context.Context, tx pgx.Tx, pullID int64) error {
		_, err := w.c.River.InsertTx(ctx, tx, RevenuePullArgs{PullID: pullID}, &river.InsertOpts{Queue: QueueRevenue, MaxAttempts: revenueChunkAttempts})
		return err
	})
	return err
}

// revenueBudget is how long one chunk job works before handing itself back.
func (c *Client) revenueBudget() time.Duration {
	if c.cfg.RevenueChunkBudget > 0 {
		return c.cfg.RevenueChunkBudget
	}
	return c.cfg.JobTimeout / 2
}

// revenueRollupDays is how many days of the rollup the finish rebuilds
// between checkpoints.
const revenueRollupDays = 7

type revenuePullWorker struct {
	river.WorkerDefaults[RevenuePullArgs]
	c *Client
}

// Timeout bounds the finish like any job; it hands itself back after its budget.
func (w *revenuePullWorker) Timeout(*river.Job[RevenuePullArgs]) time.Duration {
	return w.c.cfg.JobTimeout
}

func (w *revenuePullWorker) Work(ctx context.Context, job *river.Job[RevenuePullArgs]) error {
	store, collector := w.c.cfg.RevenuePulls, w.c.cfg.Revenue
	p, err := store.Pull(ctx, job.Args.PullID)
	if err != nil {
		return err
	}
	if p.State == "done" || p.State == "failed" {
		return nil
	}
	budget := time.Now().Add(w.c.revenueBudget())
	for day := p.Next; !day.After(p.To); {
		if time.Now().After(budget) {
			return river.JobSnooze(0)
		}
		end := day.AddDate(0, 0, revenueRollupDays-1)
		if end.After(p.To) {
			end = p.To
		}
		if err := collector.RebuildRollup(ctx, day, end); err != nil {
			return err
		}
		day = end.AddDate(0, 0, 1)
		if err := store.AdvancePull(ctx, p.ID, day, revenue.Result{}); err != nil {
			return err
		}
	}
	failed, err := store.ChunksFailed(ctx, p.ID)
	if err != nil {
		return err
	}
	state := "done"
	if failed > 0 {
		state = "failed"
	}
	return store.FinishPull(ctx, p.ID, state, "")
}

// StartRevenuePull records a pull of [from, to] (Beijing days) and queues
// its chunks.
func (c *Client) StartRevenuePull(ctx context.Context, kind string, from, to time.Time, by *int64) (int64, error) {
	if c.cfg.RevenuePulls == nil || c.cfg.Revenue == nil {
		return 0, errors.New("revenue pulls are not configured")
	}
	size := c.cfg.RevenueChunkAccounts
	if size <= 0 {
		size = RevenueChunkAccounts
	}
	return c.cfg.RevenuePulls.CreatePull(ctx, kind, from, to, by, size, func(ctx context.Context, tx pgx.Tx, pullID int64, chunks []int) error {
		params := make([]river.InsertManyParams, len(chunks))
		for i, n := range chunks {
			params[i] = river.InsertManyParams{Args: RevenueChunkArgs{PullID: pullID, Chunk: n}}
		}
		if _, err := c.River.InsertManyFastTx(ctx, tx, params); err != nil {
			return fmt.Errorf("queue revenue chunks: %w", err)
		}
		return nil
	})
}

// InsertOpts puts chunks on the revenue queue.
func (RevenueChunkArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueRevenue, MaxAttempts: revenueChunkAttempts}
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
