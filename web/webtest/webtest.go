// Package webtest runs the whole console in-process for HTTP tests: a fresh
// migrated database, the real echo stack, and the WeChat simulator, with
// clients that keep cookies and send the CSRF token like a browser.
package webtest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/alexedwards/argon2id"

	"github.com/trafficmaster/trafficmaster/internal/app"
	"github.com/trafficmaster/trafficmaster/internal/config"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web"
)

// Fixed test platform identity, shared by the console and the simulator.
const (
	ComponentAppID = "wxtestcomponent0001"
	ComponentToken = "test-push-token"
	AESKey         = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	AppSecret      = "test-component-secret"
)

// Env is one whole console and its simulator.
type Env struct {
	T   testing.TB
	App *app.App
	// Server is the console built over App, as serve builds it.
	Server *web.Server
	Sim    *wechatsim.Sim
	SimURL string
	URL    string
	// Vars is the environment the console's configuration was loaded from.
	Vars map[string]string
	Log  *slog.Logger
}

// Options adjust an Env.
type Options struct {
	// Env overrides configuration variables.
	Env map[string]string
	// SimConfig adjusts the simulator's configuration before it starts.
	SimConfig func(*wechatsim.Config)
	// Now replaces the clock.
	Now func() time.Time
	// HTTPClient is what the console uses to call WeChat.
	HTTPClient *http.Client
	// Tokens replaces where the traffic service gets authorizer tokens.
	Tokens traffic.AuthorizerTokens
	// LogTo also receives every log line, at debug level (tests of what is logged).
	LogTo io.Writer
}

