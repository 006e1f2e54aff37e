package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// testClock is one clock for the console and the simulator, moved by the test.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newPanelsEnv is a console and simulator sharing a clock the test moves.
func newPanelsEnv(t *testing.T) (*trafficEnv, *testClock) {
	clock := &testClock{now: time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)}
	e := newTrafficEnv(t, webtest.Options{Now: clock.Now, SimConfig: func(c *wechatsim.Config) { c.Now = clock.Now }})
	return e, clock
}

// addOpenAccount adds a Mini Program whose traffic master was opened at opened.
func (e *trafficEnv) addOpenAccount(t *testing.T, opened time.Time) string {
	t.Helper()
	app := e.addAccount(t, account{})
	e.Sim.MarkOpened(app, opened)
	_, err := e.App.Pool.Exec(context.Background(), `UPDATE authorizer_state SET state = 'open' WHERE appid = $1`, app)
	require.NoError(t, err)
	return app
}

func form(kv ...string) url.Values {
	v := url.Values{"confirmed": {"1"}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// htmxGet reads a partial as htmx does.
func htmxGet(c *webtest.Client, path string) *webtest.Response {
	c.Header.Set("HX-Request", "true")
	defer c.Header.Del("HX-Request")
	return c.Get(path)
}

// The cover switch is disabled, on the server, until WeChat's hourly limits
// have passed, and the panel says until when: after a switch (2008), after a
// refusal for 2008, within an hour of opening (2068); an hour later it is
// enabled again.
func TestCoverSwitchWaitsForWeChatsHourlyLimits(t *testing.T) {
	t.Parallel()
	e, clock := newPanelsEnv(t)
	c, _ := e.Login(core.RoleOperator)
	app := e.addOpenAccount(t, clock.Now().Add(-2*time.Hour))

	r := htmxGet(c, "/apps/"+app+"/cover")
	require.Equal(t, http.StatusOK, r.StatusCode, r.Body)
	status := r.Doc.Find("[data-cover-status]").AttrOr("data-cover-status", "")
	require.Contains(t, []string{"on", "off"}, status)
	btn := r.Doc.Find("button[data-cover-switch]")
	require.Equal(t, 1, btn.Length())
	_, disabled := btn.Attr("disabled")
	require.False(t, disabled, "opened two hours ago and never switched: it may be switched")
	require.NotEmpty(t, r.Doc.Find("form[data-cover-switch-form]").AttrOr("hx-confirm", ""), "switching asks first")
	want := map[string]string{"on": "0", "off": "1"}[status]

	switchedAt := clock.Now()
	r = c.HTMXPost("/apps/"+app+"/cover", form("on", want))
	require.Equal(t, http.StatusOK, r.StatusCode, r.Body)
	require.Equal(t, "success", r.Doc.Find("#cover-ads .result").AttrOr("data-outcome", ""), r.Body)
	retry := switchedAt.Add(time.Hour)
	checkBlocked := func(r *webtest.Response, code string) {
		t.Helper()
		btn := r.Doc.Find("button[data-cover-switch]")
		_, disabled := btn.Attr("disabled")
		require.True(t, disabled, "the switch waits for WeChat's limit: %s", r.Body)
		note := r.Doc.Find("[data-retry-at]")
		require.Equal(t, retry.UTC().Format(time.RFC3339), note.AttrOr("data-retry-at", ""))
		require.Contains(t, note.Text(), retry.In(shanghai(t)).Format("2006-01-02 15:04:05"), "the time is shown in the console's zone")
		require.Contains(t, note.Text(), "code "+code)
	}
	checkBlocked(r, "2008")
	require.NotEqual(t, status, r.Doc.Find("[data-cover-status]").AttrOr("data-cover-status", ""), "the panel was read again")

	// Half an hour later, a switch sent anyway (the button bypassed) is
	// refused by WeChat with 2008; the panel still says when.
	clock.Add(30 * time.Minute)
	back := map[string]string{"0": "1", "1": "0"}[want]
	r = c.HTMXPost("/apps/"+app+"/cover", form("on", back))
	require.Equal(t, http.StatusOK, r.StatusCode, r.Body)
	require.Equal(t, "2008", r.Text("#cover-ads .result [data-code]"))
	checkBlocked(r, "2008")
	r = htmxGet(c, "/apps/"+app+"/cover?refresh=1")
	checkBlocked(r, "2008")

	// An hour after the switch it may be switched again.
	clock.Add(31 * time.Minute)
	r = htmxGet(c, "/apps/"+app+"/cover?refresh=1")
	_, disabled = r.Doc.Find("button[data-cover-switch]").Attr("disabled")
	require.False(t, disabled, r.Body)
	require.Equal(t, 0, r.Doc.Find("[data-retry-at]").Length())
	r = c.HTMXPost("/apps/"+app+"/cover", form("on", back))
	require.Equal(t, "success", r.Doc.Find("#cover-ads .result").AttrOr("data-outcome", ""), r.Body)

	// Opened ten minutes ago: switching on is refused with 2068 and the
	// switch waits an hour from then.
	fresh := e.addOpenAccount(t, clock.Now().Add(-10*time.Minute))
	r = htmxGet(c, "/apps/"+fresh+"/cover")
	if r.Doc.Find("[data-cover-status]").AttrOr("data-cover-status", "") == "on" {
		r = c.HTMXPost("/apps/"+fresh+"/cover", form("on", "0"))
		require.Equal(t, "success", r.Doc.Find("#cover-ads .result").AttrOr("data-outcome", ""), r.Body)
	}
	retry = clock.Now().Add(time.Hour)
	r = c.HTMXPost("/apps/"+fresh+"/cover", form("on", "1"))
	require.Equal(t, "2068", r.Text("#cover-ads .result [data-code]"), r.Body)
	checkBlocked(r, "2068")
}

func shanghai(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	return loc
}

// A custom ratio is shown pending the merchant's confirmation until WeChat
// has it in effect; the page never says it failed or did not change.
func TestShareRatioIsShownPendingUntilTheMerchantConfirms(t *testing.T) {
	t.Parallel()
	e, clock := newPanelsEnv(t)
	c, _ := e.Login(core.RoleOperator)
	app := e.addOpenAccount(t, clock.Now().Add(-48*time.Hour))

	r := htmxGet(c, "/apps/"+app+"/share-ratio")
	require.Equal(t, http.StatusOK, r.StatusCode, r.Body)
	require.Equal(t, "30%", r.Text("[data-in-effect]"))
	require.Equal(t, 0, r.Doc.Find("[data-pending]").Length())

	r = c.HTMXPost("/apps/"+app+"/share-ratio", url.Values{"ratio": {"101"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	require.NotEmpty(t, r.Text("#share-ratio .field-error"))

	r = c.HTMXPost("/apps/"+app+"/share-ratio", url.Values{"ratio": {"35"}})
	require.Equal(t, http.StatusOK, r.StatusCode, r.Body)
	require.Equal(t, "success", r.Doc.Find("#share-ratio .result").AttrOr("data-outcome", ""))
	require.Equal(t, 1, r.Doc.Find("#share-ratio [data-pending]").Length(), r.Body)
	require.Contains(t, r.Text("[data-pending-note]"), "35%")
	require.Contains(t, r.Text("[data-pending-note]"), "30%")
	require.Equal(t, "30%", r.Text("[data-in-effect]"))
	text := strings.ToLower(r.Doc.Find("#share-ratio").Text())
	require.NotContains(t, text, "fail")
	require.NotContains(t, text, "not change")

	require.True(t, e.Sim.ConfirmShareRatio(app))
	r = htmxGet(c, "/apps/"+app+"/share-ratio?refresh=1")
	require.Equal(t, "35%", r.Text("[data-in-effect]"))
	require.Equal(t, 0, r.Doc.Find("[data-pending]").Length())
	require.Equal(t, 1, r.Doc.Find("[data-confirmed]").Length())
}

// Blocked advertisers per kind with their caps; a full kind cannot be
// chosen, and WeChat's 2035 is explained; remove asks first; industries are
// saved in one write.
func TestBlockingPanel(t *testing.T) {
	t.Parallel()
	e, clock := newPanelsEnv(t)
	c, _ := e.Login(core.RoleOperator)
	app := e.addOpenAccount(t, clock.Now().Add(-48*time.Hour))

	r := htmxGet(c, "/apps/"+app+"/blocking")
	require.Equal(t, http.StatusOK, r.StatusCode, r.Body)
	require.Equal(t, "0 used of 20", r.Text(`[data-kind=biz] [data-count]`))
	require.Equal(t, "0 used of 10", r.Text(`[data-kind=ios] [data-count]`))
	for i := range 10 {
		r = c.HTMXPost("/apps/"+app+"/blocking", url.Values{"op": {"add"}, "kind": {"2"}, "id": {strconv.Itoa(414478120 + i)}})
		require.Equal(t, "success", r.Doc.Find("#blocking .result").AttrOr("data-outcome", ""), r.Body)
	}
	require.Equal(t, "10 used of 10", r.Text(`[data-kind=ios] [data-count]`))
	require.Equal(t, 1, r.Doc.Find(`[data-kind=ios] [data-full]`).Length())
	_, disabled := r.Doc.Find(`select[name=kind] option[value="2"]`).Attr("disabled")
	require.True(t, disabled, "a full kind cannot be chosen")
	r = c.HTMXPost("/apps/"+app+"/blocking", url.Values{"op": {"add"}, "kind": {"2"}, "id": {"999"}})
	require.Equal(t, "2035", r.Text("#blocking .result [data-code]"), r.Body)
	require.Contains(t, r.Text("#blocking .result"), "over its cap")

	require.NotEmpty(t, r.Doc.Find(`[data-kind=ios] li[data-id="414478120"] form`).AttrOr("hx-confirm", ""), "removing asks first")
	r = c.HTMXPost("/apps/"+app+"/blocking", form("op", "remove", "kind", "2", "id", "414478120"))
	require.Equal(t, "success", r.Doc.Find("#blocking .result").AttrOr("data-outcome", ""), r.Body)
	require.Equal(t, "9 used of 10", r.Text(`[data-kind=ios] [data-count]`))
	require.Equal(t, 0, r.Doc.Find(`[data-kind=ios] li[data-id="414478120"]`).Length())

	// Without JavaScript, removing asks on a page first.
	r = c.PostForm("/apps/"+app+"/blocking", url.Values{"op": {"remove"}, "kind": {"2"}, "id": {"414478121"}})
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, 1, r.Doc.Find("[data-confirm-change] input[name=confirmed]").Length())
	r = c.PostForm("/apps/"+app+"/blocking", url.Values{"op": {"remove"}, "kind": {"2"}, "id": {"414478121"}, "confirmed": {"1"}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	require.Equal(t, "/apps/"+app+"/ad-settings#blocking", r.Header.Get("Location"))
	r = c.Get("/apps/" + app + "/ad-settings")
	require.Equal(t, "8 used of 10", r.Text(`[data-kind=ios] [data-count]`))
	require.Contains(t, r.Text(".flash.ok"), "Blocked advertisers changed.")

	r = c.HTMXPost("/apps/"+app+"/blocking/industries", url.Values{"industry": {"LOAN", "CHESS", "NOPE"}})
	require.Equal(t, "success", r.Doc.Find("#blocking .result").AttrOr("data-outcome", ""), r.Body)
	checked := r.Doc.Find(`[data-industries] input:checked`).Map(func(_ int, s *goquerySel) string { return s.AttrOr("value", "") })
	require.ElementsMatch(t, []string{"CHESS", "LOAN"}, checked)
}

// Viewers see the panels without a form and are refused every write (403),
// each refusal in the audit; every form carries the CSRF token, and a post
// without it is refused.
func TestAdPanelsAreReadOnlyForViewers(t *testing.T) {
	t.Parallel()
	e, clock := newPanelsEnv(t)
	app := e.addOpenAccount(t, clock.Now().Add(-48*time.Hour))
	op, _ := e.Login(core.RoleOperator)
	r := op.Get("/apps/" + app + "/ad-settings")
	require.Equal(t, http.StatusOK, r.StatusCode)
	forms := r.Doc.Find("main form[method=post]")
	require.GreaterOrEqual(t, forms.Length(), 5)
	forms.Each(func(_ int, f *goquerySel) {
		require.NotEmpty(t, f.Find("input[name=_csrf]").AttrOr("value", ""), f.AttrOr("action", ""))
	})
	op.NoCSRF = true
	r = op.HTMXPost("/apps/"+app+"/share-ratio", url.Values{"ratio": {"40"}})
	require.Equal(t, http.StatusForbidden, r.StatusCode)
	op.NoCSRF = false

	v, _ := e.Login(core.RoleViewer)
	r = v.Get("/apps/" + app + "/ad-settings")
	require.Equal(t, http.StatusOK, r.StatusCode)
	for _, id := range []string{"#cover-ads", "#blocking", "#share-ratio"} {
		require.Equal(t, 1, r.Doc.Find(id).Length(), id)
		require.Equal(t, 0, r.Doc.Find(id+" form").Length(), "%s has no form for viewers", id)
	}
	require.NotEmpty(t, r.Text("[data-in-effect]"))
	for _, p := range []struct {
		path string
		vals url.Values
	}{
		{"/cover", form("on", "0")},
		{"/cover", nil},
		{"/cover/scenes", url.Values{"scene": {"1001"}}},
		{"/cover/scenes", nil},
		{"/blocking", url.Values{"op": {"add"}, "kind": {"1"}, "id": {"gh_123456789abc"}}},
		{"/blocking", url.Values{"op": {"remove"}}},
		{"/blocking/industries", url.Values{"industry": {"LOAN"}}},
		{"/share-ratio", url.Values{"ratio": {"40"}}},
		{"/share-ratio", url.Values{"ratio": {"x"}}},
	} {
		require.Equal(t, http.StatusForbidden, v.PostForm("/apps/"+app+p.path, p.vals).StatusCode, p.path)
		require.Equal(t, http.StatusForbidden, v.HTMXPost("/apps/"+app+p.path, p.vals).StatusCode, p.path)
	}
	require.Equal(t, http.StatusForbidden, v.PostForm("/platform/share-ratio", url.Values{"ratio": {"40"}}).StatusCode)
	refused := 0
	for _, a := range e.attempts(t, app) {
		require.Equal(t, traffic.OutcomeNotAllowed, a.Outcome)
		refused++
	}
	require.Equal(t, 18, refused, "every refusal is in the audit")
	_, _, pending := e.Sim.ShareRatio(app)
	require.False(t, pending, "nothing reached WeChat")
}

// Every write of the panels is in the audit with its outcome and what was asked.
func TestAdPanelWritesAreAudited(t *testing.T) {
	t.Parallel()
	e, clock := newPanelsEnv(t)
	c, _ := e.Login(core.RoleOperator)
	app := e.addOpenAccount(t, clock.Now().Add(-48*time.Hour))
	writes := []struct {
		path   string
		vals   url.Values
		action traffic.Action
		params string
	}{
		{"/cover/scenes", url.Values{"scene": {"1001", "1089"}}, traffic.ActionCoverScene, `{"scenes":[1001,1089]}`},
		{"/blocking", url.Values{"op": {"add"}, "kind": {"1"}, "id": {"gh_0123456789ab"}}, traffic.ActionBlocklist, `{"add":true,"entries":[{"type":1,"id":"gh_0123456789ab"}]}`},
		{"/blocking/industries", url.Values{"industry": {"INSURANCE"}}, traffic.ActionBlockIndustry, `{"categories":["INSURANCE"]}`},
		{"/share-ratio", url.Values{"ratio": {"40"}}, traffic.ActionShareRatio, `{"ratio":40}`},
		{"/cover", form("on", "0"), traffic.ActionCoverStatus, `{"on":false}`},
	}
	for _, w := range writes {
		r := c.HTMXPost("/apps/"+app+w.path, w.vals)
		require.Equal(t, http.StatusOK, r.StatusCode, w.path+": "+r.Body)
		link := r.Doc.Find(".result [data-audit-link]").AttrOr("href", "")
		require.NotEmpty(t, link, w.path)
		id, err := strconv.ParseInt(strings.TrimPrefix(link, "/audit/"), 10, 64)
		require.NoError(t, err)
		a := e.attemptRow(t, id)
		require.Equal(t, w.action, a.Action)
		require.JSONEq(t, w.params, string(a.Params))
		entry := c.Get(link)
		require.JSONEq(t, w.params, entry.Text("[data-params]"))
		require.NotEmpty(t, entry.Doc.Find("[data-outcome]").AttrOr("data-outcome", ""), w.path)
		list := c.Get("/audit?appid=" + app + "&action=" + string(w.action))
		require.Equal(t, string(a.Outcome), list.Doc.Find("#attempt-"+strconv.FormatInt(id, 10)).AttrOr("data-outcome", ""), w.path)
	}
}

// Admins set the platform's default ratio; the security log keeps the
// ratio before and after.
func TestDefaultShareRatioIsRecordedInTheSecurityLog(t *testing.T) {
	t.Parallel()
	e, _ := newPanelsEnv(t)
	require.NoError(t, e.Sim.PushTicket(context.Background()))
	admin, _ := e.Login(core.RoleAdmin)
	r := admin.Get("/platform")
	require.Equal(t, "/platform/share-ratio", r.Doc.Find("#default-share-ratio").AttrOr("hx-get", ""))
	r = htmxGet(admin, "/platform/share-ratio")
	require.Equal(t, "30%", r.Text("[data-default-ratio]"), r.Body)
	r = admin.HTMXPost("/platform/share-ratio", url.Values{"ratio": {"35"}})
	require.Equal(t, http.StatusOK, r.StatusCode, r.Body)
	require.Equal(t, "35%", r.Text("[data-default-ratio]"))
	require.Contains(t, r.Text("[data-default-changed]"), "30%")
	log := admin.Get("/security-log")
	require.Contains(t, log.Body, "default share ratio 30 -&gt; 35")
	events, err := e.App.Staff.ListSecurity(context.Background(), 0, 10)
	require.NoError(t, err)
	require.Equal(t, core.EventShareRatioDefault, events[0].Event)
	require.True(t, events[0].Success)

	op, _ := e.Login(core.RoleOperator)
	require.Equal(t, http.StatusForbidden, op.HTMXPost("/platform/share-ratio", url.Values{"ratio": {"36"}}).StatusCode)
}

// A refresh WeChat refuses keeps the panel on what WeChat said before, with
// its time, and says that refreshing failed and why.
func TestPanelKeepsTheOlderReadWhenRefreshFails(t *testing.T) {
	t.Parallel()
	e, clock := newPanelsEnv(t)
	c, _ := e.Login(core.RoleViewer)
	app := e.addOpenAccount(t, clock.Now().Add(-48*time.Hour))
	r := htmxGet(c, "/apps/"+app+"/cover")
	first := r.Doc.Find("[data-fetched] time").AttrOr("datetime", "")
	require.NotEmpty(t, first)
	status := r.Doc.Find("[data-cover-status]").AttrOr("data-cover-status", "")

	clock.Add(10 * time.Minute)
	e.Sim.Script(app, wechat.ActionGetCoverAdposStatus, wechatsim.Behavior{Ret: -202, Times: 1})
	r = htmxGet(c, "/apps/"+app+"/cover?refresh=1")
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Contains(t, r.Text("[data-read-error]"), "-202")
	require.Equal(t, first, r.Doc.Find("[data-fetched] time").AttrOr("datetime", ""), "the older read, with its own time")
	require.Equal(t, status, r.Doc.Find("[data-cover-status]").AttrOr("data-cover-status", ""))

	r = htmxGet(c, "/apps/"+app+"/cover?refresh=1")
	require.Equal(t, 0, r.Doc.Find("[data-read-error]").Length())
	require.Equal(t, clock.Now().UTC().Format(time.RFC3339), r.Doc.Find("[data-fetched] time").AttrOr("datetime", ""))
}
