package jobs_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
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
	// die releases each worker's instance lock, in the order the workers
	// were made, as the death of its process would.
	mu  sync.Mutex
	die []func()
	// revTokens, when set, is the token source of revenue workers.
	revTokens *wechatsim.Tokens
	simURL    string
}

func setup(t testing.TB, accounts int) *env {
	t.Helper()
	dsn := pgtest.URL(t)
	sim, err := wechatsim.New(wechatsim.Config{ComponentAppID: componentAppID, ComponentAppSecret: "secret", Token: "tok", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"})
	require.NoError(t, err)
	require.NoError(t, sim.PushTicket(context.Background()))
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	e := &env{t: t, dsn: dsn, sim: sim, simURL: srv.URL, wc: wechat.NewClient(wechat.Config{BaseURL: srv.URL, ComponentAppID: componentAppID, ComponentAppSecret: "secret"})}
	e.pool = e.openPool()
	ctx := context.Background()
	_, err = e.pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ($1)`, componentAppID)
	require.NoError(t, err)
	for i := range accounts {
		id := fmt.Sprintf("wx%016x", 0xbeef00000000+i)
		e.apps = append(e.apps, id)
		sim.AddAuthorizer(wechatsim.Authorizer{AppID: id, NickName: "Mini " + id, MiniProgram: true, AccountStatus: 1})
	}
	// Through a pool without the console's statement timeout, as data is
	// generated: each row's search grams cost about 0.2 ms on a quiet machine,
	// and ten times that when the machine is busy (benchmarks take 100,000).
	load, err := postgres.Untimed(ctx, e.pool)
	require.NoError(t, err)
	defer load.Close()
	for i := 0; i < len(e.apps); i += 5000 {
		_, err = load.Exec(ctx, `INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name) SELECT x, $2, true, 'Mini ' || x FROM unnest($1::text[]) x`, e.apps[i:min(i+5000, len(e.apps))], componentAppID)
		require.NoError(t, err)
	}
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
	cfg := jobs.Config{Pool: pool, Store: &postgres.RunStore{Pool: pool}, Slots: &postgres.RateSlots{Pool: pool}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Attempter: e.attempter(pool), RatePerSecond: rate, Concurrency: conc,
		Backoff: func(int, traffic.Outcome) time.Duration { return 50 * time.Millisecond }, FetchPoll: 50 * time.Millisecond}
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

// attempter is the real traffic service of one worker "process", holding its
// own instance lock as the console does.
func (e *env) attempter(pool *pgxpool.Pool) traffic.Attempter {
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	release, err := postgres.HoldInstanceLock(context.Background(), pool, id)
	require.NoError(e.t, err)
	e.t.Cleanup(release)
	e.mu.Lock()
	e.die = append(e.die, release)
	e.mu.Unlock()
	return &traffic.Service{Store: &postgres.TrafficStore{Pool: pool}, WeChat: e.wc, Tokens: &wechatsim.Tokens{Sim: e.sim, Client: e.wc}, InstanceID: id,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func TestTenThousandAccountsTwoWorkersExactlyOnce(t *testing.T) {
	t.Parallel()
	e := setup(t, 10000)
	a, b := e.worker(2000, 16), e.worker(2000, 16)
	run, err := a.Runs.Create(context.Background(), e.staff, traffic.ActionOpen, e.apps, "test")
	require.NoError(t, err)
	require.Equal(t, 10000, run.Total)
	e.start(a)
	e.start(b)
	// A bound for a stalled run, not a speed claim: under -race on a loaded
	// machine 10,000 audited calls take minutes.
	r := e.waitRun(a, run.ID, finished, 10*time.Minute)
	require.Equal(t, 10000, r.States[traffic.ItemDone])
	require.Equal(t, 10000, r.Outcomes[string(traffic.OutcomeSuccess)])

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

// TestEveryCallTakesARateSlot checks what the limiter promises, on the
// database's clock where it keeps it: every WeChat call of a run, retries
// and the second call after a token refresh included, takes one slot right
// before it is sent, and no two slots of any worker are closer than 1/rate.
// (When a call then reaches WeChat depends on the machine's load; the
// slots do not.)
func TestEveryCallTakesARateSlot(t *testing.T) {
	t.Parallel()
	const rate = 50
	e := setup(t, 150)
	e.sim.Script(e.apps[0], wechatsim.ActionCreate, wechatsim.Behavior{Ret: 1737, Times: 2})
	e.sim.Script(e.apps[1], wechatsim.ActionCreate, wechatsim.Behavior{Ret: 40001, Shape: "errcode", Times: 1})
	a, b := e.worker(rate, 8), e.worker(rate, 8)
	var mu sync.Mutex
	var slots []time.Time
	for _, c := range []*jobs.Client{a, b} {
		c.Limiter.OnReserve = func(slot time.Time) {
			mu.Lock()
			slots = append(slots, slot)
			mu.Unlock()
		}
	}
	run, err := a.Runs.Create(context.Background(), e.staff, traffic.ActionOpen, e.apps, "")
	require.NoError(t, err)
	e.start(a)
	e.start(b)
	r := e.waitRun(a, run.ID, finished, time.Minute)
	require.Equal(t, 150, r.Outcomes[string(traffic.OutcomeSuccess)])
	// Two retries after 1737, a call again after the token refresh, and
	// maybe more of those: the test's workers keep their tokens apart, so a
	// retry on the other worker can find its token replaced.
	calls := len(e.sim.CallLog())
	require.GreaterOrEqual(t, calls, 150+2+1)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, calls, len(slots), "every call took one slot")
	sort.Slice(slots, func(i, j int) bool { return slots[i].Before(slots[j]) })
	interval := time.Second / rate
	for i := 1; i < len(slots); i++ {
		require.GreaterOrEqual(t, slots[i].Sub(slots[i-1]), interval-time.Microsecond, "slots %d and %d", i-1, i)
	}
	for i := range slots {
		n := 0
		for j := i; j < len(slots) && slots[j].Sub(slots[i]) < time.Second; j++ {
			n++
		}
		require.LessOrEqual(t, n, rate, "slots in the second from slot %d", i)
	}
}

// TestRefusedConnectionsAreNotSentAndRetried: WeChat refuses connections
// for a while at the start of a run. Nothing was sent, so the attempts say
// not_sent and the run retries them with its backoff; once WeChat is back
// every account is opened, each with one call.
func TestRefusedConnectionsAreNotSentAndRetried(t *testing.T) {
	t.Parallel()
	e := setup(t, 20)
	sw, err := wechatsim.NewOutage(e.sim.Handler())
	require.NoError(t, err)
	t.Cleanup(sw.Down)
	e.wc = wechat.NewClient(wechat.Config{BaseURL: sw.URL, ComponentAppID: componentAppID, ComponentAppSecret: "secret"})
	sw.Down()
	c := e.worker(1000, 4, func(cfg *jobs.Config) {
		cfg.MaxTries = 20
		cfg.Backoff = func(int, traffic.Outcome) time.Duration { return 200 * time.Millisecond }
	})
	run, err := c.Runs.Create(context.Background(), e.staff, traffic.ActionOpen, e.apps, "")
	require.NoError(t, err)
	e.start(c)
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT count(*) FROM attempts WHERE outcome = 'not_sent'`).Scan(&n))
		return n >= 4
	}, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, sw.Up())
	r := e.waitRun(c, run.ID, finished, time.Minute)
	require.Equal(t, 20, r.Outcomes[string(traffic.OutcomeSuccess)], "outcomes %v", r.Outcomes)
	for _, id := range e.apps {
		require.Equal(t, 1, e.callsPerApp()[id], id)
	}
	var states []string
	rows, err := e.pool.Query(context.Background(), `SELECT DISTINCT state FROM authorizer_state WHERE appid = ANY($1)`, e.apps)
	require.NoError(t, err)
	states, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"open"}, states)
}

