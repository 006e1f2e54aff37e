package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
)

// revenueWorker is a worker "process" that pulls ad data, with its own
// pool, revenue service and queue client; wrap replaces its collector.
func (e *env) revenueWorker(id string, rate float64, chunk, conc int, wrap func(jobs.RevenueCollector) jobs.RevenueCollector) (*jobs.Client, *postgres.RevenueStore) {
	pool := e.openPool()
	store := &postgres.RevenueStore{Pool: pool, ComponentAppID: componentAppID}
	tokens := e.revTokens
	if tokens == nil {
		tokens = &wechatsim.Tokens{Sim: e.sim, Client: e.wc}
	}
	var col jobs.RevenueCollector = &revenue.Service{Store: store, WeChat: e.wc, Tokens: tokens,
		ComponentAppID: componentAppID, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if wrap != nil {
		col = wrap(col)
	}
	c := e.worker(rate, 2, func(cfg *jobs.Config) {
		cfg.ID = id
		cfg.RevenuePulls, cfg.Revenue = store, col
		cfg.RevenueChunkAccounts, cfg.RevenueConcurrency = chunk, conc
	})
	return c, store
}

// openRevenue opens every account's traffic master 60 days ago, so each has
// ad data, and returns a closed range of final figures (WeChat revises
// yesterday's until noon in Beijing).
func (e *env) openRevenue() (from, to time.Time) {
	for _, id := range e.apps {
		e.sim.MarkOpened(id, time.Now().AddDate(0, 0, -60))
	}
	to = revenue.Day(time.Now()).AddDate(0, 0, -2)
	return to.AddDate(0, 0, -9), to
}

func waitPull(t testing.TB, s *postgres.RevenueStore, id int64, within time.Duration) revenue.Pull {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		p, err := s.Pull(context.Background(), id)
		require.NoError(t, err)
		if p.State == "done" || p.State == "failed" {
			return p
		}
		require.True(t, time.Now().Before(deadline), "pull %d still %s: %d of %d accounts", id, p.State, p.AccountsDone, p.AccountsTotal)
		time.Sleep(50 * time.Millisecond)
	}
}

