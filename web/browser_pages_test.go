package web_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/browsertest"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// hostileAppID's profile picture points anywhere but WeChat: it must never
// be requested (a tracking pixel), and the placeholder is shown instead.
const hostileAppID = "wx00000000000e0001"

// consoleEnv is a console with data on every page: the demo Mini Programs
// synced from the simulator as `make dev` does, attempts with several
// outcomes, a run partly done, and one staff member of each role.
type consoleEnv struct {
	*webtest.Env
	staff map[core.Role]*core.Staff
	runID int64
}

func newConsoleEnv(t *testing.T) *consoleEnv {
	t.Helper()
	e := webtest.New(t)
	ctx := context.Background()
	demo := wechatsim.DemoAuthorizers()
	e.Sim.AddDemoAccounts(demo)
	e.Sim.AddAuthorizer(wechatsim.Authorizer{AppID: hostileAppID, NickName: "外链头像", HeadImg: "https://evil.example/pixel.gif", PrincipalName: "某公司", MiniProgram: true, AccountStatus: 1})
	require.NoError(t, e.Sim.PushTicket(ctx))
	_, err := e.App.Platform.Sync(ctx)
	require.NoError(t, err)

	ce := &consoleEnv{Env: e, staff: map[core.Role]*core.Staff{}}
	for _, r := range core.Roles {
		ce.staff[r] = e.CreateStaff("browser-"+string(r), r)
	}
	// Attempts with a success, an already-open, a platform error and a merchant action.
	op := e.Client()
	op.LoginAs("browser-operator", webtest.Password)
	for _, i := range []int{0, 2, 3, 7} {
		r := op.HTMXPost("/apps/"+demo[i].AppID+"/open", url.Values{"confirmed": {"1"}})
		require.Equal(t, 200, r.StatusCode, r.Body)
	}
	r := op.HTMXPost("/apps/"+demo[1].AppID+"/check", nil)
	require.Equal(t, 200, r.StatusCode, r.Body)

	// A run over four accounts, one of them done: no worker runs here, so
	// the page shows the same progress every time.
	ids := []string{demo[4].AppID, demo[5].AppID, demo[6].AppID, demo[8].AppID}
	run, err := e.App.Jobs.Runs.Create(ctx, ce.staff[core.RoleOperator], traffic.ActionCheck, ids, "4 selected")
	require.NoError(t, err)
	_, err = e.App.Pool.Exec(ctx, `UPDATE run_items SET state = 'done', outcome = 'success', tries = 1, finished_at = now() WHERE run_id = $1 AND appid = $2`, run.ID, ids[0])
	require.NoError(t, err)
	ce.runID = run.ID
	return ce
}

// login signs the browser in through the form.
func (ce *consoleEnv) login(b *browsertest.Browser, role core.Role) {
	b.Navigate(ce.URL + "/login")
	b.WaitVisible(`#username`)
	b.Fill(`#username`, ce.staff[role].Username)
	b.Fill(`#password`, webtest.Password)
	b.Click(`form[action="/login"] button[type=submit]`)
	b.WaitVisible(`header.top .who`)
}

// setLang switches the language with the page's own buttons.
func setLang(b *browsertest.Browser, lang string) {
	// Mark this document so the wait below sees the next one, not this.
	browsertest.Eval[bool](b, `document.body.dataset.before = "1", true`)
	b.Click(`.langs button[value=` + lang + `]`)
	b.WaitVisible(`html[lang^=` + lang + `] body:not([data-before]) .langs button[value=` + lang + `][aria-pressed=true]`)
}

var (
	idSegment = regexp.MustCompile(`/(wx[0-9a-f]{16}|[0-9]+)(/|$)`)
	skipLinks = regexp.MustCompile(`^/(audit\.csv|revenue\.csv|revenue/settlement\.csv|apps/[^/]+/revenue\.csv|static/)`)
)

// pageKind groups URLs that show the same page: /runs/1 and /runs/2, or
// /?state=open and /?state=never.
func pageKind(u *url.URL) string {
	path := idSegment.ReplaceAllString(u.Path, "/:id$2")
	keys := make([]string, 0, len(u.Query()))
	for k := range u.Query() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return path + "?" + strings.Join(keys, "&")
}