// TestPlatformWideErrorPausesTheRun: WeChat says the platform lacks the
// permission (48001). Every other account would fail the same way, so the
// run pauses itself, says why, and puts the accounts back; resumed after the
// fix, it opens them.
func TestPlatformWideErrorPausesTheRun(t *testing.T) {
	t.Parallel()
	e := setup(t, 40)
	for _, id := range e.apps {
		e.sim.Script(id, wechatsim.ActionCreate, wechatsim.Behavior{Ret: 48001, Shape: "errcode"})
	}
	c := e.worker(1000, 2)
	run, err := c.Runs.Create(context.Background(), e.staff, traffic.ActionOpen, e.apps, "")
	require.NoError(t, err)
	e.start(c)
	r := e.waitRun(c, run.ID, func(r *jobs.Run) bool { return r.Status == jobs.RunPaused && r.States[traffic.ItemCalling] == 0 }, time.Minute)
	require.NotNil(t, r.PauseCode)
	require.Equal(t, 48001, *r.PauseCode)
	require.NotEmpty(t, r.PauseMessage)
	require.LessOrEqual(t, len(e.sim.CallLog()), 4, "the run stops at the first answers, not after every account")
	require.Equal(t, 40, r.States[traffic.ItemPending], "the accounts are called again on resume")

	for _, id := range e.apps {
		e.sim.Script(id, wechatsim.ActionCreate, wechatsim.Behavior{})
	}
	require.NoError(t, c.Runs.Resume(context.Background(), run.ID))
	r = e.waitRun(c, run.ID, finished, time.Minute)
	require.Nil(t, r.PauseCode)
	require.Equal(t, 40, r.Outcomes[string(traffic.OutcomeSuccess)])
}