// checkRevenue compares what is stored for [from, to] with the simulator's
// own sums, to the fen: the provider's totals, every account's, every
// slot's rollup; and the pull's rows are the rows stored, none counted twice.
func (e *env) checkRevenue(t *testing.T, s *postgres.RevenueStore, p revenue.Pull, from, to time.Time) {
	t.Helper()
	ctx := context.Background()
	start, end := from.Format(time.DateOnly), to.Format(time.DateOnly)
	want := e.sim.ProviderTotals(start, end, "")
	require.Positive(t, want.Income)
	got, err := s.ProviderTotals(ctx, from, to)
	require.NoError(t, err)
	require.Equal(t, revenue.Figures{ReqSucc: want.ReqSucc, Exposure: want.Exposure, Clicks: want.Clicks,
		Income: wechat.Fen(want.Income), PublisherIncome: wechat.Fen(want.PublisherIncome), AgencyIncome: wechat.Fen(want.AgencyIncome)}, got)

	top, err := s.TopAccounts(ctx, from, to, len(e.apps))
	require.NoError(t, err)
	stored := map[string]int64{}
	for _, a := range top {
		stored[a.AppID] = int64(a.Income)
	}
	for _, id := range e.apps {
		require.Equal(t, e.sim.SlotTotals(id, start, end, "").PublisherIncome, stored[id], id)
	}
	slots, err := s.SlotDays(ctx, from, to)
	require.NoError(t, err)
	perSlot := map[string]int64{}
	for _, d := range slots {
		perSlot[d.Slot] += int64(d.Income)
	}
	for slot, fen := range perSlot {
		require.Equal(t, e.sim.ProviderTotals(start, end, slot).PublisherIncome, fen, slot)
	}

	// A pull's rows are every row it stored: per slot, the provider's days and per ad unit.
	var slotRows, providerRows, unitRows int64
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM revenue_slot_daily WHERE day BETWEEN $1::date AND $2::date),
		(SELECT count(*) FROM revenue_provider_daily WHERE day BETWEEN $1::date AND $2::date),
		(SELECT count(*) FROM revenue_unit_daily WHERE day BETWEEN $1::date AND $2::date)`, start, end).Scan(&slotRows, &providerRows, &unitRows))
	require.Positive(t, unitRows, "the ad units' days are pulled too")
	require.Equal(t, slotRows+providerRows+unitRows, p.Rows, "rows counted once each")
	require.Equal(t, len(e.apps), p.AccountsTotal)
	require.Equal(t, p.AccountsTotal, p.AccountsDone)
}

// barrier holds each worker's first chunk until every worker has started
// one, so the test knows the chunks were shared rather than hopes so.
type barrier struct {
	jobs.RevenueCollector
	mine  chan struct{}
	once  *sync.Once
	other chan struct{}
}

func (b *barrier) CollectAccount(ctx context.Context, appID string, from, to time.Time, pace func(context.Context) error) (revenue.AccountOutcome, error) {
	b.once.Do(func() { close(b.mine) })
	select {
	case <-b.other:
	case <-ctx.Done():
		return revenue.AccountOutcome{}, ctx.Err()
	}
	return b.RevenueCollector.CollectAccount(ctx, appID, from, to, pace)
}

// One recorded pull fans out into chunks that two worker processes share;
// together they store exactly the simulator's figures, and the pull ends
// once, done, with its progress the sum of its chunks.
func TestRevenuePullChunksSharedByTwoWorkers(t *testing.T) {
	t.Parallel()
	e := setup(t, 40)
	from, to := e.openRevenue()
	aStarted, bStarted := make(chan struct{}), make(chan struct{})
	a, store := e.revenueWorker("worker-a", 500, 6, 1, func(c jobs.RevenueCollector) jobs.RevenueCollector {
		return &barrier{RevenueCollector: c, mine: aStarted, once: new(sync.Once), other: bStarted}
	})
	b, _ := e.revenueWorker("worker-b", 500, 6, 1, func(c jobs.RevenueCollector) jobs.RevenueCollector {
		return &barrier{RevenueCollector: c, mine: bStarted, once: new(sync.Once), other: aStarted}
	})
	id, err := a.StartRevenuePull(context.Background(), "backfill", from, to, nil)
	require.NoError(t, err)
	var chunks int
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'revenue_pull_chunk' AND (args->>'pull_id')::bigint = $1`, id).Scan(&chunks))
	require.Equal(t, 1+7, chunks, "the provider's chunk and 40 accounts in chunks of 6, queued with the pull")
	e.start(a)
	e.start(b)
	p := waitPull(t, store, id, 2*time.Minute)
	require.Equal(t, "done", p.State, p.LastError)
	e.checkRevenue(t, store, p, from, to)

	rows, err := e.pool.Query(context.Background(), `SELECT DISTINCT attempted_by[array_upper(attempted_by, 1)] FROM river_job WHERE kind = 'revenue_pull_chunk' AND (args->>'pull_id')::bigint = $1`, id)
	require.NoError(t, err)
	var by []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		by = append(by, s)
	}
	require.NoError(t, rows.Err())
	require.ElementsMatch(t, []string{"worker-a", "worker-b"}, by)
	var finishes int
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'revenue_pull' AND (args->>'pull_id')::bigint = $1`, id).Scan(&finishes))
	require.Equal(t, 1, finishes, "the last chunk queues the finish once")
}

// hang stores accounts as usual, then, after its nth, never returns: a
// process that died between storing an account and recording its chunk's
// progress.
type hang struct {
	jobs.RevenueCollector
	n       atomic.Int32
	after   int32
	hung    chan struct{}
	release chan struct{}
}

func (h *hang) CollectAccount(ctx context.Context, appID string, from, to time.Time, pace func(context.Context) error) (revenue.AccountOutcome, error) {
	out, err := h.RevenueCollector.CollectAccount(ctx, appID, from, to, pace)
	if h.n.Add(1) == h.after {
		close(h.hung)
		<-h.release
		return out, errors.New("the process is gone")
	}
	return out, err
}

// A chunk whose process dies mid-way is handed to a live worker, which runs
// it again from its last checkpoint: the accounts it repeats replace what
// they stored, so the totals and the pull's rows are exactly the
// simulator's, and the dead job's late return changes nothing.
func TestRevenueChunkKilledMidwayIsRerunToTheSameTotals(t *testing.T) {
	t.Parallel()
	e := setup(t, 30)
	from, to := e.openRevenue()
	ctx := context.Background()
	dead, err := postgres.StartLiveness(ctx, e.pool, "dying-worker", time.Second, nil)
	require.NoError(t, err)
	h := &hang{after: 5, hung: make(chan struct{}), release: make(chan struct{})}
	a, store := e.revenueWorker("dying-worker", 500, 10, 1, func(c jobs.RevenueCollector) jobs.RevenueCollector {
		h.RevenueCollector = c
		return h
	})
	id, err := a.StartRevenuePull(ctx, "backfill", from, to, nil)
	require.NoError(t, err)
	e.start(a)
	<-h.hung
	t.Cleanup(func() { close(h.release) })
	dead.Kill()

	b, _ := e.revenueWorker("live-worker", 500, 10, 2, nil)
	e.start(b)
	recov := &postgres.TrafficStore{Pool: e.pool, HandOverJobKinds: []string{jobs.RevenueChunkArgs{}.Kind(), jobs.RevenuePullArgs{}.Kind()}}
	require.Eventually(t, func() bool {
		r, err := recov.Recover(ctx, "live-worker")
		require.NoError(t, err)
		return r.Jobs == 1
	}, 30*time.Second, 50*time.Millisecond)
	p := waitPull(t, store, id, 2*time.Minute)
	require.Equal(t, "done", p.State, p.LastError)
	e.checkRevenue(t, store, p, from, to)
}

// An account whose figures were stored before WeChat asked to retry its
// settlement is pulled again in the next pass; its rows count once.
func TestRevenueRetriedAccountCountsItsRowsOnce(t *testing.T) {
	t.Parallel()
	e := setup(t, 12)
	from, to := e.openRevenue()
	for _, id := range e.apps[:3] {
		e.sim.Script(id, wechat.ActionGetSettlement, wechatsim.Behavior{Ret: -202, Times: 1})
	}
	a, store := e.revenueWorker("worker", 500, 5, 2, nil)
	id, err := a.StartRevenuePull(context.Background(), "backfill", from, to, nil)
	require.NoError(t, err)
	e.start(a)
	p := waitPull(t, store, id, 2*time.Minute)
	require.Equal(t, "done", p.State, p.LastError)
	require.Equal(t, 3, p.Errors)
	e.checkRevenue(t, store, p, from, to)
}
