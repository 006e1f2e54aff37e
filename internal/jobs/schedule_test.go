package jobs_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
)

// waitJob waits until the latest queue job of the named schedule completed.
func (e *env) waitJob(name string, within time.Duration) string {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		var state, output string
		err := e.pool.QueryRow(context.Background(), `SELECT state, coalesce(metadata->>'output', '') FROM river_job
			WHERE kind = 'schedule' AND args->>'name' = $1 ORDER BY id DESC LIMIT 1`, name).Scan(&state, &output)
		if err == nil && state == "completed" {
			return output
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("schedule %s: no completed job within %s (state %q, err %v)", name, within, state, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The daily retry of accounts below the 1,000-visitor threshold (2013) runs
// on the queue, and opens, again, exactly the accounts in that state whose
// platform and account both allow it, once each.
func TestRetryBelowThresholdSchedule(t *testing.T) {
	t.Parallel()
	e := setup(t, 10)
	ctx := context.Background()
	states := []string{"below_threshold", "below_threshold", "failed", "never", "open", "below_threshold", "below_threshold", "needs_merchant", "below_threshold", "not_eligible"}
	for i, s := range states {
		_, err := e.pool.Exec(ctx, `UPDATE authorizer_state SET state = $2 WHERE appid = $1`, e.apps[i], s)
		require.NoError(t, err)
	}
	_, err := e.pool.Exec(ctx, `UPDATE authorizers SET retry_below_threshold = false WHERE appid = $1`, e.apps[1])
	require.NoError(t, err)
	_, err = e.pool.Exec(ctx, `UPDATE authorizers SET revoked_at = now() WHERE appid = $1`, e.apps[5])
	require.NoError(t, err)
	_, err = e.pool.Exec(ctx, `UPDATE authorizers SET is_mini_program = false WHERE appid = $1`, e.apps[6])
	require.NoError(t, err)
	want := map[string]int{e.apps[0]: 1, e.apps[8]: 1}

	retry := jobs.RetryBelowThreshold(24 * time.Hour)
	require.Equal(t, "retry_below_threshold", retry.Name)
	require.Equal(t, 24*time.Hour, retry.Every, "daily")
	retry.RunOnStart = true // the first period starts now, not in a day
	c := e.worker(1000, 4, func(cfg *jobs.Config) { cfg.Schedules = []jobs.Schedule{retry} })
	e.start(c)
	out := e.waitJob("retry_below_threshold", time.Minute)
	require.Contains(t, out, "over 2 accounts")

	runs, err := c.Runs.List(ctx, 10, 0)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	require.Equal(t, traffic.ActionOpen, runs[0].Action)
	require.Nil(t, runs[0].CreatedBy, "started by the schedule, not by staff")
	r := e.waitRun(c, runs[0].ID, finished, time.Minute)
	require.Equal(t, 2, r.Total)
	require.Equal(t, 2, r.Outcomes[string(traffic.OutcomeSuccess)])
	require.Equal(t, want, e.callsPerApp())
	for app := range want {
		require.True(t, e.sim.Opened(app))
		require.Equal(t, 0, e.sim.Calls(wechatsim.ActionCheck, app), "the retry opens, it does not only check")
	}

	// The platform's switch turns the whole retry off.
	_, err = e.pool.Exec(ctx, `UPDATE platforms SET retry_below_threshold = false`)
	require.NoError(t, err)
	_, err = e.pool.Exec(ctx, `UPDATE authorizer_state SET state = 'below_threshold' WHERE appid = $1`, e.apps[0])
	require.NoError(t, err)
	out, err = retry.Do(ctx, c)
	require.NoError(t, err)
	require.Equal(t, "no accounts below the threshold", out)
	runs, err = c.Runs.List(ctx, 10, 0)
	require.NoError(t, err)
	require.Len(t, runs, 1, "no new run")
}

// A schedule runs once per period however many instances are up, and an
// instance started later in the period (after a restart, say) does not run
// it again.
func TestScheduleRunsOnceAcrossInstances(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	var probes atomic.Int64
	counted := jobs.Schedule{Name: "probe", Every: time.Hour, RunOnStart: true, Do: func(context.Context, *jobs.Client) (string, error) {
		probes.Add(1)
		return "probed", nil
	}}
	with := func(s ...jobs.Schedule) func(*jobs.Config) {
		return func(cfg *jobs.Config) { cfg.Schedules = s }
	}

	// Two instances start together: one of them runs the schedule.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := []*jobs.Client{e.worker(100, 1, with(counted)), e.worker(100, 1, with(counted))}
	for _, c := range first {
		require.NoError(t, c.Start(ctx))
	}
	e.waitJob("probe", time.Minute)
	require.EqualValues(t, 1, probes.Load())
	for _, c := range first {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		require.NoError(t, c.Stop(sctx))
		scancel()
	}

	// Two more start within the same period. Their leader inserts the start
	// runs of every schedule in one transaction, so once the marker (new in
	// this generation) has run, the probe was offered again and refused.
	marker := jobs.Schedule{Name: "marker", Every: time.Hour, RunOnStart: true, Do: func(context.Context, *jobs.Client) (string, error) { return "marked", nil }}
	second := []*jobs.Client{e.worker(100, 1, with(counted, marker)), e.worker(100, 1, with(counted, marker))}
	for _, c := range second {
		e.start(c)
	}
	e.waitJob("marker", time.Minute)
	require.EqualValues(t, 1, probes.Load(), "the probe ran once in its period")
	var jobsOfProbe int
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'schedule' AND args->>'name' = 'probe'`).Scan(&jobsOfProbe))
	require.Equal(t, 1, jobsOfProbe)
}

// A schedule with its own timeout runs that long, not the queue's
// JobTimeout; choosing the principals kept has one.
func TestScheduleRunsWithinItsOwnTimeout(t *testing.T) {
	t.Parallel()
	e := setup(t, 1)
	left := func(ctx context.Context) string {
		dl, ok := ctx.Deadline()
		if !ok {
			return "no deadline"
		}
		return time.Until(dl).Round(time.Minute).String()
	}
	own := jobs.Schedule{Name: "own_timeout", Every: time.Hour, RunOnStart: true, Timeout: 7 * time.Minute,
		Do: func(ctx context.Context, _ *jobs.Client) (string, error) { return left(ctx), nil }}
	queue := jobs.Schedule{Name: "queue_timeout", Every: time.Hour, RunOnStart: true,
		Do: func(ctx context.Context, _ *jobs.Client) (string, error) { return left(ctx), nil }}
	e.start(e.worker(100, 1, func(c *jobs.Config) { c.JobTimeout, c.Schedules = time.Minute, []jobs.Schedule{own, queue} }))
	require.Equal(t, "7m0s", e.waitJob("own_timeout", time.Minute))
	require.Equal(t, "1m0s", e.waitJob("queue_timeout", time.Minute))
	require.Equal(t, jobs.RevenuePrincipalsTimeout, jobs.RevenuePrincipals(time.Hour, nil).Timeout)
}