// New starts a console on a fresh database with a simulator beside it.
func New(t testing.TB, opts ...Options) *Env {
	t.Helper()
	var opt Options
	if len(opts) > 0 {
		opt = opts[0]
	}
	dsn := pgtest.URL(t)
	console := httptest.NewUnstartedServer(nil)
	consoleURL := "http://" + console.Listener.Addr().String()

	simCfg := wechatsim.Config{
		ComponentAppID: ComponentAppID, ComponentAppSecret: AppSecret, Token: ComponentToken, EncodingAESKey: AESKey,
		EventURL: consoleURL + "/wechat/events",
	}
	if opt.SimConfig != nil {
		opt.SimConfig(&simCfg)
	}
	sim, err := wechatsim.New(simCfg)
	if err != nil {
		t.Fatalf("webtest: simulator: %v", err)
	}
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(simSrv.Close)

	vars := map[string]string{
		"DATABASE_URL":               dsn,
		"SECRET_KEY":                 "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"PUBLIC_URL":                 consoleURL,
		"WECHAT_COMPONENT_APPID":     ComponentAppID,
		"WECHAT_COMPONENT_APPSECRET": AppSecret,
		"WECHAT_COMPONENT_TOKEN":     ComponentToken,
		"WECHAT_COMPONENT_AES_KEY":   AESKey,
		"WECHAT_API_BASE_URL":        simSrv.URL,
		"WECHAT_LOGIN_PAGE_BASE_URL": simSrv.URL,
	}
	for k, v := range opt.Env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatalf("webtest: config: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opt.LogTo != nil {
		w := opt.LogTo
		if testing.Verbose() {
			w = io.MultiWriter(w, testWriter{t})
		}
		log = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	a, err := app.New(context.Background(), cfg, log, app.Options{HTTPClient: opt.HTTPClient, Now: opt.Now, Tokens: opt.Tokens})
	if err != nil {
		t.Fatalf("webtest: app: %v", err)
	}
	t.Cleanup(a.Close)
	// Cheap hashing keeps tests fast; production uses argon2id's defaults.
	a.Auth.Params = &argon2id.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	srv := web.ForApp(a)
	console.Config.Handler = srv
	console.Start()
	t.Cleanup(console.Close)
	return &Env{T: t, App: a, Server: srv, Sim: sim, SimURL: simSrv.URL, URL: consoleURL, Vars: vars, Log: log}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Password is the password of staff made by CreateStaff.
const Password = "correct-horse-battery"

// CreateStaff adds a staff member with Password.
func (e *Env) CreateStaff(username string, role core.Role) *core.Staff {
	e.T.Helper()
	st, err := e.App.Auth.CreateStaff(context.Background(), nil, username, Password, role, core.Meta{ClientIP: "test"})
	if err != nil {
		e.T.Fatalf("webtest: create staff: %v", err)
	}
	return st
}

// Client is a browser-like client: it keeps cookies, does not follow
// redirects (tests check them) and sends the CSRF token.
type Client struct {
	e    *Env
	HTTP *http.Client
	// NoCSRF makes posts omit the token (to test the protection).
	NoCSRF bool
	// Header is added to every request.
	Header http.Header
	// csrf is the token of the last page, as a browser's forms carry it.
	csrf string
}

// Client returns a new anonymous client.
func (e *Env) Client() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{e: e, Header: http.Header{}, HTTP: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Login returns a client signed in as a new staff member with the role.
func (e *Env) Login(role core.Role) (*Client, *core.Staff) {
	e.T.Helper()
	st := e.CreateStaff(string(role)+"-"+strings.ReplaceAll(e.T.Name(), "/", "-")[:min(20, len(e.T.Name()))], role)
	c := e.Client()
	c.LoginAs(st.Username, Password)
	return c, st
}

// LoginAs signs in and fails the test unless it worked.
func (c *Client) LoginAs(username, password string) {
	t := c.e.T
	t.Helper()
	c.Get("/login")
	r := c.PostForm("/login", url.Values{"username": {username}, "password": {password}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("webtest: login as %s: status %d\n%s", username, r.StatusCode, r.Body)
	}
	// The session, and so the CSRF token, is new: load a page as the browser would.
	c.Get("/")
}

// Response is a read response with its parsed HTML.
type Response struct {
	*http.Response
	Body string
	Doc  *goquery.Document
}

// Text returns the trimmed text of the first element matching sel.
func (r *Response) Text(sel string) string { return strings.TrimSpace(r.Doc.Find(sel).First().Text()) }

// CSRF returns the token of the last page loaded (its csrf-token meta tag):
// the server binds it to the session, so it changes at login. A client that
// has loaded no page yet loads the login page first, as a browser would.
func (c *Client) CSRF() string {
	if c.csrf == "" {
		c.Get("/login")
	}
	return c.csrf
}

// Get requests a path.
func (c *Client) Get(path string) *Response {
	req, _ := http.NewRequest(http.MethodGet, c.e.URL+path, nil)
	return c.Do(req)
}

// PostForm posts a form with the CSRF field, as the console's forms do.
func (c *Client) PostForm(path string, vals url.Values) *Response {
	if vals == nil {
		vals = url.Values{}
	}
	if !c.NoCSRF && vals.Get("_csrf") == "" {
		vals.Set("_csrf", c.CSRF())
	}
	req, _ := http.NewRequest(http.MethodPost, c.e.URL+path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.Do(req)
}

// HTMXPost posts as htmx does: HX-Request and the X-CSRF-Token header.
func (c *Client) HTMXPost(path string, vals url.Values) *Response {
	if vals == nil {
		vals = url.Values{}
	}
	req, _ := http.NewRequest(http.MethodPost, c.e.URL+path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	if !c.NoCSRF {
		req.Header.Set("X-CSRF-Token", c.CSRF())
	}
	return c.Do(req)
}

// Do sends a request and reads and parses the response.
func (c *Client) Do(req *http.Request) *Response {
	t := c.e.T
	t.Helper()
	for k, v := range c.Header {
		req.Header[k] = v
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatalf("webtest: %s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("webtest: read body: %v", err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("webtest: parse HTML: %v", err)
	}
	if tok, ok := doc.Find("meta[name=csrf-token]").Attr("content"); ok && tok != "" {
		c.csrf = tok
	}
	return &Response{Response: resp, Body: string(b), Doc: doc}
}