// TestDeadProcessJobsAreHandedOverAtOnce: a process died while its job was
// running (the queue still says running, its lease has run out). Recovery
// hands the job to a live instance at once rather than after the queue's
// five-minute rescue, and the account is called once.
func TestDeadProcessJobsAreHandedOverAtOnce(t *testing.T) {
	t.Parallel()
	e := setup(t, 3)
	ctx := context.Background()
	c := e.worker(1000, 2)
	dead, err := postgres.StartLiveness(ctx, e.pool, "dead-instance", time.Second, nil)
	require.NoError(t, err)
	run, err := c.Runs.Create(ctx, e.staff, traffic.ActionOpen, e.apps, "")
	require.NoError(t, err)
	// The dead process had fetched one job and claimed its account.
	var jobID int64
	require.NoError(t, e.pool.QueryRow(ctx, `
		UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now(), attempted_by = '{dead-instance}'
		WHERE id = (SELECT id FROM river_job WHERE kind = 'run_item' AND args->>'appid' = $1) RETURNING id`, e.apps[0]).Scan(&jobID))
	_, err = e.pool.Exec(ctx, `UPDATE run_items SET state = 'calling', claimed_job = $2 WHERE run_id = $1 AND appid = $3`, run.ID, jobID, e.apps[0])
	require.NoError(t, err)
	dead.Kill()

	e.start(c)
	store := &postgres.TrafficStore{Pool: e.pool, HandOverJobKinds: []string{jobs.RunItemArgs{}.Kind()}}
	require.Eventually(t, func() bool {
		r, err := store.Recover(ctx, "live-instance")
		require.NoError(t, err)
		return r.Jobs == 1
	}, 30*time.Second, 50*time.Millisecond)
	r := e.waitRun(c, run.ID, finished, 30*time.Second)
	require.Equal(t, 3, r.Outcomes[string(traffic.OutcomeSuccess)])
	require.Equal(t, map[string]int{e.apps[0]: 1, e.apps[1]: 1, e.apps[2]: 1}, e.callsPerApp())
}

func TestRetriesBackOffBounded(t *testing.T) {
	t.Parallel()
	e := setup(t, 4)
	e.sim.Script(e.apps[0], "agency_create_publisher", wechatsim.Behavior{Ret: 1737, Times: 2})
	e.sim.Script(e.apps[1], "agency_create_publisher", wechatsim.Behavior{Ret: -202, Times: 1})
	e.sim.Script(e.apps[2], "agency_create_publisher", wechatsim.Behavior{Ret: -1})
	c := e.worker(1000, 4, func(cfg *jobs.Config) { cfg.MaxTries = 3 })
	run, err := c.Runs.Create(context.Background(), e.staff, traffic.ActionOpen, e.apps, "")
	require.NoError(t, err)
	e.start(c)
	r := e.waitRun(c, run.ID, finished, time.Minute)
	calls := e.callsPerApp()
	require.Equal(t, 3, calls[e.apps[0]])
	require.Equal(t, 2, calls[e.apps[1]])
	require.Equal(t, 3, calls[e.apps[2]], "bounded by MaxTries")
	require.Equal(t, 1, calls[e.apps[3]])
	require.Equal(t, 3, r.Outcomes[string(traffic.OutcomeSuccess)])
	require.Equal(t, 1, r.Outcomes[string(traffic.OutcomeRetryable)])
}

func TestCancelStopsNewCallsPromptly(t *testing.T) {
	t.Parallel()
	e := setup(t, 400)
	c := e.worker(100, 4)
	run, err := c.Runs.Create(context.Background(), e.staff, traffic.ActionOpen, e.apps, "")
	require.NoError(t, err)
	e.start(c)
	e.waitRun(c, run.ID, func(r *jobs.Run) bool { return r.States[traffic.ItemDone] >= 20 }, time.Minute)
	require.NoError(t, c.Runs.Cancel(context.Background(), run.ID))
	atCancel := len(e.sim.CallLog())
	r := e.waitRun(c, run.ID, func(r *jobs.Run) bool { return r.States[traffic.ItemCalling] == 0 }, 30*time.Second)
	require.Equal(t, jobs.RunCancelled, r.Status)
	// Calls already claimed may land; nothing new starts after the cancel.
	require.LessOrEqual(t, len(e.sim.CallLog()), atCancel+4)
	require.Positive(t, r.States[traffic.ItemCancelled])
	require.Equal(t, 400, r.Done())
	require.Error(t, c.Runs.Resume(context.Background(), run.ID))
}

