package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

func countStaff(t *testing.T, e *webtest.Env) int {
	n, err := e.App.Staff.CountStaff(context.Background())
	require.NoError(t, err)
	return n
}

func TestCSRFMissingOrForgedChangesNothing(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	c, _ := e.Login(core.RoleAdmin)
	before := countStaff(t, e)
	form := url.Values{"username": {"mallory"}, "password": {"long-enough-password"}, "role": {"admin"}}

	c.NoCSRF = true
	r := c.PostForm("/staff", form)
	require.Equal(t, http.StatusForbidden, r.StatusCode, "missing token")
	require.Contains(t, r.Text(".empty p"), "The form has expired")

	form.Set("_csrf", "forged-token-forged-token-forged")
	r = c.PostForm("/staff", form)
	require.Equal(t, http.StatusForbidden, r.StatusCode, "forged token")

	r = c.HTMXPost("/staff", url.Values{"username": {"mallory"}})
	require.Equal(t, http.StatusForbidden, r.StatusCode, "htmx without header")
	require.Equal(t, "1", r.Header.Get("HX-Error"))
	require.Equal(t, 1, r.Doc.Find(".result.err").Length(), "htmx gets a partial, not a page")
	require.Equal(t, before, countStaff(t, e))

	// A browser vouching the post is cross-site is refused even with a token.
	c.NoCSRF = false
	c.Header.Set("Sec-Fetch-Site", "cross-site")
	r = c.PostForm("/staff", form)
	require.Equal(t, http.StatusForbidden, r.StatusCode)
	require.Equal(t, before, countStaff(t, e))

	c.Header.Del("Sec-Fetch-Site")
	form.Del("_csrf")
	r = c.PostForm("/staff", form)
	require.Equal(t, http.StatusSeeOther, r.StatusCode, "with the real token it works")
	require.Equal(t, before+1, countStaff(t, e))
}

func TestLoginIsThrottledPerUsernameAndPerIP(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	e.CreateStaff("carol", core.RoleViewer)
	c := e.Client()
	c.Get("/login")
	for i := 0; i < 5; i++ {
		r := c.PostForm("/login", url.Values{"username": {"carol"}, "password": {"nope-nope"}})
		require.Equal(t, http.StatusUnauthorized, r.StatusCode)
	}
	// Even the right password is refused now, with a clear message.
	r := c.PostForm("/login", url.Values{"username": {"carol"}, "password": {webtest.Password}})
	require.Equal(t, http.StatusTooManyRequests, r.StatusCode)
	require.Contains(t, r.Text(".flash.error"), "Too many failed sign-in attempts")

	// Per IP: many usernames from one address.
	for i := 0; i < 15; i++ {
		c.PostForm("/login", url.Values{"username": {"ghost" + string(rune('a'+i))}, "password": {"x-x-x-x-x"}})
	}
	e.CreateStaff("dave", core.RoleViewer)
	r = c.PostForm("/login", url.Values{"username": {"dave"}, "password": {webtest.Password}})
	require.Equal(t, http.StatusTooManyRequests, r.StatusCode)
	ev, err := e.App.Staff.ListSecurity(context.Background(), 0, 1)
	require.NoError(t, err)
	require.Equal(t, "throttled", ev[0].Detail)
}

func TestDisabledAndUnknownUsersCannotSignIn(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	st := e.CreateStaff("erin", core.RoleOperator)
	require.NoError(t, e.App.Auth.SetDisabled(context.Background(), nil, st.ID, true, core.Meta{}))
	c := e.Client()
	c.Get("/login")
	r := c.PostForm("/login", url.Values{"username": {"erin"}, "password": {webtest.Password}})
	require.Equal(t, http.StatusUnauthorized, r.StatusCode)
	require.Equal(t, "Wrong username or password.", r.Text(".flash.error"), "same answer: nothing revealed")
	r = c.PostForm("/login", url.Values{"username": {"nobody"}, "password": {webtest.Password}})
	require.Equal(t, http.StatusUnauthorized, r.StatusCode)
	r = c.PostForm("/login", url.Values{"username": {""}, "password": {""}})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
}

// A staff member disabled behind the console's back (their sessions left in
// place) is signed out on their next request, and a new role takes effect on
// it: the staff member is read with the session on every request.
func TestASessionSeesItsStaffMemberAsTheyAreNow(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	c, st := e.Login(core.RoleOperator)
	require.Equal(t, http.StatusOK, c.Get("/").StatusCode)
	require.Equal(t, http.StatusForbidden, c.Get("/staff").StatusCode)
	_, err := e.App.Pool.Exec(context.Background(), `UPDATE staff SET role = 'admin' WHERE id = $1`, st.ID)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, c.Get("/staff").StatusCode, "the new role on the next request")
	_, err = e.App.Pool.Exec(context.Background(), `UPDATE staff SET disabled = true WHERE id = $1`, st.ID)
	require.NoError(t, err)
	r := c.Get("/")
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	require.Contains(t, r.Header.Get("Location"), "/login")
}