// crawl visits every kind of page reachable by links from start, and fails
// on any console error or CSP violation. It returns the kinds visited.
func crawl(t *testing.T, b *browsertest.Browser, base, start, label string) []string {
	t.Helper()
	seen := map[string]bool{}
	queue := []string{start}
	var kinds []string
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		u, err := url.Parse(next)
		require.NoError(t, err)
		kind := pageKind(u)
		if seen[kind] {
			continue
		}
		seen[kind] = true
		kinds = append(kinds, kind)
		b.Navigate(base + next)
		b.Settle()
		b.RequireClean(label + " " + next)
		hrefs := browsertest.Eval[[]string](b, `[...document.querySelectorAll("a[href]")].map(a => a.getAttribute("href"))`)
		for _, h := range hrefs {
			l, err := url.Parse(h)
			if err != nil || l.Host != "" || l.Scheme != "" || !strings.HasPrefix(l.Path, "/") || skipLinks.MatchString(l.Path) {
				continue
			}
			if !seen[pageKind(l)] {
				queue = append(queue, l.RequestURI())
			}
		}
	}
	return kinds
}

// TestBrowserEveryPageClean visits every page of the console as each role, in
// both languages, with JavaScript on, and fails on any console error,
// uncaught exception, failed load or CSP violation. It is the guard against
// pages that render on the server but are broken in a browser (an inline
// style, a form redirected off-site, an http image).
func TestBrowserEveryPageClean(t *testing.T) {
	t.Parallel()
	ce := newConsoleEnv(t)
	for _, role := range core.Roles {
		t.Run(string(role), func(t *testing.T) {
			b := browsertest.New(t)
			ce.login(b, role)
			b.RequireClean("login")
			for _, lang := range []string{"en", "zh"} {
				setLang(b, lang)
				kinds := crawl(t, b, ce.URL, "/", string(role)+"/"+lang)
				t.Logf("%s/%s: %d kinds of page: %s", role, lang, len(kinds), strings.Join(kinds, " "))
				want := []string{"/?", "/runs?", "/runs/:id?", "/audit?", "/audit/:id?", "/apps/:id?", "/revenue?", "/revenue/settlement?"}
				if role == core.RoleAdmin {
					want = append(want, "/platform?", "/jobs?", "/staff?", "/security-log?")
				}
				for _, k := range want {
					require.Contains(t, kinds, k, "%s/%s reaches %s by links", role, lang, k)
				}

				// The interactive parts, with htmx and app.js.
				b.Navigate(ce.URL + "/")
				b.Settle()
				if role.AtLeast(core.RoleOperator) {
					app := wechatsim.DemoAuthorizers()[1].AppID
					b.Click(`#app-` + app + ` button[data-action=check]`)
					b.WaitVisible(`#result-` + app + ` .result`)
					b.Settle()
				}
				b.Navigate(ce.URL + fmt.Sprintf("/runs/%d", ce.runID))
				b.Settle()
				// Pages reached through forms rather than links.
				for _, path := range []string{"/?q=" + url.QueryEscape("鲜果") + "&status=normal&sort=recent", "/audit?outcome=success&action=open"} {
					b.Navigate(ce.URL + path)
					b.Settle()
				}
				// The not-found page: the browser logs the 404 itself, and nothing else.
				b.RequireClean(string(role) + "/" + lang + " forms")
				b.Navigate(ce.URL + "/no-such-page")
				b.Settle()
				// The browser's log entry may trail the page: wait for it.
				notFound := regexp.MustCompile(`status of 404 .*\[` + regexp.QuoteMeta(ce.URL) + `/no-such-page\]$`)
				for seen := false; !seen; {
					for _, p := range b.Problems() {
						require.Regexp(t, notFound, p)
						seen = true
					}
				}
				b.Navigate(ce.URL + "/") // the next language is chosen from a page that exists
				if role.AtLeast(core.RoleOperator) {
					b.Navigate(ce.URL + "/runs")
					b.Click(`#new-run button[type=submit]`)
					b.WaitVisible(`#confirm-count`)
					b.Settle()
				}
				if role == core.RoleAdmin {
					b.Navigate(ce.URL + "/platform")
					b.Click(`#authorize`)
					b.WaitVisible(`#authorize-qr`)
					b.Settle()
				}
				b.RequireClean(string(role) + "/" + lang + " actions and forms")
			}
		})
	}
}

// TestBrowserAvatarsFromWeChatOnly: WeChat's http avatar URLs are shown over
// https from WeChat's hosts (the CSP allows exactly those), and a picture
// anywhere else is never requested: the placeholder stands in.
func TestBrowserAvatarsFromWeChatOnly(t *testing.T) {
	t.Parallel()
	ce := newConsoleEnv(t)
	b := browsertest.New(t)
	ce.login(b, core.RoleViewer)
	b.Navigate(ce.URL + "/")
	b.Settle()
	b.RequireClean("list")

	demo := wechatsim.DemoAuthorizers()[0]
	src := browsertest.Eval[string](b, `document.querySelector("#app-`+demo.AppID+` img.avatar").currentSrc`)
	require.Equal(t, "https://wx.qlogo.cn/mmopen/demo01/0", src)
	loaded := browsertest.Eval[bool](b, `(() => { const i = document.querySelector("#app-`+demo.AppID+` img.avatar"); return i.complete && i.naturalWidth > 0; })()`)
	require.True(t, loaded, "the avatar is displayed")
	require.Contains(t, b.WeChatImages(), "https://wx.qlogo.cn/mmopen/demo01/0")

	hostile := browsertest.Eval[string](b, `document.querySelector("#app-`+hostileAppID+` img.avatar").getAttribute("src")`)
	require.True(t, strings.HasPrefix(hostile, "/static/img/avatar.svg"), hostile)
	for _, u := range b.WeChatImages() {
		require.True(t, strings.HasPrefix(u, "https://"), u)
	}
}

