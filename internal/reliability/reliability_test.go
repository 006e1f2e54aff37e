// Package reliability runs what users run: real processes of the binary
// (`serve` and `worker`) against one PostgreSQL cluster of the test's own and
// the WeChat simulator, and breaks things under them: kill -9 of one and of
// every process mid-run, a database restart mid-run, WeChat faults, and two
// instances clicking the same accounts. Each scenario checks the audit tells
// the truth and logs its figures (run with -v to see them).
package reliability

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/pgcluster"
	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
)

const (
	componentAppID = "wxreliability00001"
	appSecret      = "reliability-secret"
	pushToken      = "reliability-token"
	aesKey         = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	password       = "reliability-operator-pass"
	lease          = 2 * time.Second
)

// world is one database, one simulator and the processes run against them.
type world struct {
	t       *testing.T
	bin     string
	cluster *pgcluster.Cluster
	dsn     string
	pool    *pgxpool.Pool
	sim     *wechatsim.Sim
	simURL  string
	logDir  string
	queue   *jobs.Client

	// extra is added to the environment of processes started from now on.
	extra []string

	mu     sync.Mutex
	procs  []*proc
	killed map[string]bool // instance ids of processes killed on purpose
}

// proc is one running process of the binary.
type proc struct {
	name     string
	cmd      *exec.Cmd
	addr     string // serve only
	instance string
	done     chan struct{}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func (w *world) env(addr string) []string {
	env := append(os.Environ(),
		"DATABASE_URL="+w.dsn,
		"SECRET_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"WECHAT_COMPONENT_APPID="+componentAppID,
		"WECHAT_COMPONENT_APPSECRET="+appSecret,
		"WECHAT_COMPONENT_TOKEN="+pushToken,
		"WECHAT_COMPONENT_AES_KEY="+aesKey,
		"WECHAT_API_BASE_URL="+w.simURL,
		"WECHAT_LOGIN_PAGE_BASE_URL="+w.simURL,
		"RATE_PER_SECOND=100",
		"WORKER_CONCURRENCY=8",
		"INSTANCE_LEASE="+lease.String(),
		"SYNC_INTERVAL=24h",
	)
	env = append(env, w.extra...)
	if addr != "" {
		env = append(env, "ADDR="+addr, "PUBLIC_URL=http://"+addr)
	}
	return env
}

// start runs `trafficmaster kind` and waits until it is ready (serving, or
// registered as a live instance).
func (w *world) start(name, kind, addr string) *proc {
	t := w.t
	t.Helper()
	if kind == "serve" && addr == "" {
		addr = freeAddr(t)
	}
	cmd := exec.Command(w.bin, kind)
	cmd.Env = w.env(addr)
	logf, err := os.Create(filepath.Join(w.logDir, name+".log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(t, cmd.Start())
	p := &proc{name: name, cmd: cmd, addr: addr, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); _ = logf.Close(); close(p.done) }()
	w.mu.Lock()
	w.procs = append(w.procs, p)
	w.mu.Unlock()
	ctx := context.Background()
	require.Eventually(t, func() bool {
		select {
		case <-p.done:
			t.Fatalf("%s exited at start; log:\n%s", name, w.logTail(name))
		default:
		}
		if err := w.pool.QueryRow(ctx, `SELECT id FROM instances WHERE pid = $1 AND stopped_at IS NULL ORDER BY started_at DESC LIMIT 1`, cmd.Process.Pid).Scan(&p.instance); err != nil {
			return false
		}
		if kind != "serve" {
			return true
		}
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 60*time.Second, 50*time.Millisecond, "%s did not become ready", name)
	return p
}

func (w *world) logTail(name string) string {
	b, _ := os.ReadFile(filepath.Join(w.logDir, name+".log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// kill sends SIGKILL, as the OOM killer or a pulled plug would.
func (w *world) kill(ps ...*proc) {
	for _, p := range ps {
		require.NoError(w.t, p.cmd.Process.Signal(syscall.SIGKILL))
		<-p.done
		w.mu.Lock()
		w.killed[p.instance] = true
		w.mu.Unlock()
	}
}

func setup(t *testing.T) *world {
	if testing.Short() {
		t.Skip("builds the binary and runs processes against a cluster of the test's own")
	}
	w := &world{t: t, killed: map[string]bool{}, logDir: t.TempDir()}
	w.bin = filepath.Join(t.TempDir(), "trafficmaster")
	build := exec.Command("go", "build", "-o", w.bin, "github.com/trafficmaster/trafficmaster/cmd/trafficmaster")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	w.cluster, w.dsn = pgtest.Restartable(t)
	pool, err := postgres.Open(context.Background(), w.dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	w.pool = pool
	t.Cleanup(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, p := range w.procs {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			for _, p := range w.procs {
				t.Logf("--- %s log tail:\n%s", p.name, w.logTail(p.name))
			}
		}
	})
	return w
}

// seed adds n Mini Programs to the simulator and brings them into the
// console the way production does: a pushed ticket, then a sync.
func (w *world) seed(first *proc, n int) []string {
	t := w.t
	var apps []string
	for i := range n {
		id := fmt.Sprintf("wx%016x", 0x5e11ab1e0000+i)
		apps = append(apps, id)
		w.sim.AddAuthorizer(wechatsim.Authorizer{AppID: id, NickName: fmt.Sprintf("可靠性 %d", i), MiniProgram: true, AccountStatus: 1})
	}
	require.NoError(t, w.sim.PushTicket(context.Background()))
	sync := exec.Command(w.bin, "sync")
	sync.Env = w.env("")
	out, err := sync.CombinedOutput()
	require.NoError(t, err, string(out))
	var got int
	require.NoError(t, w.pool.QueryRow(context.Background(), `SELECT count(*) FROM authorizers WHERE is_mini_program`).Scan(&got))
	require.Equal(t, n, got, string(out))
	user := exec.Command(w.bin, "user", "create", "-username", "operator", "-role", "operator")
	user.Env = w.env("")
	user.Stdin = strings.NewReader(password + "\n")
	out, err = user.CombinedOutput()
	require.NoError(t, err, string(out))
	return apps
}

func (w *world) run(apps []string) int64 {
	run, err := w.queue.Runs.Create(context.Background(), nil, traffic.ActionOpen, apps, "reliability")
	require.NoError(w.t, err)
	return run.ID
}

func (w *world) waitRun(id int64, until func(*jobs.Run) bool, within time.Duration) *jobs.Run {
	w.t.Helper()
	deadline := time.Now().Add(within)
	for {
		if r, err := w.queue.Runs.Get(context.Background(), id); err == nil && until(r) {
			return r
		} else if time.Now().After(deadline) {
			w.t.Fatalf("run %d: condition not reached within %s (%v)", id, within, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// figures are what one scenario measured.
type figures struct {
	Accounts, Duplicates, Pending, FalseInterrupted, TrueInterrupted, Unaccounted int
}

// audit counts, over apps, calls that reached WeChat more than the accounts'
// answered attempts allow, pending rows, interrupted rows of processes that
// were never killed, and accounts without a finished run item and attempt.
func (w *world) audit(runID int64, apps []string, expectCalls map[string]int) figures {
	ctx := context.Background()
	f := figures{Accounts: len(apps)}
	calls := map[string]int{}
	for _, c := range w.sim.CallLog() {
		calls[c.AppID]++
	}
	for _, id := range apps {
		want := 1
		if n, ok := expectCalls[id]; ok {
			want = n
		}
		if calls[id] > want {
			f.Duplicates++
		}
	}
	rows, err := w.pool.Query(ctx, `SELECT status, instance_id FROM attempts WHERE appid = ANY($1)`, apps)
	require.NoError(w.t, err)
	type row struct{ status, instance string }
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.status, &x.instance)
	})
	require.NoError(w.t, err)
	w.mu.Lock()
	for _, a := range all {
		switch {
		case a.status == "pending":
			f.Pending++
		case a.status == "interrupted" && w.killed[a.instance]:
			f.TrueInterrupted++
		case a.status == "interrupted":
			f.FalseInterrupted++
		}
	}
	w.mu.Unlock()
	if runID > 0 {
		require.NoError(w.t, w.pool.QueryRow(ctx, `
			SELECT count(*) FROM unnest($2::text[]) u(appid)
			WHERE NOT EXISTS (SELECT 1 FROM run_items i WHERE i.run_id = $1 AND i.appid = u.appid AND i.state IN ('done', 'skipped'))
			   OR NOT EXISTS (SELECT 1 FROM attempts a WHERE a.run_id = $1 AND a.appid = u.appid AND a.status <> 'pending')`, runID, apps).Scan(&f.Unaccounted))
	}
	return f
}

// heldBy lists the accounts whose run items are claimed by jobs that the
// given instances were running.
func (w *world) heldBy(runID int64, instances []string) []string {
	rows, err := w.pool.Query(context.Background(), `
		SELECT i.appid FROM run_items i JOIN river_job j ON j.id = i.claimed_job
		WHERE i.run_id = $1 AND i.state = 'calling' AND j.attempted_by[array_upper(j.attempted_by, 1)] = ANY($2)`, runID, instances)
	require.NoError(w.t, err)
	apps, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(w.t, err)
	return apps
}

// waitFinished waits until every account in apps has left 'calling' and
// 'pending' in the run, and returns how long that took.
func (w *world) waitFinished(runID int64, apps []string, within time.Duration) time.Duration {
	start := time.Now()
	require.Eventually(w.t, func() bool {
		var n int
		require.NoError(w.t, w.pool.QueryRow(context.Background(), `SELECT count(*) FROM run_items WHERE run_id = $1 AND appid = ANY($2) AND state IN ('pending', 'calling')`, runID, apps).Scan(&n))
		return n == 0
	}, within, 20*time.Millisecond)
	return time.Since(start)
}

// browser is a signed-in operator on one serve process.
type browser struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

func (w *world) login(p *proc) *browser {
	t := w.t
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, base: "http://" + p.addr, hc: &http.Client{Jar: jar, Timeout: 60 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	// The CSRF token is the page's (bound to the pre-session, then to the
	// session, so it changes at sign-in).
	_, page := b.get("/login")
	b.csrf = csrfOf(t, page)
	resp, err := b.hc.PostForm(b.base+"/login", url.Values{"username": {"operator"}, "password": {password}, "_csrf": {b.csrf}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, page = b.get("/")
	b.csrf = csrfOf(t, page)
	return b
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

// csrfOf reads the CSRF token from a page's csrf-token meta tag.
func csrfOf(t *testing.T, page string) string {
	m := csrfMeta.FindStringSubmatch(page)
	require.NotNil(t, m, "no csrf-token meta tag")
	return m[1]
}

func (b *browser) open(app string) int {
	req, _ := http.NewRequest(http.MethodPost, b.base+"/apps/"+app+"/open", strings.NewReader("confirmed=1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.Header.Set("X-CSRF-Token", b.csrf)
	resp, err := b.hc.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (b *browser) get(path string) (int, string) {
	resp, err := b.hc.Get(b.base + path)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(bufio.NewReader(resp.Body))
	return resp.StatusCode, string(body)
}

// TestReliability runs the scenarios one after the other on one world, so
// the binary is built and the cluster started once.
func TestReliability(t *testing.T) {
	w := setup(t)
	addrA := freeAddr(t)
	sim, err := wechatsim.New(wechatsim.Config{ComponentAppID: componentAppID, ComponentAppSecret: appSecret, Token: pushToken, EncodingAESKey: aesKey,
		EventURL: "http://" + addrA + "/wechat/events"})
	require.NoError(t, err)
	wx, err := wechatsim.NewOutage(sim.Handler())
	require.NoError(t, err)
	t.Cleanup(wx.Down)
	w.sim, w.simURL = sim, wx.URL
	queue, err := jobs.New(jobs.Config{Pool: w.pool, Store: &postgres.RunStore{Pool: w.pool}, Slots: &postgres.RateSlots{Pool: w.pool}})
	require.NoError(t, err)
	w.queue = queue

	a := w.start("serve-a", "serve", addrA)
	// 701 accounts for the first scenarios, 44 for the bursts and 300 that
	// are checked again and again (never opened, so runs keep calling them).
	apps := w.seed(a, 1045)
	// Every call takes a little while, so calls are in flight when things break.
	for _, id := range apps {
		sim.Script(id, wechatsim.ActionCreate, wechatsim.Behavior{Delay: 100 * time.Millisecond})
	}

	t.Run("kill -9 of one serve and the worker mid-run, with WeChat faults", func(t *testing.T) {
		set := apps[0:200]
		sim.Script(set[0], wechatsim.ActionCreate, wechatsim.Behavior{HTTPStatus: 502})
		sim.Script(set[1], wechatsim.ActionCreate, wechatsim.Behavior{Garbage: true})
		sim.Script(set[2], wechatsim.ActionCreate, wechatsim.Behavior{Ret: -202, Times: 1})
		b := w.start("serve-b", "serve", "")
		wk := w.start("worker-1", "worker", "")
		id := w.run(set)
		w.waitRun(id, func(r *jobs.Run) bool { return r.Done() >= 40 }, time.Minute)
		w.kill(b, wk)
		killedAt := time.Now()
		held := w.heldBy(id, []string{b.instance, wk.instance})
		resume := w.waitFinished(id, held, time.Minute)
		r := w.waitRun(id, func(r *jobs.Run) bool { return r.Status == jobs.RunFinished }, 2*time.Minute)
		f := w.audit(id, set, map[string]int{set[2]: 2})
		t.Logf("RELIABILITY kill-one: accounts=%d duplicates=%d pending=%d false_interrupted=%d true_interrupted=%d unaccounted=%d held_by_killed=%d resumed_in=%s (from kill -9 to every held account finished; lease %s) run_total=%s outcomes=%v",
			f.Accounts, f.Duplicates, f.Pending, f.FalseInterrupted, f.TrueInterrupted, f.Unaccounted, len(held), resume.Round(10*time.Millisecond), lease, time.Since(killedAt).Round(10*time.Millisecond), r.Outcomes)
		require.Zero(t, f.Duplicates)
		require.Zero(t, f.Pending)
		require.Zero(t, f.FalseInterrupted)
		require.Zero(t, f.Unaccounted)
		require.Less(t, resume, 30*time.Second)
		// The faults got the right words and bounded calls.
		require.Equal(t, 1, sim.Calls(wechatsim.ActionCreate, set[0]))
		require.Equal(t, 1, sim.Calls(wechatsim.ActionCreate, set[1]))
		var o0, o1, o2 string
		require.NoError(t, w.pool.QueryRow(context.Background(), `SELECT outcome FROM run_items WHERE run_id = $1 AND appid = $2`, id, set[0]).Scan(&o0))
		require.NoError(t, w.pool.QueryRow(context.Background(), `SELECT outcome FROM run_items WHERE run_id = $1 AND appid = $2`, id, set[1]).Scan(&o1))
		require.NoError(t, w.pool.QueryRow(context.Background(), `SELECT outcome FROM run_items WHERE run_id = $1 AND appid = $2`, id, set[2]).Scan(&o2))
		require.Equal(t, "failed", o0, "HTTP 502")
		require.Equal(t, "failed", o1, "garbage")
		if sim.Calls(wechatsim.ActionCreate, set[2]) == 2 {
			require.Equal(t, "success", o2, "-202, then success")
		}
	})

	t.Run("kill -9 of every process mid-run", func(t *testing.T) {
		set := apps[200:400]
		b := w.start("serve-b2", "serve", "")
		wk := w.start("worker-2", "worker", "")
		id := w.run(set)
		w.waitRun(id, func(r *jobs.Run) bool { return r.Done() >= 40 }, time.Minute)
		w.kill(a, b, wk)
		held := w.heldBy(id, []string{a.instance, b.instance, wk.instance})
		a = w.start("serve-a2", "serve", addrA)
		resume := w.waitFinished(id, held, time.Minute)
		w.waitRun(id, func(r *jobs.Run) bool { return r.Status == jobs.RunFinished }, 2*time.Minute)
		f := w.audit(id, set, nil)
		t.Logf("RELIABILITY kill-all: accounts=%d duplicates=%d pending=%d false_interrupted=%d true_interrupted=%d unaccounted=%d held_by_killed=%d resumed_in=%s (from the new process being ready to every held account finished; lease %s)",
			f.Accounts, f.Duplicates, f.Pending, f.FalseInterrupted, f.TrueInterrupted, f.Unaccounted, len(held), resume.Round(10*time.Millisecond), lease)
		require.Zero(t, f.Duplicates)
		require.Zero(t, f.Pending)
		require.Zero(t, f.FalseInterrupted)
		require.Zero(t, f.Unaccounted)
		require.Less(t, resume, 30*time.Second)
	})

	t.Run("database stopped for 20 s mid-run and mid-click", func(t *testing.T) {
		set := apps[400:600]
		wk := w.start("worker-3", "worker", "")
		_ = wk
		br := w.login(a)
		id := w.run(set)
		w.waitRun(id, func(r *jobs.Run) bool { return r.Done() >= 40 }, time.Minute)
		ctx := context.Background()
		// A click whose answer comes back while the database is away.
		clicked := apps[700]
		sim.Script(clicked, wechatsim.ActionCreate, wechatsim.Behavior{Delay: 2 * time.Second})
		clickStatus := make(chan int, 1)
		go func() { clickStatus <- br.open(clicked) }()
		require.Eventually(t, func() bool { return sim.Calls(wechatsim.ActionCreate, clicked) == 1 }, 30*time.Second, 10*time.Millisecond)
		require.NoError(t, w.cluster.Down(ctx))
		downAt := time.Now()
		// While the database is away the console says so, with 503.
		status, body := br.get("/")
		require.Equal(t, http.StatusServiceUnavailable, status, body)
		require.Contains(t, body, "Database unavailable")
		// Twenty seconds: every lease runs out, queue jobs fail and wait.
		time.Sleep(20*time.Second - time.Since(downAt))
		require.NoError(t, w.cluster.Up(ctx))
		down := time.Since(downAt)
		upAt := time.Now()
		// No process is restarted: the console answers again by itself.
		require.Eventually(t, func() bool { s, _ := br.get("/"); return s == http.StatusOK }, 30*time.Second, 50*time.Millisecond)
		pageBack := time.Since(upAt)
		select {
		case st := <-clickStatus:
			require.Equal(t, http.StatusOK, st, "the click answers once its outcome is recorded")
		case <-time.After(time.Minute):
			t.Fatal("the click never answered")
		}
		var clickOutcome string
		require.NoError(t, w.pool.QueryRow(ctx, `SELECT outcome FROM attempts WHERE appid = $1`, clicked).Scan(&clickOutcome))
		require.Equal(t, "success", clickOutcome, "WeChat's answer during the outage reached the audit")
		r := w.waitRun(id, func(r *jobs.Run) bool { return r.Status == jobs.RunFinished }, 2*time.Minute)
		runBack := time.Since(upAt)
		f := w.audit(id, set, nil)
		fc := w.audit(0, []string{clicked}, nil)
		f.Accounts, f.Duplicates, f.Pending, f.FalseInterrupted = f.Accounts+1, f.Duplicates+fc.Duplicates, f.Pending+fc.Pending, f.FalseInterrupted+fc.FalseInterrupted
		lost := len(set) - r.Outcomes[string(traffic.OutcomeSuccess)]
		t.Logf("RELIABILITY pg-stop-20s (run + a click answered while the database was down): accounts=%d duplicates=%d pending=%d false_interrupted=%d lost_outcomes=%d unaccounted=%d database_down=%s pages_back_after=%s run_finished_after=%s outcomes=%v",
			f.Accounts, f.Duplicates, f.Pending, f.FalseInterrupted, lost, f.Unaccounted, down.Round(10*time.Millisecond), pageBack.Round(10*time.Millisecond), runBack.Round(10*time.Millisecond), r.Outcomes)
		require.Zero(t, f.Duplicates)
		require.Zero(t, f.Pending)
		require.Zero(t, f.FalseInterrupted)
		require.Zero(t, f.Unaccounted)
		require.Zero(t, lost, "every account opened, each outcome recorded")
	})

	t.Run("two instances clicking the same accounts", func(t *testing.T) {
		set := apps[600:640]
		// Quick answers: the second click often wins the in-flight claim
		// just after the first has opened the account.
		for _, id := range set {
			sim.Script(id, wechatsim.ActionCreate, wechatsim.Behavior{})
		}
		b := w.start("serve-b3", "serve", "")
		ba, bb := w.login(a), w.login(b)
		var wg sync.WaitGroup
		statuses := make(chan int, 2*len(set))
		for _, id := range set {
			for _, br := range []*browser{ba, bb} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses <- br.open(id)
				}()
			}
			wg.Wait()
		}
		close(statuses)
		for s := range statuses {
			require.Equal(t, http.StatusOK, s)
		}
		f := w.audit(0, set, nil)
		calls := 0
		for _, id := range set {
			calls += sim.Calls(wechatsim.ActionCreate, id)
		}
		t.Logf("RELIABILITY two-instances: accounts=%d calls=%d duplicates=%d pending=%d false_interrupted=%d", len(set), calls, f.Duplicates, f.Pending, f.FalseInterrupted)
		require.Equal(t, len(set), calls, "one call per account")
		require.Zero(t, f.Pending)
	})

	t.Run("WeChat refuses connections for a while mid-run, and hangs on one call", func(t *testing.T) {
		set := apps[640:700]
		// And one account where WeChat hangs until the client gives up.
		hung := set[len(set)-1]
		sim.Script(hung, wechatsim.ActionCreate, wechatsim.Behavior{Hang: true})
		id := w.run(set)
		w.waitRun(id, func(r *jobs.Run) bool { return r.Done() >= 10 }, time.Minute)
		wx.Down()
		time.Sleep(3 * time.Second)
		require.NoError(t, wx.Up())
		r := w.waitRun(id, func(r *jobs.Run) bool { return r.Status == jobs.RunFinished }, 2*time.Minute)
		f := w.audit(id, set, nil)
		var notSent int
		require.NoError(t, w.pool.QueryRow(context.Background(), `SELECT count(*) FROM attempts WHERE run_id = $1 AND outcome = 'not_sent'`, id).Scan(&notSent))
		t.Logf("RELIABILITY wechat-refusing-3s-and-one-hanging: accounts=%d duplicates=%d pending=%d false_interrupted=%d not_sent_attempts_retried=%d outcomes=%v (unknown = calls cut off mid-answer)",
			f.Accounts, f.Duplicates, f.Pending, f.FalseInterrupted, notSent, r.Outcomes)
		// Calls cut off by the outage may have reached WeChat (the request
		// was written; the simulator may or may not have read it): unknown,
		// and not called again. Every other account is opened: calls refused
		// before anything was sent are retried.
		unknown := r.Outcomes[string(traffic.OutcomeUnknown)]
		require.Equal(t, len(set), r.Outcomes[string(traffic.OutcomeSuccess)]+unknown, "a short outage ends no account badly")
		require.Positive(t, notSent)
		var hungOutcome string
		require.NoError(t, w.pool.QueryRow(context.Background(), `SELECT outcome FROM run_items WHERE run_id = $1 AND appid = $2`, id, hung).Scan(&hungOutcome))
		require.Equal(t, "unknown", hungOutcome, "a call that timed out may have reached WeChat")
		require.Equal(t, 1, sim.Calls(wechatsim.ActionCreate, hung), "and it is not made again")
		rows, err := w.pool.Query(context.Background(), `SELECT appid FROM run_items WHERE run_id = $1 AND outcome = 'unknown'`, id)
		require.NoError(t, err)
		cut, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		for _, app := range cut {
			require.LessOrEqual(t, sim.Calls(wechatsim.ActionCreate, app), 1, "an unknown call is not made again: %s", app)
		}
		require.Zero(t, f.Duplicates)
		require.Zero(t, f.Pending)
		require.Zero(t, f.FalseInterrupted)
	})

	// The last scenarios run on one fresh serve process: it alone calls
	// WeChat (so its memory is the run's), with a short retry backoff, and
	// behind a trusted proxy so sign-ins can come from many addresses.
	w.stopAll()
	w.extra = []string{"RETRY_BACKOFF=" + burstBackoff.String(), "TRUSTED_PROXIES=127.0.0.1/32"}
	c := w.start("serve-c", "serve", "")

	t.Run("WeChat -202 and 1737 bursts", func(t *testing.T) { w.bursts(t, apps[701:745]) })
	t.Run("memory, threads and descriptors flat across runs and sign-in bursts", func(t *testing.T) { w.flat(t, c, apps[745:1045]) })
}

// burstBackoff is RETRY_BACKOFF in the burst scenario: -202 waits 25-75 ms
// first, 1737 150-450 ms, each further retry twice as long.
const burstBackoff = 50 * time.Millisecond

// poolMax is the database pool's connection bound (internal/postgres).
const poolMax = 20

// maxTries is the queue's bound on calls for one account in one run.
const maxTries = 5

// bursts answers accounts with runs of -202 and 1737 and checks each gets
// the right outcome once the burst passes, within the retry bound, with the
// backoff between calls (no spin) and without the run stalling.
func (w *world) bursts(t *testing.T, set []string) {
	type burst struct {
		ret, times int
	}
	plan := map[string]burst{}
	kinds := []burst{{-202, 1}, {-202, 4}, {1737, 1}, {1737, 3}, {1737, 4}}
	// Two accounts whose burst outlasts the bound: rate_limited after 5 calls.
	long := set[len(set)-2:]
	for i, id := range set[:len(set)-2] {
		plan[id] = kinds[i%len(kinds)]
	}
	for _, id := range long {
		plan[id] = burst{1737, maxTries + 3}
	}
	for id, b := range plan {
		w.sim.Script(id, wechatsim.ActionCreate, wechatsim.Behavior{Ret: b.ret, Times: b.times})
	}
	start := time.Now()
	id := w.run(set)
	r := w.waitRun(id, func(r *jobs.Run) bool { return r.Status == jobs.RunFinished }, 50*time.Second)
	took := time.Since(start)
	ctx := context.Background()

	calls := map[string][]time.Time{}
	for _, c := range w.sim.CallLog() {
		if c.Action == wechatsim.ActionCreate && c.At.After(start.Add(-time.Second)) {
			calls[c.AppID] = append(calls[c.AppID], c.At)
		}
	}
	rows, err := w.pool.Query(ctx, `SELECT appid, count(*) FROM attempts WHERE run_id = $1 AND status <> 'pending' GROUP BY appid`, id)
	require.NoError(t, err)
	audited := map[string]int{}
	for rows.Next() {
		var app string
		var n int
		require.NoError(t, rows.Scan(&app, &n))
		audited[app] = n
	}
	require.NoError(t, rows.Err())
	outcomes := map[string]string{}
	rows, err = w.pool.Query(ctx, `SELECT appid, outcome FROM run_items WHERE run_id = $1`, id)
	require.NoError(t, err)
	for rows.Next() {
		var app, o string
		require.NoError(t, rows.Scan(&app, &o))
		outcomes[app] = o
	}
	require.NoError(t, rows.Err())

	total, maxCalls := 0, 0
	minGapRatio := -1.0
	backoff := func(tries int, ret int) time.Duration {
		first := burstBackoff
		if ret == 1737 {
			first = 6 * burstBackoff
		}
		return first << (tries - 1)
	}
	for _, app := range set {
		b := plan[app]
		n := len(calls[app])
		total += n
		maxCalls = max(maxCalls, n)
		want, outcome := b.times+1, "success"
		if b.times >= maxTries {
			want, outcome = maxTries, "rate_limited"
		}
		require.Equal(t, want, n, "calls to %s (%d x %d)", app, b.times, b.ret)
		require.LessOrEqual(t, n, maxTries)
		require.Equal(t, n, audited[app], "one audited attempt per call: %s", app)
		require.Equal(t, outcome, outcomes[app], "%s after %d x %d", app, b.times, b.ret)
		// No spin: each call waited at least the lower end of its backoff.
		for k := 1; k < n; k++ {
			gap, least := calls[app][k].Sub(calls[app][k-1]), backoff(k, b.ret)/2
			require.GreaterOrEqual(t, gap, least, "%s: call %d came %s after the one before", app, k+1, gap)
			if ratio := float64(gap) / float64(least); minGapRatio < 0 || ratio < minGapRatio {
				minGapRatio = ratio
			}
		}
	}
	f := w.audit(id, set, nil)
	t.Logf("RELIABILITY wechat-bursts (-202 x1/x4, 1737 x1/x3/x4, and 1737 x%d on %d accounts; RETRY_BACKOFF=%s, at most %d calls per account): accounts=%d calls=%d max_calls_per_account=%d audited_attempts_equal_calls=true pending=%d unaccounted=%d shortest_gap_vs_least_backoff=%.2fx run_finished_in=%s outcomes=%v",
		maxTries+3, len(long), burstBackoff, maxTries, len(set), total, maxCalls, f.Pending, f.Unaccounted, minGapRatio, took.Round(10*time.Millisecond), r.Outcomes)
	require.Zero(t, f.Pending)
	require.Zero(t, f.Unaccounted)
	require.Zero(t, f.FalseInterrupted)
}

// procStats are what /proc says about one process.
type procStats struct {
	RSS, PeakRSS int64 // KiB
	Threads, FDs int
}

func (s procStats) String() string {
	return fmt.Sprintf("rss=%.1fMiB threads=%d fds=%d", float64(s.RSS)/1024, s.Threads, s.FDs)
}

func readStats(t *testing.T, pid int) procStats {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	var s procStats
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(fields[0], 10, 64)
		switch k {
		case "VmRSS":
			s.RSS = n
		case "VmHWM":
			s.PeakRSS = n
		case "Threads":
			s.Threads = int(n)
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	require.NoError(t, err)
	s.FDs = len(fds)
	return s
}

// resetPeak restarts the kernel's peak-RSS count (VmHWM) of pid.
func resetPeak(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}

// signInBurst signs in n clients at once, each from its own address (the
// console trusts the loopback proxy): a third as the operator, the rest as
// unknown users (which hash a dummy password all the same). It returns the
// count of each status.
func (w *world) signInBurst(t *testing.T, p *proc, n, round int) map[int]int {
	type client struct {
		hc       *http.Client
		ip, csrf string
	}
	clients := make([]client, n)
	for i := range clients {
		jar, _ := cookiejar.New(nil)
		c := client{hc: &http.Client{Jar: jar, Timeout: 60 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
			ip: fmt.Sprintf("10.%d.%d.%d", 20+round, i/200, i%200+1)}
		req, _ := http.NewRequest(http.MethodGet, "http://"+p.addr+"/login", nil)
		req.Header.Set("X-Forwarded-For", c.ip)
		resp, err := c.hc.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		c.csrf = csrfOf(t, string(body))
		clients[i] = c
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		ready    = make(chan struct{})
	)
	for i, c := range clients {
		user, pass := fmt.Sprintf("nobody-%d-%d", round, i), "not-the-password"
		if i%3 == 0 {
			user, pass = "operator", password
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			form := url.Values{"username": {user}, "password": {pass}, "_csrf": {c.csrf}}
			req, _ := http.NewRequest(http.MethodPost, "http://"+p.addr+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", c.ip)
			<-ready
			status := 0
			if resp, err := c.hc.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				status = resp.StatusCode
			}
			mu.Lock()
			statuses[status]++
			mu.Unlock()
		}()
	}
	close(ready)
	wg.Wait()
	// The clients leave, as browsers do: their idle connections close.
	for _, c := range clients {
		c.hc.CloseIdleConnections()
	}
	return statuses
}

// flat measures the serve process that does every call across runs of the
// same accounts and across bursts of sign-ins: what a long run and a busy
// morning leave behind must not grow from one round to the next.
func (w *world) flat(t *testing.T, p *proc, set []string) {
	pid := p.cmd.Process.Pid
	ctx := context.Background()
	// Database connections of every client (the serve process and this
	// test's pool): the pool grows during a burst, up to its bound.
	dbConns := func() int {
		var n int
		require.NoError(t, w.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'`).Scan(&n))
		return n
	}
	runOnce := func() {
		run, err := w.queue.Runs.Create(ctx, nil, traffic.ActionCheck, set, "reliability: flat")
		require.NoError(t, err)
		w.waitRun(run.ID, func(r *jobs.Run) bool { return r.Status == jobs.RunFinished }, 50*time.Second)
		var called int
		require.NoError(t, w.pool.QueryRow(ctx, `SELECT count(DISTINCT appid) FROM attempts WHERE run_id = $1 AND status = 'completed'`, run.ID).Scan(&called))
		require.Equal(t, len(set), called, "every account of the run was called")
	}
	// settled reads the process once the descriptors of connections that
	// clients closed have been released (or after 10 s).
	settled := func(limit int) procStats {
		var s procStats
		deadline := time.Now().Add(10 * time.Second)
		for {
			if s = readStats(t, pid); s.FDs <= limit || time.Now().After(deadline) {
				return s
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// The first run and burst warm the process up (pools, caches, templates).
	runOnce()
	afterRun1 := readStats(t, pid)
	runOnce()
	afterRun2 := readStats(t, pid)
	runOnce()
	afterRun3 := readStats(t, pid)
	t.Logf("RELIABILITY flat-runs (serve pid %d, the only process calling WeChat; eligibility-check runs over the same %d accounts): after_run1 %s; after_run2 %s; after_run3 %s",
		pid, len(set), afterRun1, afterRun2, afterRun3)

	before := readStats(t, pid)
	connsBefore := dbConns()
	peakReset := resetPeak(pid)
	s1 := w.signInBurst(t, p, 24, 1)
	burst1 := settled(before.FDs + poolMax)
	s2 := w.signInBurst(t, p, 24, 2)
	burst2 := settled(before.FDs + poolMax)
	peak := "unknown (clear_refs not writable)"
	if peakReset {
		peak = fmt.Sprintf("%.1fMiB", float64(max(burst1.PeakRSS, burst2.PeakRSS))/1024)
	}
	runOnce()
	afterAll := settled(before.FDs + poolMax)
	connsAfter := dbConns()
	t.Logf("RELIABILITY flat-sign-in-bursts (2 x 24 concurrent sign-ins, each from its own address; hashing budget %d MiB, 64 MiB per argon2id hash): before %s; after_burst1 %s statuses=%v; after_burst2 %s statuses=%v; peak_rss_during_bursts=%s; after_another_run %s; database_connections %d -> %d (pool of at most %d)",
		core.HashMemoryBudget>>20, before, burst1, s1, burst2, s2, peak, afterAll, connsBefore, connsAfter, poolMax)

	const mib = 1024
	// Runs: the second and third leave the process as the first did.
	require.Less(t, afterRun3.RSS-afterRun1.RSS, int64(48*mib), "RSS grew across runs")
	require.LessOrEqual(t, afterRun3.Threads-afterRun1.Threads, 8, "threads grew across runs")
	require.LessOrEqual(t, afterRun3.FDs-afterRun1.FDs, 8, "descriptors grew across runs")
	// Sign-ins: no server error; the hashing bound holds the peak near its
	// budget: the hashes in flight take at most HashMemoryBudget, and the
	// garbage collector lets the heap reach about twice its live size before
	// it collects (24 argon2id hashes at once would take 1.5 GiB live). The
	// runtime keeps the freed pages a while, so RSS stays near the peak after
	// a burst, and every burst stays under the same ceiling. How near the
	// ceiling a burst comes depends on how many of its sign-ins hashed at
	// once, which the machine's load decides (4 hashes in one burst and 9 in
	// the next were seen, 177 MiB apart), so the bursts are not compared
	// with each other: memory kept per sign-in (64 MiB a hash) would pass
	// the ceiling within a burst or two of 24.
	for _, s := range []map[int]int{s1, s2} {
		for status := range s {
			require.Contains(t, []int{http.StatusSeeOther, http.StatusUnauthorized, http.StatusUnprocessableEntity, http.StatusTooManyRequests, http.StatusOK}, status, "sign-in statuses %v", s)
		}
	}
	require.Positive(t, s1[http.StatusSeeOther], "some operators signed in: %v", s1)
	// The ceiling: the hashes' budget, twice for the collector's headroom,
	// and 128 MiB for everything else a burst touches.
	ceiling := int64(2*core.HashMemoryBudget>>10 + 128*mib)
	if peakReset {
		require.Less(t, max(burst1.PeakRSS, burst2.PeakRSS)-before.RSS, ceiling, "peak RSS of a sign-in burst")
	}
	require.Less(t, burst1.RSS-before.RSS, ceiling, "RSS after a sign-in burst")
	require.Less(t, burst2.RSS-before.RSS, ceiling, "RSS after a second sign-in burst")
	require.Less(t, afterAll.RSS-before.RSS, ceiling, "RSS after the bursts and another run")
	require.LessOrEqual(t, afterAll.Threads-afterRun1.Threads, 12, "threads")
	// Descriptors: the database pool opens and closes connections up to its
	// bound as bursts come and go (between bursts it may shrink), so every
	// reading stays within the pool's bound of the start; a descriptor kept
	// per sign-in would pass it within one burst of 24.
	for name, s := range map[string]procStats{"after a burst": burst1, "after a second burst": burst2, "after the bursts and another run": afterAll} {
		require.LessOrEqual(t, s.FDs-before.FDs, poolMax+4, "descriptors %s", name)
	}
}

// stopAll stops every running process gracefully (SIGTERM), as a deploy does.
func (w *world) stopAll() {
	w.mu.Lock()
	procs := slices.Clone(w.procs)
	w.mu.Unlock()
	for _, p := range procs {
		select {
		case <-p.done:
			continue
		default:
		}
		require.NoError(w.t, p.cmd.Process.Signal(syscall.SIGTERM))
		select {
		case <-p.done:
		case <-time.After(45 * time.Second):
			w.t.Fatalf("%s did not stop on SIGTERM; log:\n%s", p.name, w.logTail(p.name))
		}
	}
}
