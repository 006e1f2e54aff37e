package jobs_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/ams"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
)

// openAll opens every account's traffic master, at WeChat and in the console.
func (e *env) openAll() {
	e.t.Helper()
	for _, id := range e.apps {
		e.sim.MarkOpened(id, time.Now().AddDate(0, -1, 0))
	}
	_, err := e.pool.Exec(context.Background(), `UPDATE authorizer_state SET state = 'open' WHERE appid = ANY($1)`, e.apps)
	require.NoError(e.t, err)
}

// amsWorker is one worker "process" that also applies ad operations, through
// the real ad-operation service over its own traffic service.
func (e *env) amsWorker(rate float64, conc int, mod ...func(*jobs.Config)) *jobs.Client {
	return e.worker(rate, conc, append([]func(*jobs.Config){func(cfg *jobs.Config) {
		cfg.AMS = e.applier(cfg.Pool, cfg.Attempter)
	}}, mod...)...)
}

func (e *env) applier(pool *pgxpool.Pool, writer traffic.Attempter) jobs.Applier {
	return &ams.Service{Store: &postgres.AMSStore{Pool: pool}, WeChat: e.wc, Tokens: &wechatsim.Tokens{Sim: e.sim, Client: e.wc},
		Writer: writer.(*traffic.Service), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// callsOf counts the simulator's calls of action per account.
func (e *env) callsOf(action string) map[string]int {
	n := map[string]int{}
	for _, c := range e.sim.CallLog() {
		if c.Action == action {
			n[c.AppID]++
		}
	}
	return n
}

func rewardVideo(t testing.TB) json.RawMessage {
	b, err := json.Marshal(ams.NewUnit{Name: "激励视频-批量", Slot: wechat.SlotRewardVideo, VideoMin: 6, VideoMax: 30})
	require.NoError(t, err)
	return b
}

// TestBulkRewardVideoUnitOverAThousandAccounts is the bulk done-when: a
// run creating a reward-video unit over 1,000 opened accounts, on two
// workers, creates exactly one unit per account, audits exactly 1,000
// creations with the run's id, and every WeChat call took a rate slot, no
// two closer than 1/rate and never more than rate in any second (on the
// database's clock, where the limiter keeps its promise).
func TestBulkRewardVideoUnitOverAThousandAccounts(t *testing.T) {
	t.Parallel()
	const rate, accounts = 400, 1000
	e := setup(t, accounts)
	e.openAll()
	a, b := e.amsWorker(rate, 8), e.amsWorker(rate, 8)
	var mu sync.Mutex
	var slots []time.Time
	for _, c := range []*jobs.Client{a, b} {
		c.Limiter.OnReserve = func(slot time.Time) {
			mu.Lock()
			slots = append(slots, slot)
			mu.Unlock()
		}
	}
	ctx := context.Background()
	run, _, err := a.Runs.CreateOpOnce(ctx, e.staff, ams.OpCreateUnit, rewardVideo(t), e.apps, "test", "")
	require.NoError(t, err)
	require.Equal(t, accounts, run.Total)
	require.Equal(t, ams.OpCreateUnit, run.Op)
	e.start(a)
	e.start(b)
	r := e.waitRun(a, run.ID, finished, 5*time.Minute)
	require.Equal(t, accounts, r.States[traffic.ItemDone])
	require.Equal(t, accounts, r.Outcomes[string(traffic.OutcomeSuccess)])

	creates := e.callsOf(wechat.ActionCreateAdUnit)
	require.Len(t, creates, accounts)
	for id, n := range creates {
		require.Equal(t, 1, n, id)
	}
	var attempts, distinct, wrong int
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT appid), count(*) FILTER (WHERE staff_id IS DISTINCT FROM 1 OR params->>'slot' <> $2)
		FROM attempts WHERE action = 'unit_create' AND run_id = $1`, run.ID, wechat.SlotRewardVideo).Scan(&attempts, &distinct, &wrong))
	require.Equal(t, accounts, attempts)
	require.Equal(t, accounts, distinct)
	require.Zero(t, wrong)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, slots, len(e.sim.CallLog()), "every WeChat call took one slot")
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

// TestBulkOperationPauseResumeCancel: an ad-operation run pauses (no call
// starts after the pause), resumes to create each unit once, and a cancelled
// one stops calling and cannot be resumed.
func TestBulkOperationPauseResumeCancel(t *testing.T) {
	t.Parallel()
	e := setup(t, 120)
	e.openAll()
	c := e.amsWorker(200, 4)
	ctx := context.Background()
	run, _, err := c.Runs.CreateOpOnce(ctx, e.staff, ams.OpCreateUnit, rewardVideo(t), e.apps, "", "")
	require.NoError(t, err)
	gate := e.sim.Hold("", wechat.ActionCreateAdUnit)
	t.Cleanup(gate.Release)
	e.start(c)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	require.NoError(t, gate.WaitArrived(wctx, 1))
	require.NoError(t, c.Runs.Pause(ctx, run.ID))
	gate.Release()
	r := e.waitRun(c, run.ID, func(r *jobs.Run) bool { return r.States[traffic.ItemCalling] == 0 }, 30*time.Second)
	require.Equal(t, jobs.RunPaused, r.Status)
	require.Positive(t, r.States[traffic.ItemPending], "the paused run has accounts left")
	atPause := len(e.callsOf(wechat.ActionCreateAdUnit))
	require.Less(t, atPause, 120)
	require.NoError(t, c.Runs.Resume(ctx, run.ID))
	r = e.waitRun(c, run.ID, finished, time.Minute)
	require.Equal(t, 120, r.Outcomes[string(traffic.OutcomeSuccess)])
	creates := e.callsOf(wechat.ActionCreateAdUnit)
	require.Len(t, creates, 120)
	for id, n := range creates {
		require.Equal(t, 1, n, id)
	}

	// A second run switching cover ads off, cancelled while its calls are held.
	off, err := json.Marshal(ams.CoverSwitch{On: false})
	require.NoError(t, err)
	gate2 := e.sim.Hold("", wechat.ActionSetCoverAdposStatus)
	t.Cleanup(gate2.Release)
	run2, _, err := c.Runs.CreateOpOnce(ctx, e.staff, ams.OpSwitchCover, off, e.apps, "", "")
	require.NoError(t, err)
	require.NoError(t, gate2.WaitArrived(wctx, 1))
	require.NoError(t, c.Runs.Cancel(ctx, run2.ID))
	gate2.Release()
	r2 := e.waitRun(c, run2.ID, func(r *jobs.Run) bool { return r.States[traffic.ItemCalling] == 0 }, 30*time.Second)
	require.Equal(t, jobs.RunCancelled, r2.Status)
	require.Positive(t, r2.States[traffic.ItemCancelled])
	require.Equal(t, 120, r2.Done())
	require.LessOrEqual(t, len(e.callsOf(wechat.ActionSetCoverAdposStatus)), 4, "only the calls claimed before the cancel")
	require.Error(t, c.Runs.Resume(ctx, run2.ID))
}

// TestBulkOperationSurvivesHardStop: the only worker is stopped hard in the
// middle of a unit-creation run (jobs cancelled mid-wait and mid-call, as a
// killed process would leave them) and another finishes the run. No account
// gets a second unit: an account whose creation may have reached WeChat
// when the stop came keeps that attempt (interrupted or unknown, to be
// checked), and only attempts that provably sent nothing are made again.
func TestBulkOperationSurvivesHardStop(t *testing.T) {
	t.Parallel()
	const accounts = 400
	e := setup(t, accounts)
	e.openAll()
	a := e.amsWorker(300, 8)
	ctx := context.Background()
	run, _, err := a.Runs.CreateOpOnce(ctx, e.staff, ams.OpCreateUnit, rewardVideo(t), e.apps, "", "")
	require.NoError(t, err)
	actx, cancel := context.WithCancel(ctx)
	require.NoError(t, a.Start(actx))
	e.waitRun(a, run.ID, func(r *jobs.Run) bool { return r.States[traffic.ItemDone] >= 40 }, time.Minute)
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	require.NoError(t, a.River.StopAndCancel(sctx))
	scancel()
	cancel()

	e.mu.Lock()
	e.die[0]()
	e.mu.Unlock()
	b := e.amsWorker(300, 8)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err = (&postgres.TrafficStore{Pool: e.pool}).RecoverInterrupted(ctx, "next-start")
		require.NoError(t, err)
		var pending int
		require.NoError(t, e.pool.QueryRow(ctx, "SELECT count(*) FROM attempts WHERE run_id = $1 AND status = 'pending'", run.ID).Scan(&pending))
		if pending == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "%d attempts of the stopped worker are still pending", pending)
		time.Sleep(50 * time.Millisecond)
	}
	e.start(b)
	r := e.waitRun(b, run.ID, finished, 2*time.Minute)
	require.Equal(t, accounts, r.States[traffic.ItemDone])

	creates := e.callsOf(wechat.ActionCreateAdUnit)
	for id, n := range creates {
		require.Equal(t, 1, n, id)
	}
	// Per account: at most one attempt that may have reached WeChat.
	var twice int
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT appid FROM attempts WHERE run_id = $1 AND outcome <> 'not_sent'
		GROUP BY appid HAVING count(*) > 1) x`, run.ID).Scan(&twice))
	require.Zero(t, twice)
	rows, err := e.pool.Query(ctx, `SELECT DISTINCT ON (appid) appid, outcome FROM attempts WHERE run_id = $1 ORDER BY appid, id DESC`, run.ID)
	require.NoError(t, err)
	outcomes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var v [2]string
		return v, r.Scan(&v[0], &v[1])
	})
	require.NoError(t, err)
	require.Len(t, outcomes, accounts, "every account has an attempt")
	uncalled := 0
	for _, o := range outcomes {
		if creates[o[0]] == 0 {
			uncalled++
			require.Contains(t, []string{string(traffic.OutcomeUnknown), string(traffic.OutcomeInterrupted)}, o[1], o[0])
		}
	}
	require.LessOrEqual(t, uncalled, 8, "at most the calls in flight at the stop")
}