func sessionCookie(t *testing.T, e *webtest.Env, c *webtest.Client) *http.Cookie {
	u, _ := url.Parse(e.URL)
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == "tm_session" {
			return ck
		}
	}
	t.Fatal("no session cookie")
	return nil
}

func TestTamperedCookieIsNoSession(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	c, _ := e.Login(core.RoleViewer)
	ck := sessionCookie(t, e, c)
	// Flip one character of the signed value.
	v := []byte(ck.Value)
	if v[10] == 'A' {
		v[10] = 'B'
	} else {
		v[10] = 'A'
	}
	u, _ := url.Parse(e.URL)
	c.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: "tm_session", Value: string(v), Path: "/"}})
	r := c.Get("/")
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	require.Contains(t, r.Header.Get("Location"), "/login")
}

func TestExpiredSessionsEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, sql string }{
		{"idle", "UPDATE sessions SET last_seen_at = now() - interval '2 hours'"},
		{"absolute", "UPDATE sessions SET expires_at = now() - interval '1 second'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := webtest.New(t)
			c, _ := e.Login(core.RoleAdmin)
			require.Equal(t, http.StatusOK, c.Get("/staff").StatusCode)
			_, err := e.App.Pool.Exec(context.Background(), tc.sql)
			require.NoError(t, err)
			r := c.Get("/staff?x=1")
			require.Equal(t, http.StatusSeeOther, r.StatusCode)
			require.Equal(t, "/login?expired=1&next="+url.QueryEscape("/staff?x=1"), r.Header.Get("Location"))
			r = c.Get(r.Header.Get("Location"))
			require.Contains(t, r.Text(".flash"), "Your session has ended")
			// htmx requests are told to redirect the whole page, back to
			// the page the request came from after signing in.
			c.Header.Set("Referer", e.URL+"/audit?appid=wx1")
			r = c.HTMXPost("/staff", url.Values{"username": {"late"}})
			c.Header.Del("Referer")
			require.Equal(t, http.StatusUnauthorized, r.StatusCode)
			require.Equal(t, "/login?expired=1&next="+url.QueryEscape("/audit?appid=wx1"), r.Header.Get("HX-Redirect"))
			require.Empty(t, r.Header.Get("Location"), "htmx would follow a plain redirect inside the page")
			r = c.HTMXPost("/staff", url.Values{"username": {"late"}})
			require.Equal(t, http.StatusUnauthorized, r.StatusCode)
			require.Equal(t, "/login?expired=1", r.Header.Get("HX-Redirect"), "without a page to return to")
		})
	}
}

func TestStaffChangesRevokeSessions(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	admin, _ := e.Login(core.RoleAdmin)
	for _, tc := range []struct {
		name string
		do   func(id string) *webtest.Response
	}{
		{"disable", func(id string) *webtest.Response { return admin.PostForm("/staff/"+id+"/disable", nil) }},
		{"role", func(id string) *webtest.Response {
			return admin.PostForm("/staff/"+id+"/role", url.Values{"role": {"viewer"}})
		}},
		{"password", func(id string) *webtest.Response {
			return admin.PostForm("/staff/"+id+"/password", url.Values{"password": {"another-long-password"}})
		}},
	} {
		victim := e.CreateStaff("victim-"+tc.name, core.RoleOperator)
		vc := e.Client()
		vc.LoginAs(victim.Username, webtest.Password)
		require.Equal(t, http.StatusOK, vc.Get("/").StatusCode)
		r := tc.do(itoa(victim.ID))
		require.Equal(t, http.StatusSeeOther, r.StatusCode, tc.name)
		require.Equal(t, http.StatusSeeOther, vc.Get("/").StatusCode, tc.name+": the session ended at once")
	}
	events, err := e.App.Staff.ListSecurity(context.Background(), 0, 20)
	require.NoError(t, err)
	var kinds []string
	for _, ev := range events {
		kinds = append(kinds, string(ev.Event))
	}
	require.Contains(t, kinds, "staff_disable")
	require.Contains(t, kinds, "staff_role")
	require.Contains(t, kinds, "staff_password")
}