func TestPauseAndResume(t *testing.T) {
	t.Parallel()
	e := setup(t, 200)
	c := e.worker(200, 4)
	run, err := c.Runs.Create(context.Background(), e.staff, traffic.ActionCheck, e.apps, "")
	require.NoError(t, err)
	// Every call is held at WeChat until the run is paused, so the pause
	// always meets a run with work left, however slow the machine.
	gate := e.sim.Hold("", "agency_check_can_open_publisher")
	t.Cleanup(gate.Release)
	e.start(c)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, gate.WaitArrived(ctx, 1))
	require.NoError(t, c.Runs.Pause(context.Background(), run.ID))
	gate.Release()
	r := e.waitRun(c, run.ID, func(r *jobs.Run) bool { return r.States[traffic.ItemCalling] == 0 }, 30*time.Second)
	require.Equal(t, jobs.RunPaused, r.Status)
	paused := len(e.sim.CallLog())
	require.Less(t, paused, 200)
	require.Positive(t, r.States[traffic.ItemPending], "the paused run has accounts left")
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
	run, err := a.Runs.Create(context.Background(), e.staff, traffic.ActionOpen, e.apps, "")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, a.Start(ctx))
	e.waitRun(a, run.ID, func(r *jobs.Run) bool { return r.States[traffic.ItemDone] >= 50 }, time.Minute)
	// The hard stop cancels jobs mid-wait and mid-call, as a killed process would.
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	require.NoError(t, a.River.StopAndCancel(sctx))
	scancel()
	cancel()
	r, err := a.Runs.Get(context.Background(), run.ID)
	require.NoError(t, err)
	require.Equal(t, jobs.RunRunning, r.Status)

	// The stopped process is gone: its instance lock with it. The next start
	// marks its unfinished attempts interrupted before its workers run.
	e.mu.Lock()
	e.die[0]()
	e.mu.Unlock()
	b := e.worker(300, 8)
	// The server frees the lock once it has seen the connection close, a
	// moment after release returns: recover, as the console does every half
	// lease, until no attempt of the stopped worker is left pending.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err = (&postgres.TrafficStore{Pool: e.pool}).RecoverInterrupted(context.Background(), "next-start")
		require.NoError(t, err)
		var pending int
		require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM attempts WHERE run_id = $1 AND status = 'pending'", run.ID).Scan(&pending))
		if pending == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "%d attempts of the stopped worker are still pending", pending)
		time.Sleep(50 * time.Millisecond)
	}
	e.start(b)
	r = e.waitRun(b, run.ID, finished, 2*time.Minute)
	require.Equal(t, 600, r.States[traffic.ItemDone])
	// No account is called twice. A call cut off by the stop may or may not
	// have left the process, so its account is not called again: its attempt
	// says the outcome is unknown (or interrupted) for staff to check.
	calls := e.callsPerApp()
	for id, n := range calls {
		require.Equal(t, 1, n, id)
	}
	rows, err := e.pool.Query(context.Background(), `SELECT DISTINCT ON (appid) appid, outcome FROM attempts WHERE run_id = $1 ORDER BY appid, id DESC`, run.ID)
	require.NoError(t, err)
	outcomes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var v [2]string
		return v, r.Scan(&v[0], &v[1])
	})
	require.NoError(t, err)
	require.Len(t, outcomes, 600, "every account has an attempt")
	uncalled := 0
	for _, o := range outcomes {
		if calls[o[0]] == 0 {
			uncalled++
			require.Contains(t, []string{string(traffic.OutcomeUnknown), string(traffic.OutcomeInterrupted)}, o[1], o[0])
		}
	}
	require.LessOrEqual(t, uncalled, 8, "at most the calls in flight at the stop")
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
	run, err := c.Runs.Create(ctx, e.staff, traffic.ActionOpen, append(e.apps, e.apps[2], "wxunknown000000000"), "")
	require.NoError(t, err)
	require.Equal(t, 3, run.Total)
	require.Equal(t, 2, run.States[traffic.ItemSkipped])
	e.start(c)
	e.waitRun(c, run.ID, finished, time.Minute)
	require.Equal(t, map[string]int{e.apps[2]: 1}, e.callsPerApp())

	viewer := &core.Staff{ID: 1, Username: "v", Role: core.RoleViewer}
	_, err = c.Runs.Create(ctx, viewer, traffic.ActionOpen, e.apps, "")
	require.Equal(t, core.EFORBIDDEN, core.ErrorCode(err))
}
