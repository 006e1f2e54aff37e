package wechat_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
)

const (
	testAppID  = "wxcomponent0001"
	testSecret = "componentsecret-do-not-leak"
	testToken  = "pushtoken"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	sim    *wechatsim.Sim
	srv    *httptest.Server
	client *wechat.Client
	clock  *clock
	ctok   string
}

func newEnv(t *testing.T, mutate func(*wechatsim.Config)) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	cfg := wechatsim.Config{
		ComponentAppID: testAppID, ComponentAppSecret: testSecret,
		Token: testToken, EncodingAESKey: katKey, Now: clk.Now,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	sim, err := wechatsim.New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	c := wechat.NewClient(wechat.Config{BaseURL: srv.URL, ComponentAppID: testAppID, ComponentAppSecret: testSecret})
	e := &env{sim: sim, srv: srv, client: c, clock: clk}
	if cfg.EventURL == "" {
		require.NoError(t, sim.PushTicket(context.Background()))
		tok, err := c.ComponentToken(context.Background(), sim.CurrentTicket())
		require.NoError(t, err)
		assert.Equal(t, 7200*time.Second, tok.ExpiresIn)
		e.ctok = tok.Value
	}
	return e
}

var appSeq atomic.Int64

// authorize adds a Mini Program and returns its appid and a fresh authorizer token.
func (e *env) authorize(t *testing.T, mini bool) (string, string) {
	t.Helper()
	appID := fmt.Sprintf("wx%016x", 0xbeef0000+appSeq.Add(1))
	e.sim.AddAuthorizer(wechatsim.Authorizer{AppID: appID, NickName: "测试", MiniProgram: mini})
	a, ok := e.sim.Authorizer(appID)
	require.True(t, ok)
	tok, err := e.client.AuthorizerToken(context.Background(), e.ctok, appID, a.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, a.RefreshToken, tok.RefreshToken)
	return appID, tok.AccessToken
}

// requireCode fails the test unless err is the WeChat error code, in the reply shape when given.
func requireCode(t *testing.T, err error, code int, shape string) {
	t.Helper()
	var we *wechat.Error
	require.ErrorAs(t, err, &we)
	assert.Equal(t, code, we.Code)
	if shape != "" {
		assert.Equal(t, shape, we.Shape)
	}
	assert.Contains(t, we.Error(), fmt.Sprint(code))
	got, ok := wechat.CodeOf(err)
	assert.True(t, ok)
	assert.Equal(t, code, got)
}

// codeError is requireCode returning the error, for the tests that look further.
func codeError(t *testing.T, err error, code int, shape string) *wechat.Error {
	t.Helper()
	requireCode(t, err, code, shape)
	var we *wechat.Error
	errors.As(err, &we)
	return we
}

func TestCreatePublisherEveryCatalogCodeBothShapes(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	for _, info := range wechat.Codes() {
		for _, shape := range []string{"ret", "errcode"} {
			t.Run(fmt.Sprintf("%d_%s", info.Code, shape), func(t *testing.T) {
				appID, tok := e.authorize(t, true)
				e.sim.Script(appID, wechatsim.ActionCreate, wechatsim.Behavior{Ret: info.Code, Shape: shape})
				res, err := e.client.CreatePublisher(ctx, tok)
				assert.Equal(t, info.Code, res.Ret)
				assert.NotEmpty(t, res.Raw)
				if info.Code == 0 {
					require.NoError(t, err)
					return
				}
				we := codeError(t, err, info.Code, shape)
				assert.NotEmpty(t, res.ErrMsg)
				assert.Equal(t, we.Message, res.ErrMsg)
				assert.Equal(t, res.Raw, we.Raw)
				assert.Equal(t, http.StatusOK, we.HTTPStatus)
				assert.Equal(t, info.Class == wechat.ClassToken && info.Code < 61000, wechat.IsTokenError(err))
			})
		}
	}
}

func TestCreateUnscriptedOpensThenAlreadyOpen(t *testing.T) {
	e := newEnv(t, nil)
	appID, tok := e.authorize(t, true)
	res, err := e.client.CreatePublisher(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, 0, res.Ret)
	assert.True(t, e.sim.Opened(appID))
	res, err = e.client.CreatePublisher(context.Background(), tok)
	requireCode(t, err, 2021, "ret")
	assert.Equal(t, 2021, res.Ret)
	assert.Equal(t, wechat.ClassAlreadyDone, wechat.LookupCode(res.Ret).Class)
	assert.Equal(t, 2, e.sim.Calls(wechatsim.ActionCreate, appID))
}

