package jobs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const componentAppID = "wxtestcomponent0001"

// env is one database and one simulator shared by the "processes" of a test.
type env struct {
	t     testing.TB
	dsn   string
	sim   *wechatsim.Sim
	wc    *wechat.Client
	pool  *pgxpool.Pool
	staff *core.Staff
	apps  []string
}

func setup(t testing.TB, accounts int) *env {
	t.Helper()
	dsn := pgtest.URL(t)
	sim, err := wechatsim.New(wechatsim.Config{ComponentAppID: componentAppID, ComponentAppSecret: "secret", Token: "tok", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"})
	require.NoError(t, err)
	require.NoError(t, sim.PushTicket(context.Background()))
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	e := &env{t: t, dsn: dsn, sim: sim, wc: wechat.NewClient(wechat.Config{BaseURL: srv.URL, ComponentAppID: componentAppID, ComponentAppSecret: "secret"})}
	e.pool = e.openPool()
	ctx := context.Background()
	_, err = e.pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ($1)`, componentAppID)
	require.NoError(t, err)
	for i := range accounts {
		id := fmt.Sprintf("wx%016x", 0xbeef00000000+i)
		e.apps = append(e.apps, id)
		sim.AddAuthorizer(wechatsim.Authorizer{AppID: id, NickName: "Mini " + id, MiniProgram: true, AccountStatus: 1})
	}
	_, err = e.pool.Exec(ctx, `INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name) SELECT x, $2, true, 'Mini ' || x FROM unnest($1::text[]) x`, e.apps, componentAppID)
	require.NoError(t, err)
	require.NoError(t, e.pool.QueryRow(ctx, `INSERT INTO staff (username, password_hash, role) VALUES ('op', 'x', 'operator') RETURNING id, username, role`).Scan(new(int64), new(string), new(string)))
	e.staff = &core.Staff{ID: 1, Username: "op", Role: core.RoleOperator}
	return e
}

func (e *env) openPool() *pgxpool.Pool {
	p, err := postgres.Open(context.Background(), e.dsn)
	require.NoError(e.t, err)
	e.t.Cleanup(p.Close)
	return p
}

// worker is one worker "process": its own pool and queue client.
func (e *env) worker(rate float64, conc int, mod ...func(*jobs.Config)) *jobs.Client {
	pool := e.openPool()
	cfg := jobs.Config{Pool: pool, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Attempter: &simAttempter{e: e, pool: pool}, RatePerSecond: rate, Concurrency: conc,
		Backoff: func(int, core.Outcome) time.Duration { return 50 * time.Millisecond }, FetchPoll: 50 * time.Millisecond}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := jobs.New(cfg)
	require.NoError(e.t, err)
	return c
}

func (e *env) start(c *jobs.Client) {
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(e.t, c.Start(ctx))
	e.t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = c.Stop(sctx)
		cancel()
	})
}

func (e *env) waitRun(c *jobs.Client, id int64, until func(*jobs.Run) bool, within time.Duration) *jobs.Run {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		r, err := c.Runs.Get(context.Background(), id)
		require.NoError(e.t, err)
		if until(r) {
			return r
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("run %d: condition not reached within %s: status %s states %v outcomes %v", id, within, r.Status, r.States, r.Outcomes)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func finished(r *jobs.Run) bool { return r.Status == jobs.RunFinished }

// callsPerApp counts operationams calls per account at the simulator.
func (e *env) callsPerApp() map[string]int {
	n := map[string]int{}
	for _, c := range e.sim.CallLog() {
		n[c.AppID]++
	}
	return n
}

// simAttempter stands in for the traffic service with the same audit
// protocol: a pending row committed before the call, completed after it.
type simAttempter struct {
	e    *env
	pool *pgxpool.Pool
	mu   sync.Mutex
	comp string
	toks map[string]string
}

func (a *simAttempter) token(ctx context.Context, appID string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.toks == nil {
		a.toks = map[string]string{}
	}
	if t, ok := a.toks[appID]; ok {
		return t, nil
	}
	if a.comp == "" {
		ct, err := a.e.wc.ComponentToken(ctx, a.e.sim.CurrentTicket())
		if err != nil {
			return "", err
		}
		a.comp = ct.Value
	}
	au, _ := a.e.sim.Authorizer(appID)
	at, err := a.e.wc.AuthorizerToken(ctx, a.comp, appID, au.RefreshToken)
	if err != nil {
		return "", err
	}
	a.toks[appID] = at.AccessToken
	return at.AccessToken, nil
}

func (a *simAttempter) Attempt(ctx context.Context, req core.AttemptRequest) (*core.Attempt, error) {
	at := &core.Attempt{AppID: req.AppID, Action: req.Action, RunID: req.RunID, Status: core.AttemptCompleted}
	var staffID *int64
	if req.Staff != nil {
		staffID = &req.Staff.ID
	}
	tok, err := a.token(ctx, req.AppID)
	if err != nil {
		return nil, err
	}
	if err := a.pool.QueryRow(ctx, `INSERT INTO attempts (appid, action, staff_id, run_id, status) VALUES ($1, $2, $3, $4, 'pending') RETURNING id`,
		req.AppID, req.Action, staffID, req.RunID).Scan(&at.ID); err != nil {
		return nil, err
	}
	ctx = context.WithoutCancel(ctx)
	_, err = a.e.wc.CreatePublisher(ctx, tok)
	at.Outcome = core.OutcomeSuccess
	if we, ok := err.(*wechat.Error); ok {
		code := we.Code
		at.Code = &code
		at.Outcome = core.OutcomeFailed
		switch code {
		case 1737:
			at.Outcome = core.OutcomeRateLimited
		case -202, -1:
			at.Outcome = core.OutcomeRetryable
		}
	} else if err != nil {
		at.Outcome = core.OutcomeUnknown
	}
	_, err = a.pool.Exec(ctx, `UPDATE attempts SET status = 'completed', outcome = $2, code = $3, finished_at = now() WHERE id = $1`, at.ID, at.Outcome, at.Code)
	return at, err
}

func TestTenThousandAccountsTwoWorkersExactlyOnce(t *testing.T) {
	t.Parallel()
	e := setup(t, 10000)
	a, b := e.worker(2000, 16), e.worker(2000, 16)
	run, err := a.Runs.Create(context.Background(), e.staff, core.ActionOpen, e.apps, "test")
	require.NoError(t, err)
	require.Equal(t, 10000, run.Total)
	e.start(a)
	e.start(b)
	r := e.waitRun(a, run.ID, finished, 3*time.Minute)
	require.Equal(t, 10000, r.States[jobs.ItemDone])
	require.Equal(t, 10000, r.Outcomes[string(core.OutcomeSuccess)])

	calls := e.callsPerApp()
	require.Len(t, calls, 10000)
	for id, n := range calls {
		require.Equal(t, 1, n, id)
	}
	var attempts, distinct, wrong int
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT appid), count(*) FILTER (WHERE staff_id IS DISTINCT FROM 1 OR run_id IS DISTINCT FROM $1) FROM attempts`, run.ID).Scan(&attempts, &distinct, &wrong))
	require.Equal(t, 10000, attempts)
	require.Equal(t, 10000, distinct)
	require.Zero(t, wrong)
}

