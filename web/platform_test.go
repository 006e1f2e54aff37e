package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

func countRows(t *testing.T, e *webtest.Env, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, e.App.Pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// rawPush posts a push body with its query, as WeChat does, and returns status and reply.
func rawPush(t *testing.T, e *webtest.Env, q url.Values, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(e.URL+"/wechat/events?"+q.Encode(), "text/xml", strings.NewReader(string(body)))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func ticketXML(appID, ticket string) []byte {
	return fmt.Appendf(nil, "<xml><AppId><![CDATA[%s]]></AppId><CreateTime>%d</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket><![CDATA[%s]]></ComponentVerifyTicket></xml>",
		appID, time.Now().Unix(), ticket)
}

func sealer(t *testing.T, appID, aesKey string) *wechat.Crypter {
	t.Helper()
	cr, err := wechat.NewCrypter(webtest.ComponentToken, aesKey, "", appID)
	require.NoError(t, err)
	return cr
}

func TestPushStoredBeforeSuccess(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	require.NoError(t, e.Sim.PushTicket(context.Background()), "the simulator got `success`")
	require.Equal(t, 1, countRows(t, e, "SELECT count(*) FROM wechat_events WHERE info_type = 'component_verify_ticket' AND decoded->>'has_ticket' = 'true' AND raw_body LIKE '%<Encrypt>%'"))
	// The ticket is stored encrypted, never in clear.
	require.Equal(t, 1, countRows(t, e, "SELECT count(*) FROM platforms WHERE verify_ticket_enc IS NOT NULL AND verify_ticket = ''"))
	require.Equal(t, 0, countRows(t, e, "SELECT count(*) FROM platforms WHERE position($1 in verify_ticket_enc::text) > 0", e.Sim.CurrentTicket()))
}

func TestPushRetryStoredOnce(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	cr := sealer(t, webtest.ComponentAppID, webtest.AESKey)
	xml := ticketXML(webtest.ComponentAppID, "ticket@@@retry")
	for i := range 3 {
		// Each retry is encrypted anew, as WeChat does.
		q, body, err := cr.Seal(xml, strconv.FormatInt(time.Now().Unix(), 10), "n"+strconv.Itoa(i))
		require.NoError(t, err)
		status, reply := rawPush(t, e, q, body)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "success", reply)
	}
	require.Equal(t, 1, countRows(t, e, "SELECT count(*) FROM wechat_events"))
	admin, _ := e.Login(core.RoleAdmin)
	require.Equal(t, "1", admin.Get("/platform").Text("#count-events b"), "the platform page counts the push once")
}

func TestPushRejectedStoresNothing(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	good := sealer(t, webtest.ComponentAppID, webtest.AESKey)
	q, body, err := good.Seal(ticketXML(webtest.ComponentAppID, "ticket@@@x"), "1700000000", "nonce")
	require.NoError(t, err)

	badSig := url.Values{}
	for k, v := range q {
		badSig[k] = v
	}
	badSig.Set("msg_signature", strings.Repeat("0", 40))
	other := sealer(t, "wxsomeoneelse00001", webtest.AESKey)
	oq, obody, err := other.Seal(ticketXML("wxsomeoneelse00001", "ticket@@@y"), "1700000000", "nonce")
	require.NoError(t, err)
	garbage := []byte("<xml><Encrypt>bm90IGFlcw==</Encrypt></xml>")
	gq := url.Values{"timestamp": {"1"}, "nonce": {"2"}, "msg_signature": {wechat.Signature(webtest.ComponentToken, "1", "2", "bm90IGFlcw==")}}

	for name, c := range map[string]struct {
		q    url.Values
		body []byte
	}{
		"bad signature": {badSig, body},
		"wrong appid":   {oq, obody},
		"garbage":       {gq, garbage},
		"not xml":       {q, []byte("hello")},
		"empty":         {url.Values{}, nil},
	} {
		status, reply := rawPush(t, e, c.q, c.body)
		require.Equal(t, http.StatusBadRequest, status, name)
		require.NotEqual(t, "success", reply, name)
	}
	require.Zero(t, countRows(t, e, "SELECT count(*) FROM wechat_events"))
	require.Zero(t, countRows(t, e, "SELECT count(*) FROM platforms WHERE verify_ticket <> ''"))
}

func TestPushWithPreviousKeyDuringRotation(t *testing.T) {
	t.Parallel()
	// The console has moved to a new key; WeChat still encrypts with the old one.
	e := webtest.New(t, webtest.Options{Env: map[string]string{
		"WECHAT_COMPONENT_AES_KEY":          "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut",
		"WECHAT_COMPONENT_AES_KEY_PREVIOUS": webtest.AESKey,
	}})
	require.NoError(t, e.Sim.PushTicket(context.Background()))
	require.Equal(t, 1, countRows(t, e, "SELECT count(*) FROM wechat_events"))
}

func TestAuthorizationLinkFlow(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	require.NoError(t, e.Sim.PushTicket(context.Background()))
	c, _ := e.Login(core.RoleAdmin)

	// A page with the links, not a redirect (form-action 'self' would block it).
	r := c.PostForm("/platform/authorize", nil)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	a := r.Doc.Find("a#authorize-link")
	require.Equal(t, "origin", a.AttrOr("referrerpolicy", ""), "WeChat checks the page comes from the platform's domain")
	link, err := url.Parse(a.AttrOr("href", ""))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(link.String(), e.SimURL+"/cgi-bin/componentloginpage?"), link.String())
	require.Equal(t, "2", link.Query().Get("auth_type"), "Mini Programs only")
	require.Regexp(t, `^`+regexp.QuoteMeta(e.URL+"/platform/authorized?state=")+`[A-Za-z0-9_-]{32}$`, link.Query().Get("redirect_uri"), "with the state of this session")
	mobile, err := url.Parse(r.Doc.Find("#authorize-url").AttrOr("value", ""))
	require.NoError(t, err)
	require.Equal(t, "/safe/bindcomponent", mobile.Path)
	require.Equal(t, link.Query().Get("pre_auth_code"), mobile.Query().Get("pre_auth_code"))
	require.Equal(t, 1, r.Doc.Find("#authorize-qr svg path").Length())

	// The merchant approves on WeChat's page, which sends the browser back.
	req, err := http.NewRequest(http.MethodGet, link.String(), nil)
	require.NoError(t, err)
	req.Header.Set("Referer", e.URL+"/")
	r = c.Do(req)
	require.Equal(t, http.StatusFound, r.StatusCode, r.Body)
	back, err := url.Parse(r.Header.Get("Location"))
	require.NoError(t, err)
	require.NotEmpty(t, back.Query().Get("auth_code"))
	r = c.Get(back.RequestURI())
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	require.Equal(t, "/platform", r.Header.Get("Location"))
	r = c.Get("/platform")
	require.Equal(t, "The account was authorized and added.", r.Text(".flash"))
	require.Equal(t, "1", r.Text("#count-mini b"))
	require.Equal(t, 1, countRows(t, e, "SELECT count(*) FROM authorizers WHERE is_mini_program AND refresh_token_enc IS NOT NULL AND nick_name LIKE '新授权小程序%' AND revoked_at IS NULL"))

	// The code is single use: replaying the redirect fails politely.
	r = c.Get(back.RequestURI())
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	r = c.Get("/platform")
	require.Contains(t, r.Text(".flash.error"), "authorization could not be completed")
}