func TestConcurrentCreateOpensOnce(t *testing.T) {
	e := newEnv(t, nil)
	_, tok := e.authorize(t, true)
	var wg sync.WaitGroup
	var opened, already atomic.Int32
	for range 20 {
		wg.Go(func() {
			res, _ := e.client.CreatePublisher(context.Background(), tok)
			switch res.Ret {
			case 0:
				opened.Add(1)
			case 2021:
				already.Add(1)
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, 1, opened.Load())
	assert.EqualValues(t, 19, already.Load())
}

func TestCheckStatus(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	appID, tok := e.authorize(t, true)
	res, err := e.client.CheckCanOpenPublisher(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Status)

	e.sim.Script(appID, wechatsim.ActionCheck, wechatsim.Behavior{Status: 0})
	res, err = e.client.CheckCanOpenPublisher(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, 0, res.Status)
	assert.Contains(t, string(res.Raw), `"status":0`)

	e.sim.Script(appID, wechatsim.ActionCheck, wechatsim.Behavior{Ret: 1735, Times: 1})
	res, err = e.client.CheckCanOpenPublisher(ctx, tok)
	requireCode(t, err, 1735, "ret")
	assert.Equal(t, 1735, res.Ret)
	assert.NotEmpty(t, res.Raw)
	_, err = e.client.CheckCanOpenPublisher(ctx, tok)
	require.NoError(t, err, "Times: 1 applies once")
}

func TestTokenExpiry(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	appID, tok := e.authorize(t, true)
	e.clock.Advance(7201 * time.Second)
	_, err := e.client.CreatePublisher(ctx, tok)
	requireCode(t, err, 42001, "errcode")
	assert.True(t, wechat.IsTokenError(err))

	a, _ := e.sim.Authorizer(appID)
	_, err = e.client.AuthorizerToken(ctx, e.ctok, appID, a.RefreshToken)
	requireCode(t, err, 42001, "errcode")
	assert.Equal(t, 1, e.sim.Calls(wechatsim.ActionCreate, appID))
}

func TestExpireTokens(t *testing.T) {
	e := newEnv(t, nil)
	_, tok := e.authorize(t, true)
	e.sim.ExpireTokens()
	_, err := e.client.CheckCanOpenPublisher(context.Background(), tok)
	requireCode(t, err, 42001, "errcode")
	_, _, err = e.client.CreatePreAuthCode(context.Background(), e.ctok)
	requireCode(t, err, 42001, "errcode")
}

func TestNewAuthorizerTokenInvalidatesPrevious(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	appID, first := e.authorize(t, true)
	a, _ := e.sim.Authorizer(appID)
	second, err := e.client.AuthorizerToken(ctx, e.ctok, appID, a.RefreshToken)
	require.NoError(t, err)
	_, err = e.client.CheckCanOpenPublisher(ctx, first)
	we := codeError(t, err, 40001, "errcode")
	assert.Contains(t, we.Message, "not latest")
	assert.True(t, wechat.IsTokenError(err))
	_, err = e.client.CheckCanOpenPublisher(ctx, second.AccessToken)
	require.NoError(t, err)
	_, auth := e.sim.TokenIssues()
	assert.Equal(t, 2, auth)
}

func TestComponentTokensStayValidUntilExpiry(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	require.NoError(t, e.sim.PushTicket(ctx))
	newer, err := e.client.ComponentToken(ctx, e.sim.CurrentTicket())
	require.NoError(t, err)
	_, _, err = e.client.CreatePreAuthCode(ctx, e.ctok)
	require.NoError(t, err, "older component token still valid")
	_, _, err = e.client.CreatePreAuthCode(ctx, newer.Value)
	require.NoError(t, err)
	comp, _ := e.sim.TokenIssues()
	assert.Equal(t, 2, comp)
}

func TestComponentTokenTickets(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	_, err := e.client.ComponentToken(ctx, "ticket@@@bogus")
	requireCode(t, err, 61006, "errcode")

	first := e.sim.CurrentTicket()
	require.NoError(t, e.sim.PushTicket(ctx))
	_, err = e.client.ComponentToken(ctx, first)
	require.NoError(t, err, "previous ticket is still accepted")
	require.NoError(t, e.sim.PushTicket(ctx))
	_, err = e.client.ComponentToken(ctx, first)
	requireCode(t, err, 61006, "errcode")

	bad := wechat.NewClient(wechat.Config{BaseURL: e.srv.URL, ComponentAppID: testAppID, ComponentAppSecret: "wrong"})
	_, err = bad.ComponentToken(ctx, e.sim.CurrentTicket())
	requireCode(t, err, 40125, "errcode")
	assert.NotContains(t, err.Error(), "wrong")
}

func TestComponentTokenUsedForAMS(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.client.CreatePublisher(context.Background(), e.ctok)
	requireCode(t, err, 1736, "ret")
	assert.Equal(t, wechat.ClassOurBug, wechat.LookupCode(1736).Class)
}

func TestUnknownTokenForAMS(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.client.CreatePublisher(context.Background(), "nonsense")
	requireCode(t, err, 40001, "errcode")
}

func TestRemoveAuthorizer(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	appID, tok := e.authorize(t, true)
	a, _ := e.sim.Authorizer(appID)
	e.sim.RemoveAuthorizer(appID)

	_, err := e.client.CreatePublisher(ctx, tok)
	requireCode(t, err, 61003, "errcode")
	_, err = e.client.AuthorizerToken(ctx, e.ctok, appID, a.RefreshToken)
	requireCode(t, err, 61003, "errcode")
	_, err = e.client.AuthorizerInfo(ctx, e.ctok, appID)
	requireCode(t, err, 61003, "errcode")
	all, err := allAuthorizers(ctx, e.client, e.ctok)
	require.NoError(t, err)
	for _, it := range all {
		assert.NotEqual(t, appID, it.AppID)
	}
}

func TestWrongRefreshToken(t *testing.T) {
	e := newEnv(t, nil)
	appID, _ := e.authorize(t, true)
	_, err := e.client.AuthorizerToken(context.Background(), e.ctok, appID, "refreshtoken@@@stale")
	requireCode(t, err, 61023, "errcode")
	assert.NotContains(t, err.Error(), "stale")
}

func TestWalkAuthorizersPaging(t *testing.T) {
	e := newEnv(t, nil)
	for i := range 1200 {
		e.sim.AddAuthorizer(wechatsim.Authorizer{AppID: fmt.Sprintf("wxpage%012d", i), MiniProgram: true})
	}
	all, err := allAuthorizers(context.Background(), e.client, e.ctok)
	require.NoError(t, err)
	require.Len(t, all, 1200)
	seen := map[string]bool{}
	for _, it := range all {
		assert.False(t, seen[it.AppID])
		seen[it.AppID] = true
		assert.NotEmpty(t, it.RefreshToken)
		assert.False(t, it.AuthTime.IsZero())
	}
	// An error from the page's handler ends the walk there, as it is.
	stop := errors.New("found")
	reads := 0
	err = wechat.WalkAuthorizers(func(offset int) (wechat.AuthorizerListPage, error) {
		reads++
		return e.client.AuthorizerList(context.Background(), e.ctok, offset, wechat.MaxAuthorizerListCount)
	}, func([]wechat.AuthorizerListItem) error { return stop })
	require.ErrorIs(t, err, stop)
	assert.Equal(t, 1, reads)

	page, err := e.client.AuthorizerList(context.Background(), e.ctok, 1000, 500)
	require.NoError(t, err)
	assert.Equal(t, 1200, page.TotalCount)
	assert.Len(t, page.List, 200)

	_, err = e.client.AuthorizerList(context.Background(), e.ctok, 0, 501)
	require.Error(t, err)

	resp, err := http.Post(e.srv.URL+"/cgi-bin/component/api_get_authorizer_list?component_access_token="+e.ctok,
		"application/json", strings.NewReader(`{"component_appid":"`+testAppID+`","offset":0,"count":600}`))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(body), `"errcode":40097`)
}

func TestWalkAuthorizersStopsOnError(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.ExpireTokens()
	all, err := allAuthorizers(context.Background(), e.client, e.ctok)
	requireCode(t, err, 42001, "errcode")
	assert.Empty(t, all)

	// A misbehaving upstream: errors after the first page, or a total that never arrives.
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			fmt.Fprint(w, `{"total_count":100000,"list":[{"authorizer_appid":"wx1","refresh_token":"r","auth_time":1}]}`)
		case 2:
			fmt.Fprint(w, `{"errcode":-1,"errmsg":"system error"}`)
		default:
			fmt.Fprint(w, `{"total_count":100000,"list":[]}`)
		}
	}))
	defer srv.Close()
	c := wechat.NewClient(wechat.Config{BaseURL: srv.URL, ComponentAppID: testAppID})
	all, err = allAuthorizers(context.Background(), c, "t")
	requireCode(t, err, -1, "errcode")
	assert.Len(t, all, 1)
	assert.EqualValues(t, 2, calls.Load())

	all, err = allAuthorizers(context.Background(), c, "t")
	require.NoError(t, err, "an empty page ends the walk")
	assert.Empty(t, all)
	assert.EqualValues(t, 3, calls.Load())
}

