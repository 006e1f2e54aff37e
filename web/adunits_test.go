package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// openedAccount adds an account and opens its traffic master through the console.
func openedAccount(t *testing.T, e *trafficEnv, c *webtest.Client) string {
	t.Helper()
	app := e.addAccount(t, account{})
	a := resultOf(t, e, c.HTMXPost("/apps/"+app+"/open", url.Values{"confirmed": {"1"}}))
	require.Equal(t, traffic.OutcomeSuccess, a.Outcome)
	return app
}

// unitRow finds a unit's row in the list by its name.
func unitRow(t *testing.T, r *webtest.Response, name string) *goquerySel {
	t.Helper()
	var row *goquerySel
	r.Doc.Find("#ad-unit-list tbody tr").Each(func(_ int, s *goquerySel) {
		if strings.TrimSpace(s.Find("[data-name]").Text()) == name {
			row = s
		}
	})
	require.NotNil(t, row, "no unit named %q in\n%s", name, r.Body)
	return row
}

// An operator lists, creates, renames, switches off and on, and reads the
// code of ad units; every write is an audited attempt with what was asked.
func TestAdUnitsThroughHTTP(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	c, _ := e.Login(core.RoleOperator)
	app := openedAccount(t, e, c)

	page := c.Get("/apps/" + app)
	require.Equal(t, http.StatusOK, page.StatusCode)
	require.Equal(t, "/apps/"+app+"/adunits", page.Doc.Find("#ad-units #ad-units-body").AttrOr("hx-get", ""), "the account page reads its units after loading")

	list := htmxGet(c, "/apps/"+app+"/adunits")
	require.Equal(t, http.StatusOK, list.StatusCode, list.Body)
	before := list.Doc.Find("#ad-unit-list tbody tr").Length()
	require.NotEmpty(t, list.Doc.Find("[data-fetched] time").AttrOr("datetime", ""), "the fetch time is shown")
	require.Equal(t, 1, list.Doc.Find("form#adunit-create").Length(), "operators get the create form")
	listCalls := e.Sim.Calls(wechat.ActionGetAdUnitList, app)
	again := htmxGet(c, "/apps/"+app+"/adunits")
	require.Equal(t, listCalls, e.Sim.Calls(wechat.ActionGetAdUnitList, app), "the stored list is shown without asking WeChat")
	require.Equal(t, before, again.Doc.Find("#ad-unit-list tbody tr").Length())
	require.Equal(t, "1", again.Doc.Find(`form[hx-get$="/adunits"] input[name=refresh]`).AttrOr("value", ""), "the refresh button")
	htmxGet(c, "/apps/"+app+"/adunits?refresh=1")
	require.Greater(t, e.Sim.Calls(wechat.ActionGetAdUnitList, app), listCalls, "refresh asks WeChat again")

	// Create a reward video.
	r := c.HTMXPost("/apps/"+app+"/adunits", url.Values{"name": {"激励视频 1"}, "slot": {wechat.SlotRewardVideo},
		"video_duration_min": {"6"}, "video_duration_max": {"30"}, "tmpl_type": {"3"}})
	created := resultOf(t, e, r)
	require.Equal(t, traffic.ActionUnitCreate, created.Action)
	require.Equal(t, traffic.OutcomeSuccess, created.Outcome, r.Body)
	require.Equal(t, "adunits-changed", r.Header.Get("HX-Trigger"), "the list reads itself again")
	newID := r.Text("[data-new-unit] code")
	require.NotEmpty(t, newID)
	require.JSONEq(t, `{"name":"激励视频 1","slot":"SLOT_ID_WEAPP_REWARD_VIDEO","video_duration_min":6,"video_duration_max":30}`, string(created.Params),
		"what was asked, without the fields of other kinds of ad")

	list = htmxGet(c, "/apps/"+app+"/adunits")
	require.Equal(t, before+1, list.Doc.Find("#ad-unit-list tbody tr").Length(), list.Body)
	row := unitRow(t, list, "激励视频 1")
	require.Equal(t, "unit-"+newID, row.AttrOr("id", ""))
	require.Equal(t, "true", row.AttrOr("data-on", ""))
	require.Contains(t, row.Text(), "Rewarded video")
	require.Contains(t, row.Text(), "6–30 s")

	// Rename it.
	r = c.HTMXPost("/apps/"+app+"/adunits/"+newID+"/rename", url.Values{"name": {"  激励视频 A  "}})
	renamed := resultOf(t, e, r)
	require.Equal(t, traffic.ActionUnitUpdate, renamed.Action)
	require.Equal(t, traffic.OutcomeSuccess, renamed.Outcome)
	require.JSONEq(t, `{"ad_unit_id":"`+newID+`","name":"激励视频 A","on":true}`, string(renamed.Params))
	list = htmxGet(c, "/apps/"+app+"/adunits")
	require.Equal(t, "true", unitRow(t, list, "激励视频 A").AttrOr("data-on", ""), "renaming kept it on")

	// Switching off asks first (without JavaScript, a page); WeChat is not called until confirmed.
	updates := e.Sim.Calls(wechat.ActionUpdateAdUnit, app)
	confirm := c.PostForm("/apps/"+app+"/adunits/"+newID+"/switch", url.Values{"on": {"0"}})
	require.Equal(t, http.StatusOK, confirm.StatusCode, confirm.Body)
	require.Equal(t, 1, confirm.Doc.Find(`form input[name=confirmed][value="1"]`).Length(), confirm.Body)
	require.Contains(t, confirm.Text("main p"), "激励视频 A")
	asked := c.HTMXPost("/apps/"+app+"/adunits/"+newID+"/switch", url.Values{"on": {"0"}})
	require.Equal(t, http.StatusOK, asked.StatusCode)
	require.Equal(t, 1, asked.Doc.Find(`[data-needs-confirmation] form[hx-post] input[name=confirmed]`).Length(), asked.Body)
	require.Zero(t, asked.Doc.Find("header.top").Length(), "a partial, not a page")
	require.Equal(t, updates, e.Sim.Calls(wechat.ActionUpdateAdUnit, app), "nothing sent before confirming")
	require.Contains(t, list.Doc.Find("#unit-"+newID+" form[hx-post$=switch]").AttrOr("hx-confirm", ""), "激励视频 A", "htmx asks with a dialog")

	r = c.HTMXPost("/apps/"+app+"/adunits/"+newID+"/switch", url.Values{"on": {"0"}, "confirmed": {"1"}})
	off := resultOf(t, e, r)
	require.Equal(t, traffic.OutcomeSuccess, off.Outcome)
	require.JSONEq(t, `{"ad_unit_id":"`+newID+`","name":"激励视频 A","on":false}`, string(off.Params))
	list = htmxGet(c, "/apps/"+app+"/adunits")
	offRow := unitRow(t, list, "激励视频 A")
	require.Equal(t, "false", offRow.AttrOr("data-on", ""))
	require.Equal(t, "Off", strings.TrimSpace(offRow.Find("[data-status]").Text()))
	_, asks := offRow.Find("form[hx-post$=switch]").Attr("hx-confirm")
	require.False(t, asks, "switching on needs no confirmation")

	// Switch on again without JavaScript: the result is a flash on the list's page.
	r = c.PostForm("/apps/"+app+"/adunits/"+newID+"/switch", url.Values{"on": {"1"}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.Body)
	require.Equal(t, "/apps/"+app+"/adunits", r.Header.Get("Location"))
	back := c.Get("/apps/" + app + "/adunits")
	require.Contains(t, back.Text(".flash"), "Ad unit changed.")
	require.Equal(t, "true", unitRow(t, back, "激励视频 A").AttrOr("data-on", ""))

	// Its code, in a <pre> with a copy button.
	code := htmxGet(c, "/apps/"+app+"/adunits/"+newID+"/code")
	require.Equal(t, http.StatusOK, code.StatusCode, code.Body)
	require.Equal(t, `<ad unit-id="`+newID+`"></ad>`, strings.TrimSpace(code.Doc.Find("pre").Text()))
	require.Equal(t, code.Doc.Find("pre").AttrOr("id", ""), code.Doc.Find("button[data-copy-snippet]").AttrOr("data-copy-snippet", ""))
	require.Equal(t, "Copied", code.Doc.Find("button[data-copy-snippet]").AttrOr("data-copied", ""))
	require.Equal(t, http.StatusNotFound, htmxGet(c, "/apps/"+app+"/adunits/not%20an%20id/code").StatusCode)

	// Every write is in the audit with its outcome and what was asked.
	audit := c.Get("/audit?appid=" + app)
	require.Equal(t, http.StatusOK, audit.StatusCode)
	for _, a := range []*traffic.Attempt{created, renamed, off} {
		require.Equal(t, 1, audit.Doc.Find(`a[href="/audit/`+strconv.FormatInt(a.ID, 10)+`"]`).Length(), "attempt %d listed", a.ID)
		entry := c.Get("/audit/" + strconv.FormatInt(a.ID, 10))
		require.Equal(t, string(a.Params), entry.Text("[data-params]"))
		require.Contains(t, entry.Body, traffic.Action(a.Action).Label())
		require.Contains(t, entry.Body, "Success")
	}
	require.Len(t, e.attempts(t, app), 5, "open, create, rename, off, on")
}

// A form WeChat would refuse comes back with each message beside its field,
// and nothing is audited or sent.
func TestAdUnitCreateValidation(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	c, _ := e.Login(core.RoleOperator)
	app := openedAccount(t, e, c)
	for _, tc := range []struct {
		name   string
		form   url.Values
		fields []string
	}{
		{"no name, bad durations", url.Values{"name": {" "}, "slot": {wechat.SlotRewardVideo}, "video_duration_min": {"5"}, "video_duration_max": {"20"}},
			[]string{"name", "video_duration_min", "video_duration_max"}},
		{"shortest above longest", url.Values{"name": {"v"}, "slot": {wechat.SlotRewardVideo}, "video_duration_min": {"20"}, "video_duration_max": {"15"}},
			[]string{"video_duration_min"}},
		{"template without a template", url.Values{"name": {"t"}, "slot": {wechat.SlotTemplate}, "tmpl_mode": {"type"}, "tmpl_type": {""}}, []string{"tmpl_type"}},
		{"cover has no units", url.Values{"name": {"c"}, "slot": {wechat.SlotCover}}, []string{"slot"}},
		{"too long", url.Values{"name": {strings.Repeat("名", 31)}, "slot": {wechat.SlotBanner}}, []string{"name"}},
	} {
		r := c.HTMXPost("/apps/"+app+"/adunits", tc.form)
		require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, tc.name)
		require.Equal(t, "#adunit-create", r.Header.Get("HX-Retarget"), tc.name)
		require.Equal(t, 1, r.Doc.Find("form#adunit-create").Length(), tc.name)
		var got []string
		r.Doc.Find("[data-error]").Each(func(_ int, s *goquerySel) { got = append(got, s.AttrOr("data-error", "")) })
		require.ElementsMatch(t, tc.fields, got, tc.name)
		if tc.form.Get("slot") != wechat.SlotCover {
			require.Equal(t, tc.form.Get("slot"), r.Doc.Find("#adunit-slot option[selected]").AttrOr("value", ""), "%s: the form keeps what was typed", tc.name)
		}
	}
	// Without JavaScript the page comes back with the messages.
	r := c.PostForm("/apps/"+app+"/adunits", url.Values{"name": {""}, "slot": {wechat.SlotBanner}})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	require.Equal(t, "An ad unit needs a name.", r.Text(`[data-error=name]`))
	require.Len(t, e.attempts(t, app), 1, "only the opening")
	require.Zero(t, e.Sim.Calls(wechat.ActionCreateAdUnit, app))

	// A template ad from one of the platform's own templates, which then lists the unit.
	r = c.HTMXPost("/apps/"+app+"/adunits", url.Values{"name": {"原生模板 1"}, "slot": {wechat.SlotTemplate}, "tmpl_mode": {"own"}, "tmpl_id": {"1000002"}, "tmpl_type": {"4"}})
	a := resultOf(t, e, r)
	require.Equal(t, traffic.OutcomeSuccess, a.Outcome)
	require.JSONEq(t, `{"name":"原生模板 1","slot":"SLOT_ID_WEAPP_TEMPLATE","tmpl_id":"1000002"}`, string(a.Params))
	tp := c.Get("/apps/" + app + "/templates")
	require.Equal(t, http.StatusOK, tp.StatusCode)
	require.Equal(t, 3, tp.Doc.Find("#template-list tbody tr").Length(), tp.Body)
	require.Equal(t, "1", tp.Doc.Find("#tmpl-1000002 [data-bound]").AttrOr("data-bound", ""))
	require.Contains(t, tp.Text("#tmpl-1000002 ul.bound"), "原生模板 1")
	require.Equal(t, "0", tp.Doc.Find("#tmpl-1000001 [data-bound]").AttrOr("data-bound", ""))
	form := htmxGet(c, "/apps/"+app+"/adunits")
	require.Equal(t, 3, form.Doc.Find("#adunit-tmpl-id option").Length(), "the form offers the platform's templates")
}