func TestGlobalRateHoldsAcrossWorkers(t *testing.T) {
	t.Parallel()
	const rate = 50
	e := setup(t, 150)
	a, b := e.worker(rate, 8), e.worker(rate, 8)
	run, err := a.Runs.Create(context.Background(), e.staff, core.ActionOpen, e.apps, "")
	require.NoError(t, err)
	e.start(a)
	e.start(b)
	e.waitRun(a, run.ID, finished, time.Minute)
	log := e.sim.CallLog()
	require.Len(t, log, 150)
	// Slots are spaced 1/rate apart on the database's clock; arrivals jitter
	// by scheduling, so allow a small burst over any one-second window.
	for i := range log {
		n := 0
		for j := i; j < len(log) && log[j].At.Sub(log[i].At) < time.Second; j++ {
			n++
		}
		require.LessOrEqual(t, n, rate+3, "calls in the second after call %d", i)
	}
}

func TestRetriesBackOffBounded(t *testing.T) {
	t.Parallel()
	e := setup(t, 4)
	e.sim.Script(e.apps[0], "agency_create_publisher", wechatsim.Behavior{Ret: 1737, Times: 2})
	e.sim.Script(e.apps[1], "agency_create_publisher", wechatsim.Behavior{Ret: -202, Times: 1})
	e.sim.Script(e.apps[2], "agency_create_publisher", wechatsim.Behavior{Ret: -1})
	c := e.worker(1000, 4, func(cfg *jobs.Config) { cfg.MaxTries = 3 })
	run, err := c.Runs.Create(context.Background(), e.staff, core.ActionOpen, e.apps, "")
	require.NoError(t, err)
	e.start(c)
	r := e.waitRun(c, run.ID, finished, time.Minute)
	calls := e.callsPerApp()
	require.Equal(t, 3, calls[e.apps[0]])
	require.Equal(t, 2, calls[e.apps[1]])
	require.Equal(t, 3, calls[e.apps[2]], "bounded by MaxTries")
	require.Equal(t, 1, calls[e.apps[3]])
	require.Equal(t, 3, r.Outcomes[string(core.OutcomeSuccess)])
	require.Equal(t, 1, r.Outcomes[string(core.OutcomeRetryable)])
}

