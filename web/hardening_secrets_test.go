package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/platform"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// pgDump dumps the test database as SQL text with the installed server's pg_dump.
func pgDump(t *testing.T, e *webtest.Env) string {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
	require.NotEmpty(t, bins, "pg_dump comes with the PostgreSQL server the tests install")
	out := filepath.Join(t.TempDir(), "dump.sql")
	cmd := exec.Command(bins[len(bins)-1], "--no-owner", "--file", out, e.Vars["DATABASE_URL"])
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, string(msg))
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	return string(b)
}

// The simulator marks everything it issues with a prefix: tickets, tokens,
// pre-auth and authorization codes, refresh tokens.
var simSecretPrefixes = []string{"ticket@@@", "componenttoken", "preauthcode@@@", "queryauthcode@@@", "authorizertoken", "refreshtoken@@@"}

func TestDatabaseDumpHoldsNoSecretInClear(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	ctx := context.Background()
	demo := wechatsim.DemoAuthorizers()[:6]
	e.Sim.AddDemoAccounts(demo)
	require.NoError(t, e.Sim.PushTicket(ctx))
	admin, _ := e.Login(core.RoleAdmin)
	require.Equal(t, http.StatusSeeOther, admin.PostForm("/platform/sync", nil).StatusCode)
	require.Equal(t, "Sync finished.", admin.Get("/platform").Text(".flash"))

	// A merchant authorizes a new Mini Program: a pre-auth code, an authorized
	// push with its authorization code, and a refresh token from query_auth.
	r := admin.Do(authorizationPageRequest(t, e, admin))
	require.Equal(t, http.StatusFound, r.StatusCode, r.Body)
	back, err := url.Parse(r.Header.Get("Location"))
	require.NoError(t, err)
	code := back.Query().Get("auth_code")
	admin.Get(back.RequestURI())
	require.Eventually(t, func() bool {
		return countRows(t, e, "SELECT count(*) FROM wechat_events WHERE info_type = 'authorized'") == 1
	}, 30e9, 50e6, "the authorized push arrived")

	// Some checks and opens, through the stored tokens.
	operator, _ := e.Login(core.RoleOperator)
	for _, d := range demo[:3] {
		operator.PostForm("/apps/"+d.AppID+"/check", nil)
		operator.PostForm("/apps/"+d.AppID+"/open", url.Values{"confirmed": {"1"}})
	}
	require.GreaterOrEqual(t, countRows(t, e, "SELECT count(*) FROM attempts WHERE status = 'completed'"), 6)

	dump := pgDump(t, e)
	require.Contains(t, dump, demo[0].AppID, "the dump has the data")
	secrets := []string{code, e.Sim.CurrentTicket(), webtest.AppSecret, webtest.AESKey, webtest.ComponentToken, e.Vars["SECRET_KEY"]}
	for _, d := range demo {
		a, ok := e.Sim.Authorizer(d.AppID)
		require.True(t, ok)
		require.NotEmpty(t, a.RefreshToken)
		secrets = append(secrets, a.RefreshToken)
	}
	for _, s := range secrets {
		require.NotEmpty(t, s)
		require.False(t, strings.Contains(dump, s), "the dump holds %q in clear", s)
	}
	for _, p := range simSecretPrefixes {
		if i := strings.Index(dump, p); i >= 0 {
			t.Errorf("the dump holds something the simulator issued in clear: %q", dump[max(0, i-200):min(len(dump), i+80)])
		}
	}
	// And it all still works from the encrypted copies.
	require.Equal(t, http.StatusSeeOther, admin.PostForm("/platform/sync", nil).StatusCode)
	require.Equal(t, "Sync finished.", admin.Get("/platform").Text(".flash"))
}

func TestSecretsStoredByOlderVersionsAreSealedAtStart(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	ctx := context.Background()
	_, err := e.App.Pool.Exec(ctx, `INSERT INTO platforms (component_appid, verify_ticket, verify_ticket_at) VALUES ($1, 'ticket@@@legacy', now())
		ON CONFLICT (component_appid) DO UPDATE SET verify_ticket = 'ticket@@@legacy', verify_ticket_at = now()`, webtest.ComponentAppID)
	require.NoError(t, err)
	require.NoError(t, e.App.PlatformStore.SealStoredSecrets(ctx))
	require.Equal(t, 0, countRows(t, e, "SELECT count(*) FROM platforms WHERE verify_ticket <> ''"))
	// The sealed ticket is the one used for the component token.
	_, err = e.App.PlatformStore.RefreshComponentToken(ctx, webtest.ComponentAppID, func(_ platform.Token, ticket string) (platform.Token, bool, error) {
		require.Equal(t, "ticket@@@legacy", ticket)
		return platform.Token{}, false, nil
	})
	require.NoError(t, err)
	require.False(t, strings.Contains(pgDump(t, e), "ticket@@@legacy"), "the legacy ticket is no longer in clear")
}