func TestAdminCannotLockThemselvesOut(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	c, me := e.Login(core.RoleAdmin)
	r := c.PostForm("/staff/"+itoa(me.ID)+"/disable", nil)
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	r = c.Get("/staff")
	require.Equal(t, http.StatusOK, r.StatusCode, "still signed in")
	require.Contains(t, r.Text(".flash.error"), "cannot change your own role")
}

func TestStaffFormErrorsRenderBesideTheField(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	c, _ := e.Login(core.RoleAdmin)
	r := c.PostForm("/staff", url.Values{"username": {"x"}, "password": {"long-enough-password"}, "role": {"operator"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	require.Contains(t, r.Text(".field.invalid .error"), "Username must be")
	r = c.PostForm("/staff", url.Values{"username": {"frank"}, "password": {"short"}, "role": {"operator"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	require.Contains(t, r.Text(".field.invalid .error"), "at least 10")
	r = c.PostForm("/staff", url.Values{"username": {"frank"}, "password": {"long-enough-password"}, "role": {"root"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	require.Equal(t, http.StatusSeeOther, c.PostForm("/staff", url.Values{"username": {"frank"}, "password": {"long-enough-password"}, "role": {"viewer"}}).StatusCode)
	r = c.PostForm("/staff", url.Values{"username": {"FRANK"}, "password": {"long-enough-password"}, "role": {"viewer"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	require.Contains(t, r.Text(".field.invalid .error"), "is taken")
}

func TestBadRequestsGetFriendlyPages(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	c, _ := e.Login(core.RoleAdmin)
	r := c.Get("/no/such/page")
	require.Equal(t, http.StatusNotFound, r.StatusCode)
	require.Equal(t, "Page not found", r.Text(".empty h3"))
	require.NotEmpty(t, r.Doc.Find("header.top nav").Nodes, "the 404 keeps the navigation")

	big := strings.Repeat("a", 2<<20)
	r = c.PostForm("/staff", url.Values{"username": {big}})
	require.Equal(t, http.StatusRequestEntityTooLarge, r.StatusCode)
	require.Equal(t, "The request is too large.", r.Text(".empty p"))

	r = c.Get("/staff/abc/role")
	require.Equal(t, http.StatusNotFound, r.StatusCode)
	r = c.PostForm("/staff/999999/disable", nil)
	require.Equal(t, http.StatusNotFound, r.StatusCode)
}

func TestSecurityHeadersAndCookieFlags(t *testing.T) {
	t.Parallel()
	e := webtest.New(t, webtest.Options{Env: map[string]string{"PUBLIC_URL": "https://console.example.com"}})
	c := e.Client()
	r := c.Get("/login")
	csp := r.Header.Get("Content-Security-Policy")
	require.Contains(t, csp, "script-src 'self'")
	require.Contains(t, csp, "style-src 'self'")
	require.NotContains(t, csp, "unsafe-inline")
	require.Contains(t, csp, "img-src 'self' https://wx.qlogo.cn https://thirdwx.qlogo.cn https://mmbiz.qpic.cn https://mmbiz.qlogo.cn;", "images from WeChat's hosts only")
	require.Contains(t, csp, "form-action 'self'")
	require.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
	require.Equal(t, "DENY", r.Header.Get("X-Frame-Options"))
	require.NotEmpty(t, r.Header.Get("Strict-Transport-Security"))
	require.NotEmpty(t, r.Header.Get("X-Request-Id"))
	// No inline scripts or styles anywhere in the page, so the CSP holds.
	require.Zero(t, r.Doc.Find("script:not([src])").Length())
	require.Zero(t, r.Doc.Find("style, [style]").Length())

	e.CreateStaff("gina", core.RoleViewer)
	r = c.PostForm("/login", url.Values{"username": {"gina"}, "password": {webtest.Password}})
	var session *http.Cookie
	for _, ck := range r.Cookies() {
		if ck.Name == "tm_session" {
			session = ck
		}
	}
	require.NotNil(t, session)
	require.True(t, session.HttpOnly)
	require.True(t, session.Secure, "served over https")
	require.Equal(t, http.SameSiteLaxMode, session.SameSite)
	// The cookie holds an opaque signed token, nothing readable.
	require.NotContains(t, session.Value, "gina")
	require.NotContains(t, session.Value, "staff")
}

func TestLanguageNegotiationAndSwitch(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	c := e.Client()
	c.Header.Set("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8")
	r := c.Get("/login")
	require.Equal(t, "登录", r.Text("form[action='/login'] button"))
	require.Equal(t, "zh-CN", r.Doc.Find("html").AttrOr("lang", ""))
	r = c.PostForm("/lang", url.Values{"lang": {"en"}, "next": {"/login"}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	r = c.Get("/login")
	require.Equal(t, "Sign in", r.Text("form[action='/login'] button"), "the switch overrides Accept-Language")
	r = c.PostForm("/lang", url.Values{"lang": {"en"}, "next": {"https://evil.example/"}})
	require.Equal(t, "/", r.Header.Get("Location"), "no open redirect")
	r = c.PostForm("/login", url.Values{"username": {"u"}, "password": {"p"}, "next": {"//evil.example/"}})
	require.NotContains(t, r.Header.Get("Location"), "evil")
}

func TestTimesAreShownInShanghai(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	c, _ := e.Login(core.RoleAdmin)
	// A creation time just before midnight UTC is the next day in Shanghai.
	_, err := e.App.Pool.Exec(context.Background(), "UPDATE staff SET created_at = '2026-03-04 23:30:15+00'")
	require.NoError(t, err)
	r := c.Get("/staff")
	require.Contains(t, r.Text("footer"), "Asia/Shanghai (UTC+08:00)")
	created := r.Doc.Find("tbody td.hide-sm").First().Text()
	require.Regexp(t, regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`), created)
	require.Equal(t, "2026-03-05 07:30:15", created)
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	c := e.Client()
	require.Equal(t, http.StatusOK, c.Get("/healthz").StatusCode)
	require.Equal(t, http.StatusOK, c.Get("/readyz").StatusCode)
	e.App.Pool.Close()
	r := c.Get("/readyz")
	require.Equal(t, http.StatusServiceUnavailable, r.StatusCode, "database gone: not ready")
	require.Equal(t, http.StatusOK, c.Get("/healthz").StatusCode, "but alive")
}

func TestStaticFilesAreCacheBusted(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	c := e.Client()
	r := c.Get("/login")
	href, ok := r.Doc.Find("link[rel=stylesheet]").Attr("href")
	require.True(t, ok)
	require.Regexp(t, `^/static/app\.css\?v=[0-9a-f]{12}$`, href)
	r = c.Get(href)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Contains(t, r.Header.Get("Cache-Control"), "immutable")
	src, _ := c.Get("/login").Doc.Find("script[src*=htmx]").Attr("src")
	r = c.Get(src)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Contains(t, r.Body, `version:"2.`)
}

func itoa(n int64) string { return strconvFormat(n) }

func TestDatabaseGoneGivesFriendly500WithoutDetails(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	c, _ := e.Login(core.RoleAdmin)
	e.App.Pool.Close()
	r := c.Get("/staff")
	require.Equal(t, http.StatusInternalServerError, r.StatusCode)
	require.Equal(t, "Something went wrong", r.Text(".empty h3"))
	require.Contains(t, r.Text(".empty"), "Reference: "+r.Header.Get("X-Request-Id"))
	require.NotContains(t, strings.ToLower(r.Body), "pool")
	require.NotContains(t, strings.ToLower(r.Body), "closed")
	r = c.HTMXPost("/staff", nil)
	require.Equal(t, http.StatusInternalServerError, r.StatusCode)
	require.Equal(t, 1, r.Doc.Find(".result.err").Length())
}

func TestClientIPFromProxyOnlyWhenTrusted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ proxies, xff, want, why string }{
		{"", "203.0.113.7", "127.0.0.1", "no trusted proxy: a forged header is ignored"},
		{"10.9.0.0/16", "203.0.113.7", "127.0.0.1", "the peer is not a trusted proxy"},
		{"127.0.0.1/32", "203.0.113.7", "203.0.113.7", "the trusted proxy's hop"},
		{"127.0.0.1/32", "198.51.100.66, 203.0.113.7", "203.0.113.7", "the client's own additions on the left prove nothing"},
		{"127.0.0.1/32", "198.51.100.66, 10.0.0.8", "10.0.0.8", "a private hop is not a proxy unless named (GO-2026-6872)"},
		{"127.0.0.1/32,10.0.0.0/8", "198.51.100.66, 203.0.113.7, 10.0.0.8", "203.0.113.7", "the rightmost hop that is not a trusted proxy"},
		{"127.0.0.1/32", "not-an-ip", "127.0.0.1", "garbage is not believed"},
	} {
		e := webtest.New(t, webtest.Options{Env: map[string]string{"TRUSTED_PROXIES": tc.proxies}})
		e.CreateStaff("ivan", core.RoleViewer)
		c := e.Client()
		c.Header.Set("X-Forwarded-For", tc.xff)
		c.Get("/login")
		c.PostForm("/login", url.Values{"username": {"ivan"}, "password": {"wrong-password"}})
		ev, err := e.App.Staff.ListSecurity(context.Background(), 0, 1)
		require.NoError(t, err)
		require.Equal(t, tc.want, ev[0].ClientIP, tc.why)
	}
}