// TestBulkSlotSwitchAndNothingToChange: switching a slot's units off makes
// one audited change per unit that was on; the same run again finds nothing
// to change and says so, without writing.
func TestBulkSlotSwitchAndNothingToChange(t *testing.T) {
	t.Parallel()
	e := setup(t, 12)
	e.openAll()
	c := e.amsWorker(500, 4)
	e.start(c)
	ctx := context.Background()
	off, err := json.Marshal(ams.SlotSwitch{Slot: wechat.SlotBanner, On: false})
	require.NoError(t, err)
	run, _, err := c.Runs.CreateOpOnce(ctx, e.staff, ams.OpSwitchSlot, off, e.apps, "", "")
	require.NoError(t, err)
	r := e.waitRun(c, run.ID, finished, time.Minute)
	updates := len(e.callsOf(wechat.ActionUpdateAdUnit))
	require.Equal(t, len(e.apps), len(e.callsOf(wechat.ActionGetAdUnitList)), "each account's units are listed once")
	require.Equal(t, updates, r.Outcomes[string(traffic.OutcomeSuccess)])
	require.Equal(t, len(e.apps)-updates, r.Outcomes[string(traffic.OutcomeAlreadyDone)], "accounts without a banner unit have nothing to change")
	var audited int
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM attempts WHERE run_id = $1 AND action = 'unit_update' AND outcome = 'success'`, run.ID).Scan(&audited))
	require.Equal(t, updates, audited)

	again, _, err := c.Runs.CreateOpOnce(ctx, e.staff, ams.OpSwitchSlot, off, e.apps, "", "")
	require.NoError(t, err)
	r = e.waitRun(c, again.ID, finished, time.Minute)
	require.Equal(t, len(e.apps), r.States[traffic.ItemSkipped])
	require.Equal(t, updates, len(e.callsOf(wechat.ActionUpdateAdUnit)), "no second write")
}

// TestBulkOperationSkipsAccountsNotOpen and refuses settings that are wrong
// before any account is called.
func TestBulkOperationSkipsAccountsNotOpen(t *testing.T) {
	t.Parallel()
	e := setup(t, 3)
	ctx := context.Background()
	e.sim.MarkOpened(e.apps[0], time.Now())
	_, err := e.pool.Exec(ctx, `UPDATE authorizer_state SET state = 'open' WHERE appid = $1`, e.apps[0])
	require.NoError(t, err)
	c := e.amsWorker(500, 2)
	_, _, err = c.Runs.CreateOpOnce(ctx, e.staff, ams.OpCreateUnit, json.RawMessage(`{"name":"x","slot":"SLOT_ID_WEAPP_REWARD_VIDEO","video_duration_min":6,"video_duration_max":20}`), e.apps, "", "")
	require.Error(t, err)
	run, _, err := c.Runs.CreateOpOnce(ctx, e.staff, ams.OpCreateUnit, rewardVideo(t), e.apps, "", "")
	require.NoError(t, err)
	require.Equal(t, 2, run.States[traffic.ItemSkipped])
	e.start(c)
	r := e.waitRun(c, run.ID, finished, time.Minute)
	require.Equal(t, 1, r.Outcomes[string(traffic.OutcomeSuccess)])
	require.Equal(t, 2, r.Outcomes[string(traffic.OutcomeNotAllowed)])
	require.Equal(t, map[string]int{e.apps[0]: 1}, e.callsOf(wechat.ActionCreateAdUnit))
}

// TestUnknownCreationIsNotRetried: a creation whose answer never comes (the
// client gives up) may have created the unit at WeChat. Like an open, it is
// not tried again: the account ends with the unknown outcome, for staff to
// check, and WeChat saw one creation for it.
func TestUnknownCreationIsNotRetried(t *testing.T) {
	t.Parallel()
	e := setup(t, 3)
	e.openAll()
	e.sim.Script(e.apps[0], wechat.ActionCreateAdUnit, wechatsim.Behavior{Hang: true})
	srv := httptest.NewServer(e.sim.Handler())
	t.Cleanup(srv.Close)
	e.wc = wechat.NewClient(wechat.Config{BaseURL: srv.URL, ComponentAppID: componentAppID, ComponentAppSecret: "secret", HTTPClient: &http.Client{Timeout: time.Second}})
	c := e.amsWorker(500, 3)
	ctx := context.Background()
	run, _, err := c.Runs.CreateOpOnce(ctx, e.staff, ams.OpCreateUnit, rewardVideo(t), e.apps, "", "")
	require.NoError(t, err)
	e.start(c)
	r := e.waitRun(c, run.ID, finished, time.Minute)
	require.Equal(t, 3, r.States[traffic.ItemDone])
	require.Equal(t, 1, r.Outcomes[string(traffic.OutcomeUnknown)])
	require.Equal(t, 2, r.Outcomes[string(traffic.OutcomeSuccess)])
	require.Equal(t, map[string]int{e.apps[0]: 1, e.apps[1]: 1, e.apps[2]: 1}, e.callsOf(wechat.ActionCreateAdUnit))
	var n int
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM attempts WHERE run_id = $1 AND appid = $2`, run.ID, e.apps[0]).Scan(&n))
	require.Equal(t, 1, n)
}