// TestBrowserRunProgressBar: the bar shows the share done (the CSP blocks an
// inline width, which left the old bar always full) and has a name.
func TestBrowserRunProgressBar(t *testing.T) {
	t.Parallel()
	ce := newConsoleEnv(t)
	b := browsertest.New(t)
	ce.login(b, core.RoleViewer)
	b.Navigate(ce.URL + fmt.Sprintf("/runs/%d", ce.runID))
	b.WaitVisible(`#run-bar`)
	b.Settle()
	b.RequireClean("run page")
	require.InDelta(t, 0.25, browsertest.Eval[float64](b, `document.querySelector("#run-bar").position`), 0.001)
	require.Equal(t, "Run progress", browsertest.Eval[string](b, `document.querySelector("#run-bar").getAttribute("aria-label")`))
	// No inline style anywhere in the part htmx refreshes.
	require.Zero(t, browsertest.Eval[int](b, `document.querySelectorAll("#run-progress [style]").length`))
}

// TestBrowserAuthorizeMiniProgram: "Authorize a Mini Program" reaches WeChat's
// page by a link (a form redirected off-site is blocked by form-action
// 'self'), offers the phone link with a copy button and a QR code, and the
// approval comes back to the console.
func TestBrowserAuthorizeMiniProgram(t *testing.T) {
	t.Parallel()
	ce := newConsoleEnv(t)
	b := browsertest.New(t)
	ce.login(b, core.RoleAdmin)
	b.Navigate(ce.URL + "/platform")
	b.Settle()
	before := strings.TrimSpace(b.Text(`#count-mini b`))
	b.Click(`#authorize`)
	b.WaitVisible(`#authorize-link`)
	b.Settle()
	b.RequireClean("authorization page")
	b.Screenshot("authorize")

	mobile := browsertest.Eval[string](b, `document.querySelector("#authorize-url").value`)
	require.True(t, strings.HasPrefix(mobile, ce.SimURL+"/safe/bindcomponent?"), mobile)
	require.True(t, browsertest.Eval[bool](b, `document.querySelector("#authorize-qr svg path").getAttribute("d").length > 100`), "a QR code is drawn")
	b.Click(`button[data-copy=authorize-url]`)
	// The status is written when the clipboard answers: wait for any word in it.
	b.Do(chromedp.Poll[chromedp.Void](`document.querySelector("#authorize-url-status").textContent.trim() !== ""`))
	require.Equal(t, "Copied.", strings.TrimSpace(b.Text(`#authorize-url-status`)))

	// The merchant approves on WeChat's page (it checks the Referer is the
	// platform's domain), which sends the browser back to the console.
	b.Click(`#authorize-link`)
	b.WaitVisible(`.flash.ok`)
	require.Equal(t, ce.URL+"/platform", b.Location())
	require.Equal(t, "The account was authorized and added.", strings.TrimSpace(b.Text(`.flash.ok`)))
	require.NotEqual(t, before, strings.TrimSpace(b.Text(`#count-mini b`)))
	b.RequireClean("back from WeChat")
}

// shot is one page of the screenshot and accessibility tour.
type shot struct {
	name string
	open func(b *browsertest.Browser)
	// axe: axe-core must find nothing on this page.
	axe bool
}