// Viewers read the list and the code but get no forms; their writes are
// refused (403) and recorded; a post without the CSRF token is refused.
func TestAdUnitsViewerAndCSRF(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	op, _ := e.Login(core.RoleOperator)
	app := openedAccount(t, e, op)
	viewer, _ := e.Login(core.RoleViewer)

	list := htmxGet(viewer, "/apps/"+app+"/adunits")
	require.Equal(t, http.StatusOK, list.StatusCode)
	require.Positive(t, list.Doc.Find("#ad-unit-list tbody tr").Length(), list.Body)
	require.Equal(t, 1, list.Doc.Find("form").Length(), "only the refresh form")
	require.Zero(t, list.Doc.Find("form#adunit-create, form[hx-post], details.rename").Length())
	unitID := strings.TrimPrefix(list.Doc.Find("#ad-unit-list tbody tr").First().AttrOr("id", ""), "unit-")
	require.NotEmpty(t, unitID)
	require.Positive(t, list.Doc.Find(`a[data-action=code]`).Length(), "viewers may read the code")
	require.Equal(t, http.StatusOK, htmxGet(viewer, "/apps/"+app+"/adunits/"+unitID+"/code").StatusCode)

	opened := len(e.attempts(t, app))
	for _, p := range []struct {
		path string
		form url.Values
	}{
		{"/apps/" + app + "/adunits", url.Values{"name": {"v"}, "slot": {wechat.SlotBanner}}},
		{"/apps/" + app + "/adunits", url.Values{"name": {""}, "slot": {"nonsense"}}},
		{"/apps/" + app + "/adunits/" + unitID + "/rename", url.Values{"name": {"viewer"}}},
		{"/apps/" + app + "/adunits/" + unitID + "/switch", url.Values{"on": {"0"}, "confirmed": {"1"}}},
	} {
		r := viewer.HTMXPost(p.path, p.form)
		require.Equal(t, http.StatusForbidden, r.StatusCode, p.path)
	}
	refused := e.attempts(t, app)[:3]
	for _, a := range refused {
		require.Equal(t, traffic.OutcomeNotAllowed, a.Outcome)
		require.NotEmpty(t, a.Params, "what was asked is kept with the refusal")
	}
	require.Len(t, e.attempts(t, app), opened+3, "the malformed request is refused without a record")
	require.Zero(t, e.Sim.Calls(wechat.ActionCreateAdUnit, app)+e.Sim.Calls(wechat.ActionUpdateAdUnit, app))

	op.NoCSRF = true
	for _, r := range []*webtest.Response{
		op.HTMXPost("/apps/"+app+"/adunits", url.Values{"name": {"x"}, "slot": {wechat.SlotBanner}}),
		op.PostForm("/apps/"+app+"/adunits/"+unitID+"/switch", url.Values{"on": {"0"}, "confirmed": {"1"}}),
		op.PostForm("/apps/"+app+"/adunits/"+unitID+"/rename", url.Values{"name": {"x"}}),
	} {
		require.Equal(t, http.StatusForbidden, r.StatusCode)
	}
	require.Len(t, e.attempts(t, app), opened+3, "nothing recorded without the token")
	require.Zero(t, e.Sim.Calls(wechat.ActionCreateAdUnit, app)+e.Sim.Calls(wechat.ActionUpdateAdUnit, app))
}