func TestHTTPStatusGarbageAndHang(t *testing.T) {
	e := newEnv(t, nil)
	appID, tok := e.authorize(t, true)

	e.sim.Script(appID, wechatsim.ActionCreate, wechatsim.Behavior{HTTPStatus: 502, Times: 1})
	res, err := e.client.CreatePublisher(context.Background(), tok)
	var he *wechat.HTTPStatusError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 502, he.Status)
	assert.Contains(t, string(he.Raw), "<html")
	assert.Equal(t, 0, res.Ret)
	_, ok := wechat.CodeOf(err)
	assert.False(t, ok)

	e.sim.Script(appID, wechatsim.ActionCreate, wechatsim.Behavior{Garbage: true, Times: 1})
	res, err = e.client.CreatePublisher(context.Background(), tok)
	var de *wechat.DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 200, de.HTTPStatus)
	assert.NotEmpty(t, de.Raw)
	assert.NotEmpty(t, res.Raw)

	// The call's deadline passes only once the call is held at WeChat, so it
	// reaches the simulator however slow the machine.
	e.sim.Script(appID, wechatsim.ActionCreate, wechatsim.Behavior{Hang: true, Times: 1})
	gate := e.sim.Hold(appID, wechatsim.ActionCreate)
	t.Cleanup(gate.Release)
	ctx := newExpiring()
	go func() {
		wctx, cancel := context.WithTimeout(context.Background(), recvTimeout)
		defer cancel()
		_ = gate.WaitArrived(wctx, 1)
		ctx.expire()
	}()
	_, err = e.client.CreatePublisher(ctx, tok)
	var te *wechat.TransportError
	require.ErrorAs(t, err, &te)
	assert.True(t, te.Timeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotContains(t, err.Error(), tok)
	assert.NotContains(t, err.Error(), "access_token")
	assert.Equal(t, 1, e.sim.Calls(wechatsim.ActionCreate, appID)-2, "the hung call reached the simulator")
}