// TestBrowserPhonesAndAccessibility takes each page at 1440 and 390 px in
// English and Chinese (saved when TRAFFICMASTER_SCREENSHOTS names a folder:
// `make screenshots`), runs axe-core on them, and checks the phone layout of
// the Mini Programs list: cards without sideways scrolling, the first one
// visible without scrolling, the menu collapsed behind a button.
func TestBrowserPhonesAndAccessibility(t *testing.T) {
	t.Parallel()
	ce := newConsoleEnv(t)
	demo := wechatsim.DemoAuthorizers()
	var attemptID int64
	require.NoError(t, ce.App.Pool.QueryRow(context.Background(), `SELECT max(id) FROM attempts`).Scan(&attemptID))
	nav := func(path, wait string) func(b *browsertest.Browser) {
		return func(b *browsertest.Browser) {
			b.Navigate(ce.URL + path)
			b.WaitVisible(wait)
		}
	}
	pages := []shot{
		{"list", nav("/", "#apps"), true},
		{"account", nav("/apps/"+demo[7].AppID, "main h1"), true},
		{"audit", nav("/audit", "#attempts"), true},
		{"audit-entry", nav(fmt.Sprintf("/audit/%d", attemptID), "#raw"), true},
		{"runs", nav("/runs", "#runs"), true},
		{"run", nav(fmt.Sprintf("/runs/%d", ce.runID), "#run-bar"), true},
		{"platform", nav("/platform", "#counts"), true},
		{"authorize", func(b *browsertest.Browser) {
			nav("/platform", "#authorize")(b)
			b.Click(`#authorize`)
			b.WaitVisible(`#authorize-qr`)
		}, true},
		{"jobs", nav("/jobs", "#schedules"), true},
		{"staff", nav("/staff", "main h1"), true},
		{"security-log", nav("/security-log", "main h1"), true},
	}
	for _, width := range []int64{1440, 390} {
		b := browsertest.New(t)
		b.Viewport(width, map[int64]int64{1440: 900, 390: 844}[width])
		for _, lang := range []string{"en", "zh"} {
			where := func(name string) string { return fmt.Sprintf("%s-%d-%s", name, width, lang) }
			b.Navigate(ce.URL + "/login")
			b.WaitVisible(`#username`)
			setLang(b, lang)
			b.Settle()
			b.Screenshot(where("login"))
			requireAccessible(t, b, where("login"))
			b.Fill(`#username`, ce.staff[core.RoleAdmin].Username)
			b.Fill(`#password`, webtest.Password)
			b.Click(`form[action="/login"] button[type=submit]`)
			b.WaitVisible(`#apps`)
			for _, p := range pages {
				p.open(b)
				b.Settle()
				b.Screenshot(where(p.name))
				if width == 390 {
					b.ScreenshotViewport(where(p.name) + "-screen")
				}
				if p.axe {
					requireAccessible(t, b, where(p.name))
				}
				b.RequireClean(where(p.name))
			}
			if width == 390 {
				requirePhoneList(t, b, ce.URL, where("menu"))
			}
			// Sign out (through the phone menu on a phone).
			b.Navigate(ce.URL + "/")
			b.Settle()
			if width == 390 {
				b.Click(`.menu-toggle`)
			}
			b.Click(`header.top form[action="/logout"] button`)
			b.WaitVisible(`#username`)
			b.RequireClean(where("logout"))
		}
	}
}

func requireAccessible(t *testing.T, b *browsertest.Browser, where string) {
	t.Helper()
	vs := b.Axe()
	if len(vs) > 0 {
		lines := make([]string, len(vs))
		for i, v := range vs {
			lines[i] = v.String()
		}
		t.Errorf("axe-core on %s:\n  %s", where, strings.Join(lines, "\n  "))
	}
}

// requirePhoneList checks the Mini Programs list on a 390 px phone.
func requirePhoneList(t *testing.T, b *browsertest.Browser, base, shot string) {
	t.Helper()
	b.Navigate(base + "/")
	b.WaitVisible(`#apps`)
	b.Settle()
	require.LessOrEqual(t, browsertest.Eval[int](b, `document.documentElement.scrollWidth`), 390, "no sideways scrolling")
	first := `document.querySelector("#apps tbody tr")`
	require.Less(t, browsertest.Eval[float64](b, first+`.getBoundingClientRect().top`), browsertest.Eval[float64](b, `window.innerHeight`), "the first account is visible without scrolling")
	for _, sel := range []string{`[id^="state-"]`, `button[data-action=check]`, `button[data-action=open]`, `.who-cell a.name`} {
		right := browsertest.Eval[float64](b, first+`.querySelector('`+sel+`').getBoundingClientRect().right`)
		require.LessOrEqual(t, right, 390.0, "%s fits the card", sel)
	}
	require.Equal(t, "block", browsertest.Eval[string](b, `getComputedStyle(`+first+`).display`), "each account is a card")
	require.False(t, browsertest.Eval[bool](b, `!!document.querySelector("header.top nav").offsetParent`), "the menu is collapsed")
	b.Click(`.menu-toggle`)
	b.WaitVisible(`header.top nav a[href="/audit"]`)
	require.Equal(t, "true", browsertest.Eval[string](b, `document.querySelector(".menu-toggle").getAttribute("aria-expanded")`))
	b.ScreenshotViewport(shot)
	requireAccessible(t, b, shot)
}
