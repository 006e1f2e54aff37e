package web_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// trafficEnv is a console whose token source is the simulator.
type trafficEnv struct {
	*webtest.Env
	tokens *wechatsim.Tokens
	n      int
	mu     sync.Mutex
}

func newTrafficEnv(t testing.TB, opts ...webtest.Options) *trafficEnv {
	var opt webtest.Options
	if len(opts) > 0 {
		opt = opts[0]
	}
	// The tokens read the environment only when asked, once it is built.
	st := &wechatsim.Tokens{}
	opt.Tokens = st
	e := webtest.New(t, opt)
	st.Sim, st.Client = e.Sim, e.App.WeChat
	_, err := e.App.Pool.Exec(context.Background(), "INSERT INTO platforms (component_appid) VALUES ($1) ON CONFLICT DO NOTHING", webtest.ComponentAppID)
	require.NoError(t, err)
	return &trafficEnv{Env: e, tokens: st}
}

// account describes a test account.
type account struct {
	AppID     string
	Name      string
	Principal string
	Official  bool
	Revoked   bool
	Status    int
}

// addAccount registers the account with the simulator and stores it as a sync would.
func (e *trafficEnv) addAccount(t testing.TB, a account) string {
	t.Helper()
	e.mu.Lock()
	e.n++
	n := e.n
	e.mu.Unlock()
	if a.AppID == "" {
		a.AppID = appIDFor(t, n)
	}
	if a.Name == "" {
		a.Name = "小程序 " + a.AppID[len(a.AppID)-4:]
	}
	if a.Principal == "" {
		a.Principal = "测试公司"
	}
	if a.Status == 0 {
		a.Status = 1
	}
	sa := wechatsim.Authorizer{AppID: a.AppID, NickName: a.Name, PrincipalName: a.Principal, MiniProgram: !a.Official, AccountStatus: a.Status}
	e.Sim.AddAuthorizer(sa)
	var revoked *time.Time
	if a.Revoked {
		now := time.Now()
		revoked = &now
	}
	_, err := e.App.Pool.Exec(context.Background(), `INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, principal_name, account_status, revoked_at, revoked_reason, authorized_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())`, a.AppID, webtest.ComponentAppID, !a.Official, a.Name, a.Principal, a.Status, revoked, map[bool]string{true: "unauthorized event"}[a.Revoked])
	require.NoError(t, err)
	return a.AppID
}

// appIDFor makes distinct well-formed appids per test.
func appIDFor(t testing.TB, n int) string {
	h := uint64(14695981039346656037)
	for _, c := range t.Name() {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return "wx" + hex16(h&0xffffffffffff0000|uint64(n&0xffff))
}

func hex16(v uint64) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 16)
	for i := 15; i >= 0; i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
	return string(b)
}

// attemptRow reads an audit row straight from the table.
func (e *trafficEnv) attemptRow(t *testing.T, id int64) *traffic.Attempt {
	t.Helper()
	a, err := e.App.Attempts.Attempt(context.Background(), id)
	require.NoError(t, err)
	return a
}

// attempts lists every audit row of an account, newest first.
func (e *trafficEnv) attempts(t *testing.T, appID string) []*traffic.Attempt {
	t.Helper()
	var out []*traffic.Attempt
	rows, err := e.App.Pool.Query(context.Background(), "SELECT id FROM attempts WHERE appid = $1 ORDER BY id DESC", appID)
	require.NoError(t, err)
	var ids []int64
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		out = append(out, e.attemptRow(t, id))
	}
	return out
}

type goquerySel = goquery.Selection