// TestPlatformWideErrorPausesAnOperationRun: WeChat says the platform lacks
// the permission; the ad-operation run pauses itself like an open run, and
// resumed after the fix, creates each unit once.
func TestPlatformWideErrorPausesAnOperationRun(t *testing.T) {
	t.Parallel()
	e := setup(t, 20)
	e.openAll()
	for _, id := range e.apps {
		e.sim.Script(id, wechat.ActionCreateAdUnit, wechatsim.Behavior{Ret: 48001, Shape: "errcode"})
	}
	c := e.amsWorker(1000, 2)
	ctx := context.Background()
	run, _, err := c.Runs.CreateOpOnce(ctx, e.staff, ams.OpCreateUnit, rewardVideo(t), e.apps, "", "")
	require.NoError(t, err)
	e.start(c)
	r := e.waitRun(c, run.ID, func(r *jobs.Run) bool { return r.Status == jobs.RunPaused && r.States[traffic.ItemCalling] == 0 }, time.Minute)
	require.NotNil(t, r.PauseCode)
	require.Equal(t, 48001, *r.PauseCode)
	require.Equal(t, 20, r.States[traffic.ItemPending])
	for _, id := range e.apps {
		e.sim.Script(id, wechat.ActionCreateAdUnit, wechatsim.Behavior{})
	}
	before := e.callsOf(wechat.ActionCreateAdUnit)
	require.NoError(t, c.Runs.Resume(ctx, run.ID))
	r = e.waitRun(c, run.ID, finished, time.Minute)
	require.Equal(t, 20, r.Outcomes[string(traffic.OutcomeSuccess)])
	after := e.callsOf(wechat.ActionCreateAdUnit)
	for _, id := range e.apps {
		require.Equal(t, 1, after[id]-before[id], id)
	}
}