func TestSyncNowAndUnauthorizedPush(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	ctx := context.Background()
	demo := wechatsim.DemoAuthorizers()
	e.Sim.AddDemoAccounts(demo)
	require.NoError(t, e.Sim.PushTicket(ctx))
	c, _ := e.Login(core.RoleAdmin)
	r := c.PostForm("/platform/sync", nil)
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	r = c.Get("/platform")
	require.Equal(t, "Sync finished.", r.Text(".flash"))
	mini := 0
	for _, d := range demo {
		if d.MiniProgram {
			mini++
		}
	}
	require.Equal(t, strconv.Itoa(mini), r.Text("#count-mini b"))
	require.Equal(t, strconv.Itoa(len(demo)-mini), r.Text("#count-oa b"))
	require.Equal(t, "1", r.Text("#refresh-component b"))

	require.NoError(t, e.Sim.Unauthorize(ctx, demo[0].AppID))
	require.Equal(t, 1, countRows(t, e, "SELECT count(*) FROM authorizers WHERE appid = $1 AND revoked_at IS NOT NULL AND revoked_reason = 'unauthorized push'", demo[0].AppID))
	r = c.HTMXPost("/platform/sync", nil)
	require.Equal(t, "/platform", r.Header.Get("HX-Redirect"))
	r = c.Get("/platform")
	require.Equal(t, "1", r.Text("#count-revoked b"))
	require.Equal(t, len(demo), countRows(t, e, "SELECT count(*) FROM authorizers"), "never deleted")
}

func TestPlatformPagesAreAdminOnly(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	for _, role := range []core.Role{core.RoleViewer, core.RoleOperator} {
		c, _ := e.Login(role)
		require.Equal(t, http.StatusForbidden, c.Get("/platform").StatusCode, role)
		require.Equal(t, http.StatusForbidden, c.PostForm("/platform/sync", nil).StatusCode, role)
		require.Equal(t, http.StatusForbidden, c.PostForm("/platform/authorize", nil).StatusCode, role)
		require.Equal(t, http.StatusForbidden, c.Get("/platform/authorized?auth_code=x").StatusCode, role)
	}
	require.Zero(t, countRows(t, e, "SELECT count(*) FROM platforms WHERE last_sync_started_at IS NOT NULL"))
	c, _ := e.Login(core.RoleAdmin)
	r := c.Get("/platform")
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, "none yet", r.Text("#ticket .badge"))
	// Without a ticket, Sync now explains instead of failing.
	r = c.PostForm("/platform/sync", nil)
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	require.Contains(t, c.Get("/platform").Text(".flash.error"), "component_verify_ticket")
}