func ticketXMLAt(ticket string, at time.Time) []byte {
	return fmt.Appendf(nil, "<xml><AppId><![CDATA[%s]]></AppId><CreateTime>%d</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket><![CDATA[%s]]></ComponentVerifyTicket></xml>",
		webtest.ComponentAppID, at.Unix(), ticket)
}

func TestFutureDatedTicketDoesNotPinItself(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	ctx := context.Background()
	cr := sealer(t, webtest.ComponentAppID, webtest.AESKey)
	push := func(ticket string, at time.Time, nonce string) int {
		q, body, err := cr.Seal(ticketXMLAt(ticket, at), strconv.FormatInt(time.Now().Unix(), 10), nonce)
		require.NoError(t, err)
		status, _ := rawPush(t, e, q, body)
		return status
	}
	stored := func() string {
		var got string
		_, err := e.App.PlatformStore.RefreshComponentToken(ctx, webtest.ComponentAppID, func(_ platform.Token, ticket string) (platform.Token, bool, error) {
			got = ticket
			return platform.Token{}, false, nil
		})
		require.NoError(t, err)
		return got
	}
	now := time.Now()
	require.Equal(t, http.StatusBadRequest, push("ticket@@@far-future", now.Add(365*24*time.Hour), "a"), "a CreateTime far from now is refused")
	require.Equal(t, http.StatusBadRequest, push("ticket@@@far-past", now.Add(-2*time.Hour), "b"), "so is a replay of an old push")
	require.Equal(t, 0, countRows(t, e, "SELECT count(*) FROM wechat_events"))

	require.Equal(t, http.StatusOK, push("ticket@@@ahead", now.Add(9*time.Minute), "c"), "a clock a little ahead is tolerated")
	require.Equal(t, "ticket@@@ahead", stored())
	require.Equal(t, http.StatusOK, push("ticket@@@next", now, "d"))
	require.Equal(t, "ticket@@@next", stored(), "the ticket that arrived last wins, whatever the earlier one claimed")
}

func TestAuthorizationCallbackNeedsTheStateOfItsStarter(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	require.NoError(t, e.Sim.PushTicket(context.Background()))
	starter, _ := e.Login(core.RoleAdmin)
	e.CreateStaff("intruder", core.RoleAdmin)
	intruder := e.Client()
	intruder.LoginAs("intruder", webtest.Password)

	// The merchant approves on WeChat's page; WeChat sends the browser back.
	approve := func(c *webtest.Client) *url.URL {
		r := c.Do(authorizationPageRequest(t, e, c))
		require.Equal(t, http.StatusFound, r.StatusCode, r.Body)
		back, err := url.Parse(r.Header.Get("Location"))
		require.NoError(t, err)
		require.NotEmpty(t, back.Query().Get("state"))
		return back
	}
	refused := func(c *webtest.Client, path, why string) {
		r := c.Get(path)
		require.Equal(t, http.StatusSeeOther, r.StatusCode, why)
		require.Contains(t, c.Get("/platform").Text(".flash.error"), "not started from this session", why)
	}
	back := approve(starter)
	q := back.Query()
	code := q.Get("auth_code")

	// Another staff member's session, with or without the state, is refused.
	refused(intruder, back.RequestURI(), "a foreign session")
	// A missing or wrong state is refused in the starter's own session.
	refused(starter, "/platform/authorized?auth_code="+url.QueryEscape(code), "no state")
	require.Equal(t, 0, countRows(t, e, "SELECT count(*) FROM authorizers WHERE nick_name LIKE '新授权小程序%' AND refresh_token_enc IS NOT NULL"))

	// The state is single use: the refusal above consumed it, so start again.
	back = approve(starter)
	q = back.Query()
	q.Set("state", "forged-state-forged-state-forged")
	refused(starter, "/platform/authorized?"+q.Encode(), "a forged state")
	back = approve(starter)
	r := starter.Get(back.RequestURI())
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	require.Equal(t, "The account was authorized and added.", starter.Get("/platform").Text(".flash"))
}

// authorizationPageRequest asks for an authorization link as staff do, and
// returns the request the browser makes when the link on the page is
// followed (with the console's origin as Referer, as WeChat requires).
func authorizationPageRequest(t *testing.T, e *webtest.Env, c *webtest.Client) *http.Request {
	t.Helper()
	r := c.PostForm("/platform/authorize", nil)
	require.Equal(t, http.StatusOK, r.StatusCode)
	link := r.Doc.Find("a#authorize-link").AttrOr("href", "")
	require.NotEmpty(t, link, "the page links to WeChat's authorization page")
	req, err := http.NewRequest(http.MethodGet, link, nil)
	require.NoError(t, err)
	req.Header.Set("Referer", e.URL+"/")
	return req
}