// When the traffic master is not open, or WeChat refuses, the section says
// so rather than showing an empty table.
func TestAdUnitsSayWhyThereIsNoList(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	c, _ := e.Login(core.RoleOperator)
	closed := e.addAccount(t, account{})

	r := htmxGet(c, "/apps/"+closed+"/adunits")
	require.Equal(t, 1, r.Doc.Find("[data-not-asked]").Length(), r.Body)
	require.Zero(t, r.Doc.Find("#ad-unit-list, [data-empty-units], form#adunit-create").Length())
	require.Zero(t, e.Sim.Calls(wechat.ActionGetAdUnitList, closed), "WeChat is not asked about a closed account")

	r = htmxGet(c, "/apps/"+closed+"/adunits?refresh=1")
	require.Equal(t, "2009", r.Doc.Find("[data-problem]").AttrOr("data-code", ""), r.Body)
	require.Contains(t, r.Text("[data-problem] strong"), "not open")
	require.Zero(t, r.Doc.Find("#ad-unit-list, [data-empty-units], form#adunit-create").Length())

	open := openedAccount(t, e, c)
	e.Sim.Script(open, wechat.ActionGetAdUnitList, wechatsim.Behavior{Ret: 1735, Times: 1})
	r = htmxGet(c, "/apps/"+open+"/adunits")
	require.Equal(t, "1735", r.Doc.Find("[data-problem]").AttrOr("data-code", ""), r.Body)
	require.Contains(t, r.Text("[data-problem] strong"), "agreement")
	require.Zero(t, r.Doc.Find("[data-empty-units], form#adunit-create").Length())

	// The list read once is kept; a failed refresh shows it with the reason.
	r = htmxGet(c, "/apps/"+open+"/adunits")
	n := r.Doc.Find("#ad-unit-list tbody tr").Length()
	e.Sim.Script(open, wechat.ActionGetAdUnitList, wechatsim.Behavior{Ret: 1735, Times: 1})
	r = htmxGet(c, "/apps/"+open+"/adunits?refresh=1")
	require.Equal(t, "1735", r.Doc.Find("[data-problem]").AttrOr("data-code", ""))
	require.Equal(t, n, r.Doc.Find("#ad-unit-list tbody tr").Length(), "the earlier list stays")

	// A Mini Program with no units says so.
	for i := 0; ; i++ {
		require.Less(t, i, 40, "no account without units")
		app := openedAccount(t, e, c)
		r := htmxGet(c, "/apps/"+app+"/adunits")
		if r.Doc.Find("[data-empty-units]").Length() == 1 {
			require.Zero(t, r.Doc.Find("#ad-unit-list").Length())
			require.Equal(t, 1, r.Doc.Find("form#adunit-create").Length())
			break
		}
	}

	// An Official Account has none at all.
	oa := e.addAccount(t, account{Official: true})
	r = htmxGet(c, "/apps/"+oa+"/adunits")
	require.Equal(t, 1, r.Doc.Find("[data-refusal]").Length(), r.Body)
	require.Zero(t, e.Sim.Calls(wechat.ActionGetAdUnitList, oa))
}