func TestClientTimeoutIsTransportTimeout(t *testing.T) {
	e := newEnv(t, nil)
	appID, tok := e.authorize(t, true)
	e.sim.Script(appID, wechatsim.ActionCheck, wechatsim.Behavior{Hang: true})
	c := wechat.NewClient(wechat.Config{BaseURL: e.srv.URL, ComponentAppID: testAppID, HTTPClient: &http.Client{Timeout: 100 * time.Millisecond}})
	_, err := c.CheckCanOpenPublisher(context.Background(), tok)
	var te *wechat.TransportError
	require.ErrorAs(t, err, &te)
	assert.True(t, te.Timeout)
	assert.NotContains(t, err.Error(), tok)
}

func TestConnectionRefusedIsTransportError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	c := wechat.NewClient(wechat.Config{BaseURL: base, ComponentAppID: testAppID, ComponentAppSecret: testSecret})
	_, err := c.CreatePublisher(context.Background(), "secret-access-token")
	var te *wechat.TransportError
	require.ErrorAs(t, err, &te)
	assert.False(t, te.Timeout)
	assert.NotContains(t, err.Error(), "secret-access-token")
	_, err = c.ComponentToken(context.Background(), "ticket")
	assert.NotContains(t, err.Error(), testSecret)
}

func TestReplyShapesFromRawServer(t *testing.T) {
	cases := []struct {
		body   string
		status int
		check  func(t *testing.T, err error)
	}{
		{`{"ret":0,"err_msg":"","status":1}`, 200, func(t *testing.T, err error) { require.NoError(t, err) }},
		{`{"errcode":0,"errmsg":"ok","status":1}`, 200, func(t *testing.T, err error) { require.NoError(t, err) }},
		{``, 200, func(t *testing.T, err error) { var de *wechat.DecodeError; require.ErrorAs(t, err, &de) }},
		{`{"status":1}`, 200, func(t *testing.T, err error) { var de *wechat.DecodeError; require.ErrorAs(t, err, &de) }},
		{`{"ret":`, 200, func(t *testing.T, err error) { var de *wechat.DecodeError; require.ErrorAs(t, err, &de) }},
		{`{"ret":1735}`, 500, func(t *testing.T, err error) { var he *wechat.HTTPStatusError; require.ErrorAs(t, err, &he) }},
		{`{"errcode":40014,"errmsg":"invalid access_token"}`, 200, func(t *testing.T, err error) { assert.True(t, wechat.IsTokenError(err)) }},
	}
	for _, tc := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.status)
			fmt.Fprint(w, tc.body)
		}))
		c := wechat.NewClient(wechat.Config{BaseURL: srv.URL})
		_, err := c.CheckCanOpenPublisher(context.Background(), "tok")
		tc.check(t, err)
		srv.Close()
	}
}