func TestCancelStopsNewCallsPromptly(t *testing.T) {
	t.Parallel()
	e := setup(t, 400)
	c := e.worker(100, 4)
	run, err := c.Runs.Create(context.Background(), e.staff, core.ActionOpen, e.apps, "")
	require.NoError(t, err)
	e.start(c)
	e.waitRun(c, run.ID, func(r *jobs.Run) bool { return r.States[jobs.ItemDone] >= 20 }, time.Minute)
	require.NoError(t, c.Runs.Cancel(context.Background(), run.ID))
	atCancel := len(e.sim.CallLog())
	r := e.waitRun(c, run.ID, func(r *jobs.Run) bool { return r.States[jobs.ItemCalling] == 0 }, 30*time.Second)
	require.Equal(t, jobs.RunCancelled, r.Status)
	// Calls already claimed may land; nothing new starts after the cancel.
	require.LessOrEqual(t, len(e.sim.CallLog()), atCancel+4)
	require.Positive(t, r.States[jobs.ItemCancelled])
	require.Equal(t, 400, r.Done())
	require.Error(t, c.Runs.Resume(context.Background(), run.ID))
}

func TestPauseAndResume(t *testing.T) {
	t.Parallel()
	e := setup(t, 200)
	c := e.worker(200, 4)
	run, err := c.Runs.Create(context.Background(), e.staff, core.ActionCheck, e.apps, "")
	require.NoError(t, err)
	e.start(c)
	e.waitRun(c, run.ID, func(r *jobs.Run) bool { return r.States[jobs.ItemDone] >= 10 }, time.Minute)
	require.NoError(t, c.Runs.Pause(context.Background(), run.ID))
	r := e.waitRun(c, run.ID, func(r *jobs.Run) bool { return r.States[jobs.ItemCalling] == 0 }, 30*time.Second)
	require.Equal(t, jobs.RunPaused, r.Status)
	paused := len(e.sim.CallLog())
	require.Less(t, paused, 200)
	require.NoError(t, c.Runs.Resume(context.Background(), run.ID))
	e.waitRun(c, run.ID, finished, time.Minute)
	calls := e.callsPerApp()
	require.Len(t, calls, 200)
	for id, n := range calls {
		require.Equal(t, 1, n, id)
	}
}

func TestRunSurvivesHardStopOfEveryWorker(t *testing.T) {
	t.Parallel()
	e := setup(t, 600)
	a := e.worker(300, 8)
	run, err := a.Runs.Create(context.Background(), e.staff, core.ActionOpen, e.apps, "")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, a.Start(ctx))
	e.waitRun(a, run.ID, func(r *jobs.Run) bool { return r.States[jobs.ItemDone] >= 50 }, time.Minute)
	// The hard stop cancels jobs mid-wait and mid-call, as a killed process would.
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	require.NoError(t, a.River.StopAndCancel(sctx))
	scancel()
	cancel()
	r, err := a.Runs.Get(context.Background(), run.ID)
	require.NoError(t, err)
	require.Equal(t, jobs.RunRunning, r.Status)

	b := e.worker(300, 8)
	e.start(b)
	e.waitRun(b, run.ID, finished, 2*time.Minute)
	calls := e.callsPerApp()
	require.Len(t, calls, 600)
	for id, n := range calls {
		require.Equal(t, 1, n, id)
	}
}

func TestCreateSkipsOpenAndInFlight(t *testing.T) {
	t.Parallel()
	e := setup(t, 3)
	ctx := context.Background()
	_, err := e.pool.Exec(ctx, `UPDATE authorizer_state SET state = 'open' WHERE appid = $1`, e.apps[0])
	require.NoError(t, err)
	_, err = e.pool.Exec(ctx, `INSERT INTO attempts (appid, action, status) VALUES ($1, 'open', 'pending')`, e.apps[1])
	require.NoError(t, err)
	c := e.worker(1000, 2)
	run, err := c.Runs.Create(ctx, e.staff, core.ActionOpen, append(e.apps, e.apps[2], "wxunknown000000000"), "")
	require.NoError(t, err)
	require.Equal(t, 3, run.Total)
	require.Equal(t, 2, run.States[jobs.ItemSkipped])
	e.start(c)
	e.waitRun(c, run.ID, finished, time.Minute)
	require.Equal(t, map[string]int{e.apps[2]: 1}, e.callsPerApp())

	viewer := &core.Staff{ID: 1, Username: "v", Role: core.RoleViewer}
	_, err = c.Runs.Create(ctx, viewer, core.ActionOpen, e.apps, "")
	require.Equal(t, core.EFORBIDDEN, core.ErrorCode(err))
}
