package traffic_test

import (
	"context"
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
	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const component = "wxtestcomponent0001"

// world is one database and one simulator that several services share.
type world struct {
	t    *testing.T
	dsn  string
	sim  *wechatsim.Sim
	wc   *wechat.Client
	pool *pgxpool.Pool
}

func newWorld(t *testing.T, dsn string, apps ...string) *world {
	sim, err := wechatsim.New(wechatsim.Config{ComponentAppID: component, ComponentAppSecret: "secret", Token: "tok", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"})
	require.NoError(t, err)
	require.NoError(t, sim.PushTicket(context.Background()))
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	w := &world{t: t, dsn: dsn, sim: sim, wc: wechat.NewClient(wechat.Config{BaseURL: srv.URL, ComponentAppID: component, ComponentAppSecret: "secret"})}
	w.pool = w.openPool()
	ctx := context.Background()
	_, err = w.pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ($1)`, component)
	require.NoError(t, err)
	for _, id := range apps {
		sim.AddAuthorizer(wechatsim.Authorizer{AppID: id, NickName: "Mini " + id, MiniProgram: true, AccountStatus: 1})
		_, err = w.pool.Exec(ctx, `INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name) VALUES ($1, $2, true, $1)`, id, component)
		require.NoError(t, err)
	}
	return w
}

func (w *world) openPool() *pgxpool.Pool {
	p, err := postgres.Open(context.Background(), w.dsn)
	require.NoError(w.t, err)
	w.t.Cleanup(p.Close)
	return p
}

// service is one "process": its own pool, instance id and liveness.
func (w *world) service(name string, wrap func(traffic.Store) traffic.Store) *traffic.Service {
	pool := w.openPool()
	live, err := postgres.StartLiveness(context.Background(), pool, name, 0, nil)
	require.NoError(w.t, err)
	w.t.Cleanup(live.Stop)
	var store traffic.Store = &postgres.TrafficStore{Pool: pool}
	if wrap != nil {
		store = wrap(store)
	}
	tokens := &wechatsim.Tokens{Sim: w.sim, Client: w.wc}
	return &traffic.Service{Store: store, WeChat: w.wc, Tokens: tokens, Component: tokens, InstanceID: name,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), CompleteTimeout: 2 * time.Second}
}

// operator is nil: attempts without staff are those of scheduled runs.
var operator *core.Staff

func (w *world) row(id int64) (status, outcome string) {
	require.NoError(w.t, w.pool.QueryRow(context.Background(), `SELECT status, outcome FROM attempts WHERE id = $1`, id).Scan(&status, &outcome))
	return
}

// TestOutcomeLandsAfterTheDatabaseComesBack stops the real server while
// WeChat is answering: the outcome is known, so recording it is retried
// until the server is back, and the row says what WeChat said.
func TestOutcomeLandsAfterTheDatabaseComesBack(t *testing.T) {
	if testing.Short() {
		t.Skip("stops and starts a PostgreSQL cluster of its own")
	}
	t.Parallel()
	cluster, dsn := pgtest.Restartable(t)
	const app = "wx00000000000c0001"
	w := newWorld(t, dsn, app)
	// Warm the token so the only database work after the call is the record.
	_, err := (&wechatsim.Tokens{Sim: w.sim, Client: w.wc}).AuthorizerAccessToken(context.Background(), app)
	require.NoError(t, err)
	s := w.service("instance-a", nil)
	s.CompleteBackoff, s.CompleteBackoffMax = 50*time.Millisecond, 200*time.Millisecond
	release := make(chan struct{})
	type result struct {
		a   *traffic.Attempt
		err error
	}
	done := make(chan result, 1)
	hold := &holdingWeChat{WeChat: w.wc, release: release, called: make(chan struct{})}
	s.WeChat = hold
	go func() {
		a, _, err := s.Attempt(context.Background(), traffic.AttemptRequest{AppID: app, Action: traffic.ActionOpen, Staff: operator})
		done <- result{a, err}
	}()
	select {
	case <-hold.called:
	case r := <-done:
		t.Fatalf("no call: %v", r.err)
	}
	require.NoError(t, cluster.Down(context.Background()))
	close(release) // WeChat answers while the database is away
	// Recording fails for a while: the attempt is still being recorded.
	select {
	case r := <-done:
		t.Fatalf("the attempt ended while the database was down: %+v %v", r.a, r.err)
	case <-time.After(time.Second):
	}
	require.NoError(t, cluster.Up(context.Background()))
	var r result
	select {
	case r = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the outcome was not recorded after the database came back")
	}
	require.NoError(t, r.err)
	require.Equal(t, traffic.OutcomeSuccess, r.a.Outcome)
	status, outcome := w.row(r.a.ID)
	require.Equal(t, "completed", status)
	require.Equal(t, "success", outcome)
	require.True(t, w.sim.Opened(app))
}

// holdingWeChat lets the test decide when WeChat's answer comes back.
type holdingWeChat struct {
	traffic.WeChat
	release chan struct{}
	called  chan struct{}
	once    sync.Once
}

func (h *holdingWeChat) CreatePublisher(ctx context.Context, tok string) (wechat.PublisherResult, error) {
	r, err := h.WeChat.CreatePublisher(ctx, tok)
	h.once.Do(func() { close(h.called) })
	<-h.release
	return r, err
}

// staleFirstRead lets one service read an account, then holds it until
// another service has opened the account: the race of two instances'
// near-simultaneous clicks, made certain.
type staleFirstRead struct {
	traffic.Store
	mu      sync.Mutex
	seen    map[string]bool
	read    chan struct{}
	proceed chan struct{}
}

func (s *staleFirstRead) Account(ctx context.Context, appID string) (*traffic.Account, error) {
	a, err := s.Store.Account(ctx, appID)
	s.mu.Lock()
	first := !s.seen[appID]
	s.seen[appID] = true
	s.mu.Unlock()
	if first {
		close(s.read)
		<-s.proceed
	}
	return a, err
}

// TestOpenAfterTheClaimRereadsTheState: two instances click Open on the
// same account at nearly the same moment; the second wins the in-flight
// claim only after the first has opened it, and must not call WeChat again.
func TestOpenAfterTheClaimRereadsTheState(t *testing.T) {
	t.Parallel()
	const app = "wx00000000000c0002"
	w := newWorld(t, pgtest.URL(t), app)
	stale := &staleFirstRead{seen: map[string]bool{}, read: make(chan struct{}), proceed: make(chan struct{})}
	a := w.service("instance-a", nil)
	b := w.service("instance-b", func(s traffic.Store) traffic.Store { stale.Store = s; return stale })
	ctx := context.Background()
	done := make(chan *traffic.Attempt, 1)
	go func() {
		at, _, err := b.Attempt(ctx, traffic.AttemptRequest{AppID: app, Action: traffic.ActionOpen, Staff: operator})
		require.NoError(t, err)
		done <- at
	}()
	<-stale.read // b has read "never tried"
	first, _, err := a.Attempt(ctx, traffic.AttemptRequest{AppID: app, Action: traffic.ActionOpen, Staff: operator})
	require.NoError(t, err)
	require.Equal(t, traffic.OutcomeSuccess, first.Outcome)
	close(stale.proceed)
	second := <-done
	require.Equal(t, 1, w.sim.Calls(wechatsim.ActionCreate, app), "one call for one account")
	require.Equal(t, traffic.OutcomeAlreadyDone, second.Outcome)
	status, outcome := w.row(second.ID)
	require.Equal(t, "completed", status)
	require.Equal(t, "already_done", outcome)
}

// TestAttemptReturnsTheAccountItLeft: the service returns the account with
// the state the attempt gave it, the same a fresh read shows, so a caller
// (the row an htmx click swaps) need not read the account again.
func TestAttemptReturnsTheAccountItLeft(t *testing.T) {
	t.Parallel()
	const app = "wx00000000000c0003"
	w := newWorld(t, pgtest.URL(t), app)
	s := w.service("instance-a", nil)
	store := &postgres.TrafficStore{Pool: w.pool}
	ctx := context.Background()
	for _, step := range []struct {
		action traffic.Action
		want   traffic.State
	}{{traffic.ActionCheck, traffic.StateEligible}, {traffic.ActionOpen, traffic.StateOpen}, {traffic.ActionCheck, traffic.StateOpen}} {
		at, acct, err := s.Attempt(ctx, traffic.AttemptRequest{AppID: app, Action: step.action, Staff: operator})
		require.NoError(t, err)
		require.NotNil(t, acct)
		require.Equal(t, step.want, acct.State, step.action)
		read, err := store.Account(ctx, app)
		require.NoError(t, err)
		require.Equal(t, read.State, acct.State, step.action)
		require.Equal(t, at.ID, *acct.LastAttemptID)
		require.Equal(t, read.LastOutcome, acct.LastOutcome)
		require.Equal(t, read.NickName, acct.NickName)
	}
}