func TestLargeReplyRawIsCapped(t *testing.T) {
	big := `{"ret":1700,"err_msg":"` + strings.Repeat("x", 200<<10) + `"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, big) }))
	defer srv.Close()
	_, err := wechat.NewClient(wechat.Config{BaseURL: srv.URL}).CreatePublisher(context.Background(), "t")
	we := codeError(t, err, 1700, "ret")
	assert.LessOrEqual(t, len(we.Raw), 64<<10)
}

func TestAuthorizationFlow(t *testing.T) {
	events := make(chan wechat.Event, 10)
	recv := newReceiver(t, events)
	e := newEnv(t, func(c *wechatsim.Config) { c.EventURL = recv.URL + "/events?tenant=1" })
	ctx := context.Background()

	require.NoError(t, e.sim.PushTicket(ctx))
	ev := next(t, events)
	require.Equal(t, "component_verify_ticket", ev.InfoType)
	tok, err := e.client.ComponentToken(ctx, ev.ComponentVerifyTicket)
	require.NoError(t, err)

	code, exp, err := e.client.CreatePreAuthCode(ctx, tok.Value)
	require.NoError(t, err)
	assert.Greater(t, exp, time.Duration(0))
	u := wechat.AuthorizationURL(e.srv.URL, testAppID, code, "https://console.example.com/wechat/callback?x=1", 2)
	assert.Contains(t, u, "/cgi-bin/componentloginpage?")

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// Opened directly (no Referer from the platform's domain), WeChat refuses.
	resp, err := noFollow.Get(u)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	req.Header.Set("Referer", "https://console.example.com/")
	resp, err = noFollow.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "console.example.com", loc.Host)
	assert.Equal(t, "1", loc.Query().Get("x"))
	assert.Equal(t, "600", loc.Query().Get("expires_in"))
	authCode := loc.Query().Get("auth_code")
	require.NotEmpty(t, authCode)

	ev = next(t, events)
	assert.Equal(t, "authorized", ev.InfoType)
	assert.Equal(t, authCode, ev.AuthorizationCode)
	assert.Equal(t, code, ev.PreAuthCode)

	// Before the exchange the list shows the account without a refresh token.
	page, err := e.client.AuthorizerList(ctx, tok.Value, 0, 10)
	require.NoError(t, err)
	require.Len(t, page.List, 1)
	assert.Empty(t, page.List[0].RefreshToken)

	info, err := e.client.QueryAuth(ctx, tok.Value, authCode)
	require.NoError(t, err)
	assert.Equal(t, ev.AuthorizerAppID, info.AuthorizerAppID)
	assert.NotEmpty(t, info.AccessToken)
	assert.NotEmpty(t, info.RefreshToken)
	assert.NotEmpty(t, info.FuncScopeIDs)
	assert.Equal(t, 7200*time.Second, info.ExpiresIn)

	_, err = e.client.QueryAuth(ctx, tok.Value, authCode)
	requireCode(t, err, 61009, "errcode")

	resp, err = noFollow.Get(u)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "pre_auth_code is single use")

	res, err := e.client.CreatePublisher(ctx, info.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, 0, res.Ret)

	require.NoError(t, e.sim.Unauthorize(ctx, info.AuthorizerAppID))
	ev = next(t, events)
	assert.Equal(t, "unauthorized", ev.InfoType)
	assert.Equal(t, info.AuthorizerAppID, ev.AuthorizerAppID)

	require.NoError(t, e.client.StartPushTicket(ctx))
	ev = next(t, events)
	assert.Equal(t, "component_verify_ticket", ev.InfoType, "a ticket is pushed after api_start_push_ticket")
}

// recvTimeout bounds every wait for a push, so a push that never comes fails
// the test at once instead of hanging until the test binary's deadline.
const recvTimeout = 10 * time.Second

// next returns the next pushed event, failing the test if none arrives.
func next[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(recvTimeout):
		t.Fatalf("nothing arrived within %s", recvTimeout)
		panic("unreachable")
	}
}

// newReceiver is a minimal event URL handler, the way the console implements it.
func newReceiver(t *testing.T, events chan<- wechat.Event) *httptest.Server {
	t.Helper()
	cr, err := wechat.NewCrypter(testToken, katKey, "", testAppID)
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, wechat.MaxPushBodySize+1))
		ev, err := cr.Open(r.URL.Query(), body)
		if err != nil || r.URL.Query().Get("tenant") != "1" {
			http.Error(w, "bad push", http.StatusBadRequest)
			return
		}
		events <- ev
		fmt.Fprint(w, "success")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPushRejectedIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "fail") }))
	defer srv.Close()
	e := newEnv(t, func(c *wechatsim.Config) { c.EventURL = srv.URL })
	require.Error(t, e.sim.PushTicket(context.Background()))
}

func TestSealOpenRoundTrip(t *testing.T) {
	c := newKATCrypter(t, "")
	msg := []byte(`<xml><AppId>wxcomponent0001</AppId><CreateTime>1</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>wxa</AuthorizerAppid></xml>`)
	q, body, err := c.Seal(msg, "1700000000", "n0nce")
	require.NoError(t, err)
	assert.Equal(t, "aes", q.Get("encrypt_type"))
	assert.NotEmpty(t, q.Get("signature"))
	ev, err := c.Open(q, body)
	require.NoError(t, err)
	assert.Equal(t, "wxa", ev.AuthorizerAppID)
	assert.True(t, bytes.Equal(msg, ev.Raw))
}

func TestRunPushesAtStartAndOnInterval(t *testing.T) {
	events := make(chan wechat.Event, 10)
	recv := newReceiver(t, events)
	e := newEnv(t, func(c *wechatsim.Config) { c.EventURL = recv.URL + "?tenant=1"; c.PushInterval = 50 * time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.sim.Run(ctx) }()
	first := next(t, events)
	second := next(t, events)
	assert.NotEqual(t, first.ComponentVerifyTicket, second.ComponentVerifyTicket)
	cancel()
	assert.ErrorIs(t, next(t, done), context.Canceled)
}

func TestAuthorizerInfo(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	mini, _ := e.authorize(t, true)
	oa, _ := e.authorize(t, false)

	info, err := e.client.AuthorizerInfo(ctx, e.ctok, mini)
	require.NoError(t, err)
	assert.True(t, info.IsMiniProgram)
	assert.Equal(t, mini, info.AppID)
	assert.Equal(t, "测试", info.NickName)
	assert.Equal(t, 1, info.AccountStatus)
	assert.True(t, strings.HasPrefix(info.UserName, "gh_"))
	assert.Contains(t, string(info.Raw), "basic_config")

	info, err = e.client.AuthorizerInfo(ctx, e.ctok, oa)
	require.NoError(t, err)
	assert.False(t, info.IsMiniProgram)
	assert.Equal(t, 2, info.ServiceType)
	assert.NotContains(t, string(info.Raw), "MiniProgramInfo")
}

func TestOtherAMSActions(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	appID, tok := e.authorize(t, true)
	_, err := e.client.GetAdUnitList(ctx, tok, 1, 10, "")
	requireCode(t, err, 2009, "ret")
	e.sim.MarkOpened(appID, e.clock.Now().Add(-48*time.Hour))
	id, err := e.client.CreateAdUnit(ctx, tok, wechat.NewAdUnit{Name: "banner", Slot: wechat.SlotBanner})
	require.NoError(t, err)
	units, err := e.client.GetAdUnitList(ctx, tok, 1, 10, "")
	require.NoError(t, err)
	require.NotEmpty(t, units.AdUnits)
	assert.Equal(t, id, units.AdUnits[0].AdUnitID, "newest first")
	assert.True(t, units.AdUnits[0].On())
	_, err = e.client.GetSettlement(ctx, tok, "2026-01-01", "2026-01-31", 1, 10)
	require.NoError(t, err)
	var out map[string]any
	raw, err := e.client.AMS(ctx, tok, "agency_no_such_action", nil, &out)
	requireCode(t, err, 1700, "ret")
	assert.NotEmpty(t, raw)
}

func TestDemoAuthorizers(t *testing.T) {
	e := newEnv(t, nil)
	demo := wechatsim.DemoAuthorizers()
	assert.GreaterOrEqual(t, len(demo), 25)
	e.sim.AddDemoAccounts(demo)
	ctx := context.Background()
	var banned, frozen, oa, emptyNick int
	codes := map[int]bool{}
	for _, d := range demo {
		switch d.AccountStatus {
		case 16:
			banned++
		case 19:
			frozen++
		}
		if !d.MiniProgram {
			oa++
		}
		if d.NickName == "" {
			emptyNick++
		}
		if d.Create != nil && (d.Create.Hang || d.Create.Delay > 0) {
			continue
		}
		a, ok := e.sim.Authorizer(d.AppID)
		require.True(t, ok)
		tok, err := e.client.AuthorizerToken(ctx, e.ctok, d.AppID, a.RefreshToken)
		require.NoError(t, err)
		_, _ = e.client.CheckCanOpenPublisher(ctx, tok.AccessToken)
		res, err := e.client.CreatePublisher(ctx, tok.AccessToken)
		if d.Create != nil && d.Create.Ret != 0 {
			requireCode(t, err, d.Create.Ret, "")
		}
		codes[res.Ret] = true
	}
	for _, info := range wechat.Codes() {
		if info.Class == wechat.ClassToken || info.Code == 1736 || info.Code == 45009 || info.Code == 61003 || info.Code == 61004 || wechat.IsAdOperationCode(info.Code) {
			continue
		}
		assert.True(t, codes[info.Code], "demo covers %d", info.Code)
	}
	assert.Equal(t, 1, banned)
	assert.Equal(t, 1, frozen)
	assert.GreaterOrEqual(t, oa, 2)
	assert.GreaterOrEqual(t, emptyNick, 1)
}

func TestErrorTypesSupportAs(t *testing.T) {
	decodeCause := errors.New("invalid character '<'")
	we := &wechat.Error{Code: 1, Message: "m", Shape: "ret"}
	he := &wechat.HTTPStatusError{Status: 502}
	de := &wechat.DecodeError{HTTPStatus: 200, Raw: []byte("<html>"), Err: decodeCause}
	te := &wechat.TransportError{Op: "POST /x", Err: context.DeadlineExceeded, Timeout: true}

	// Each type is found again, as the same value, through two layers of wrapping,
	// and the wrapper's text keeps the original's.
	wrap := func(err error) error { return fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", err)) }
	var gotWE *wechat.Error
	require.ErrorAs(t, wrap(we), &gotWE)
	assert.Same(t, we, gotWE)
	var gotHE *wechat.HTTPStatusError
	require.ErrorAs(t, wrap(he), &gotHE)
	assert.Same(t, he, gotHE)
	var gotDE *wechat.DecodeError
	require.ErrorAs(t, wrap(de), &gotDE)
	assert.Same(t, de, gotDE)
	var gotTE *wechat.TransportError
	require.ErrorAs(t, wrap(te), &gotTE)
	assert.Same(t, te, gotTE)
	for _, err := range []error{we, he, de, te} {
		assert.Equal(t, "outer: inner: "+err.Error(), wrap(err).Error())
	}

	// No type is mistaken for another.
	assert.False(t, errors.As(wrap(he), &gotWE))
	assert.False(t, errors.As(wrap(we), &gotTE))
	assert.False(t, errors.As(wrap(te), &gotDE))

	// Causes stay reachable; texts name what matters.
	assert.ErrorIs(t, wrap(de), decodeCause)
	assert.ErrorIs(t, wrap(te), context.DeadlineExceeded)
	assert.Equal(t, "wechat: ret 1: m", we.Error())
	assert.Equal(t, "wechat: unexpected HTTP status 502", he.Error())
	assert.Contains(t, de.Error(), "HTTP 200, 6 bytes")
	assert.Contains(t, te.Error(), "outcome unknown")

	code, ok := wechat.CodeOf(wrap(we))
	assert.True(t, ok)
	assert.Equal(t, 1, code)
	_, ok = wechat.CodeOf(wrap(he))
	assert.False(t, ok)
	assert.True(t, wechat.IsTokenError(wrap(&wechat.Error{Code: 40001, Shape: "errcode"})))
	assert.True(t, wechat.IsTokenError(wrap(&wechat.Error{Code: 42001, Shape: "errcode"})))
	assert.True(t, wechat.IsTokenError(wrap(&wechat.Error{Code: 40014, Shape: "errcode"})))
	assert.False(t, wechat.IsTokenError(wrap(we)))
	assert.False(t, wechat.IsTokenError(wrap(he)))
}

func TestGateHoldsUntilReleased(t *testing.T) {
	e := newEnv(t, nil)
	held, tok := e.authorize(t, true)
	free, freeTok := e.authorize(t, true)
	g := e.sim.Hold(held, wechatsim.ActionCreate)
	t.Cleanup(g.Release)

	done := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := e.client.CreatePublisher(context.Background(), tok)
			done <- err
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), recvTimeout)
	defer cancel()
	require.NoError(t, g.WaitArrived(ctx, 2), "both calls reach the gate and wait there together")
	select {
	case err := <-done:
		t.Fatalf("a held call returned before the release: %v", err)
	default:
	}
	// Other accounts and other actions pass.
	_, err := e.client.CreatePublisher(context.Background(), freeTok)
	require.NoError(t, err)
	_, err = e.client.CheckCanOpenPublisher(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, 2, g.Arrived())
	assert.Equal(t, 1, e.sim.Calls(wechatsim.ActionCreate, free))

	g.Release()
	results := []error{next(t, done), next(t, done)}
	var opened, already int
	for _, err := range results {
		if err == nil {
			opened++
		} else if code, _ := wechat.CodeOf(err); code == 2021 {
			already++
		}
	}
	assert.Equal(t, 1, opened)
	assert.Equal(t, 1, already)
	assert.True(t, e.sim.Opened(held))
}

// expiring is a context whose deadline passes when the test says so.
type expiring struct {
	context.Context
	once sync.Once
	done chan struct{}
}

func newExpiring() *expiring {
	return &expiring{Context: context.Background(), done: make(chan struct{})}
}

func (c *expiring) expire()                     { c.once.Do(func() { close(c.done) }) }
func (c *expiring) Done() <-chan struct{}       { return c.done }
func (c *expiring) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *expiring) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// allAuthorizers walks the list with one token and gathers it, with what it
// read before an error.
func allAuthorizers(ctx context.Context, c *wechat.Client, tok string) ([]wechat.AuthorizerListItem, error) {
	var all []wechat.AuthorizerListItem
	err := wechat.WalkAuthorizers(func(offset int) (wechat.AuthorizerListPage, error) {
		return c.AuthorizerList(ctx, tok, offset, wechat.MaxAuthorizerListCount)
	}, func(page []wechat.AuthorizerListItem) error {
		all = append(all, page...)
		return nil
	})
	return all, err
}
