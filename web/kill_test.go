package web_test

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// syncAccount lets the account reach the console as in production: the
// simulator pushes a ticket, the platform syncs, the refresh token is stored
// encrypted, and the token manager uses it.
func syncAccount(t *testing.T, e *webtest.Env, a wechatsim.Authorizer) {
	t.Helper()
	ctx := context.Background()
	e.Sim.AddAuthorizer(a)
	require.NoError(t, e.Sim.PushTicket(ctx))
	_, err := e.App.Platform.Sync(ctx)
	require.NoError(t, err)
}

func TestOpenWithTheRealTokenManager(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	app := "wx00000000000a0001"
	syncAccount(t, e, wechatsim.Authorizer{AppID: app, NickName: "鲜果日记", PrincipalName: "深圳鲜果科技有限公司", MiniProgram: true})
	c, _ := e.Login(core.RoleOperator)
	r := c.Get("/?q=" + url.QueryEscape("鲜果"))
	require.Equal(t, 1, r.Doc.Find("#app-"+app).Length())

	r = c.HTMXPost("/apps/"+app+"/open", confirmed)
	require.Equal(t, http.StatusOK, r.StatusCode, r.Body)
	require.Equal(t, "success", r.Doc.Find(".result").AttrOr("data-outcome", ""))
	require.True(t, e.Sim.Opened(app))

	// Tokens expire at WeChat: the attempt refreshes once and retries once.
	e.Sim.ExpireTokens()
	r = c.HTMXPost("/apps/"+app+"/open", confirmed)
	require.Equal(t, "already_done", r.Doc.Find(".result").AttrOr("data-outcome", ""), r.Body)
}

// TestKilledProcessLeavesInterruptedRows runs the real binary, kills it with
// SIGKILL while WeChat hangs on its call, and starts it again.
func TestKilledProcessLeavesInterruptedRows(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	e := webtest.New(t)
	app := "wx00000000000b0001"
	syncAccount(t, e, wechatsim.Authorizer{AppID: app, NickName: "慢速相机", MiniProgram: true})
	e.Sim.Script(app, wechatsim.ActionCreate, wechatsim.Behavior{Hang: true})
	st := e.CreateStaff("killer-operator", core.RoleOperator)

	bin := filepath.Join(t.TempDir(), "trafficmaster")
	build := exec.Command("go", "build", "-o", bin, "github.com/trafficmaster/trafficmaster/cmd/trafficmaster")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	start := func() (*exec.Cmd, string) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		cmd := exec.Command(bin, "serve")
		// A short lease: the killed process is known dead two seconds after its death.
		cmd.Env = append(os.Environ(), "ADDR="+addr, "PUBLIC_URL=http://"+addr, "INSTANCE_LEASE=2s")
		for k, v := range e.Vars {
			if k != "PUBLIC_URL" {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
		}
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
		require.Eventually(t, func() bool {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}, 30*time.Second, 50*time.Millisecond)
		return cmd, "http://" + addr
	}
	cmd, base := start()

	// Sign in to the subprocess like a browser.
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// The CSRF token is in each page's csrf-token meta tag, bound to the session.
	pageToken := func(path string) string {
		resp, err := hc.Get(base + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		require.NoError(t, err)
		return doc.Find("meta[name=csrf-token]").AttrOr("content", "")
	}
	resp, err := hc.PostForm(base+"/login", url.Values{"username": {st.Username}, "password": {webtest.Password}, "_csrf": {pageToken("/login")}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	csrf := pageToken("/")

	// Click "Open traffic master"; WeChat hangs, so the request never returns.
	go func() {
		req, _ := http.NewRequest(http.MethodPost, base+"/apps/"+app+"/open", strings.NewReader("confirmed=1"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		req.Header.Set("X-CSRF-Token", csrf)
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	var id int64
	require.Eventually(t, func() bool {
		err := e.App.Pool.QueryRow(context.Background(), "SELECT id FROM attempts WHERE appid = $1 AND status = 'pending'", app).Scan(&id)
		return err == nil && e.Sim.Calls(wechatsim.ActionCreate, app) == 1
	}, 20*time.Second, 20*time.Millisecond, "the pending row is committed before WeChat is called")

	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_, _ = cmd.Process.Wait()
	require.Equal(t, traffic.AttemptPending, (&trafficEnv{Env: e}).attemptRow(t, id).Status, "a killed process completes nothing")

	// The next start marks the orphan interrupted once the dead process's
	// lease has run out.
	start()
	var a *traffic.Attempt
	require.Eventually(t, func() bool {
		a = (&trafficEnv{Env: e}).attemptRow(t, id)
		return a.Status != traffic.AttemptPending
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, traffic.AttemptInterrupted, a.Status)
	require.Equal(t, traffic.OutcomeInterrupted, a.Outcome)
	require.NotNil(t, a.FinishedAt)
	require.Equal(t, st.ID, *a.StaffID)
	require.Equal(t, 1, e.Sim.Calls(wechatsim.ActionCreate, app), "nothing is called again by accident")
}