// A create whose answer never comes is recorded as unknown, and the result
// says the call may have reached WeChat.
func TestAdUnitCreateTimeoutIsUnknown(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t, webtest.Options{HTTPClient: &http.Client{Timeout: 2 * time.Second}})
	c, _ := e.Login(core.RoleOperator)
	app := openedAccount(t, e, c)
	e.Sim.Script(app, wechat.ActionCreateAdUnit, wechatsim.Behavior{Hang: true, Times: 1})
	r := c.HTMXPost("/apps/"+app+"/adunits", url.Values{"name": {"横幅 1"}, "slot": {wechat.SlotBanner}})
	a := resultOf(t, e, r)
	require.Equal(t, traffic.OutcomeUnknown, a.Outcome)
	require.Equal(t, traffic.AttemptCompleted, a.Status)
	require.Contains(t, r.Text(".result strong"), "may have reached WeChat")
	require.NotEmpty(t, r.Text("[data-remedy]"))
	require.Empty(t, r.Text("[data-new-unit]"))
	var params map[string]any
	require.NoError(t, json.Unmarshal(a.Params, &params))
	require.Equal(t, "横幅 1", params["name"])
	entry := c.Get("/audit/" + strconv.FormatInt(a.ID, 10))
	require.Contains(t, entry.Body, "No answer")
}
