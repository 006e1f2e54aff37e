package web_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// received is one request a receiver got.
type received struct {
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// receiver stands in for a robot or a webhook: it records every request
// and answers the first fail of them with 500.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	fail int
}

func newReceiver(t *testing.T, reply string, fail int) *receiver {
	r := &receiver{fail: fail}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{Path: req.URL.Path, Query: req.URL.Query(), Header: req.Header.Clone(), Body: b})
		failing := len(r.got) <= r.fail
		r.mu.Unlock()
		if failing {
			http.Error(w, "down for maintenance", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, reply)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// robotOK is how both robots answer a message they accept.
const robotOK = `{"errcode":0,"errmsg":"ok"}`

// lockedBuffer collects log lines written from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startJobs(t *testing.T, e *webtest.Env) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, e.App.Jobs.Start(ctx))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = e.App.Jobs.Stop(sctx)
		cancel()
	})
}

// waitFor polls cond until it holds (the state a step produces). The bound
// only turns a state that never comes into a failure; a loaded machine may
// take many times as long as an idle one.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited three minutes for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// addTarget adds a target through the form and returns its id and the page answered.
func addTarget(t *testing.T, c *webtest.Client, name, kind, u, secret string, events ...string) (int64, *webtest.Response) {
	t.Helper()
	r := c.PostForm("/settings/alerts", url.Values{"name": {name}, "kind": {kind}, "url": {u}, "secret": {secret}, "events": events})
	require.Contains(t, []int{http.StatusOK, http.StatusSeeOther}, r.StatusCode, r.Text(".error"))
	page := c.Get("/settings/alerts")
	idAttr, ok := page.Doc.Find(`tr[data-target="` + name + `"]`).Attr("id")
	require.True(t, ok, "the new target %s is listed", name)
	id, err := strconv.ParseInt(strings.TrimPrefix(idAttr, "target-"), 10, 64)
	require.NoError(t, err)
	return id, r
}

func lastStatus(c *webtest.Client, name string) string {
	s, _ := c.Get("/settings/alerts").Doc.Find(`tr[data-target="` + name + `"] [data-last-status]`).Attr("data-last-status")
	return s
}

// Each kind of target gets a test alert in the format its receiver expects,
// signed as the receiver checks it (DingTalk's timestamp and sign, the
// webhook's HMAC header), with an absolute link back to the console; the
// settings page shows each delivered; and no URL key or secret shows on a
// page or in the log.
func TestAlertsReachEachKindOfReceiverSignedAsItChecks(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	e := webtest.New(t, webtest.Options{LogTo: logs})
	// A ticket has come, so the platform raises no alert of its own when the
	// schedules ask for the component token: each target hears its test only.
	require.NoError(t, e.Sim.PushTicket(context.Background()))
	startJobs(t, e)
	admin, _ := e.Login(core.RoleAdmin)

	wecom := newReceiver(t, robotOK, 0)
	ding := newReceiver(t, robotOK, 0)
	hook := newReceiver(t, "", 0)
	const wecomKey, dingToken, dingSecret = "wecom-key-7f3a9c21", "ding-token-5b8e0d44", "SECding-secret-91c2e7ab"

	wecomID, _ := addTarget(t, admin, "Ops group", "wecom", wecom.URL+"/cgi-bin/webhook/send?key="+wecomKey, "", "run_finished")
	dingID, _ := addTarget(t, admin, "DingTalk ops", "dingtalk", ding.URL+"/robot/send?access_token="+dingToken, dingSecret, "run_paused")
	hookID, r := addTarget(t, admin, "Our pager", "webhook", hook.URL+"/hooks/trafficmaster", "", "platform_error")
	// The webhook's secret is generated and shown on this one answer.
	hookSecret, _ := r.Doc.Find("#webhook-secret").Attr("value")
	require.True(t, strings.HasPrefix(hookSecret, "whsec_"), hookSecret)
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	page := admin.Get("/settings/alerts")
	require.Equal(t, 0, page.Doc.Find("#webhook-secret").Length(), "never shown again")

	for _, id := range []int64{wecomID, dingID, hookID} {
		r := admin.PostForm("/settings/alerts/"+strconv.FormatInt(id, 10)+"/test", nil)
		require.Equal(t, http.StatusSeeOther, r.StatusCode)
	}
	waitFor(t, "the three test alerts", func() bool {
		return len(wecom.requests()) == 1 && len(ding.requests()) == 1 && len(hook.requests()) == 1
	})
	link := e.URL + "/settings/alerts"

	// WeChat Work: the key in the query, a markdown message.
	w := wecom.requests()[0]
	require.Equal(t, "/cgi-bin/webhook/send", w.Path)
	require.Equal(t, wecomKey, w.Query.Get("key"))
	var wb struct {
		MsgType  string `json:"msgtype"`
		Markdown struct {
			Content string `json:"content"`
		} `json:"markdown"`
	}
	require.NoError(t, json.Unmarshal(w.Body, &wb))
	require.Equal(t, "markdown", wb.MsgType)
	require.Contains(t, wb.Markdown.Content, "Test alert")
	require.Contains(t, wb.Markdown.Content, "("+link+")")

	// DingTalk: access_token, then timestamp (ms) and sign =
	// base64(HMAC-SHA256(secret, timestamp + "\n" + secret)), as DingTalk checks.
	d := ding.requests()[0]
	require.Equal(t, dingToken, d.Query.Get("access_token"))
	ts := d.Query.Get("timestamp")
	ms, err := strconv.ParseInt(ts, 10, 64)
	require.NoError(t, err)
	require.Less(t, time.Since(time.UnixMilli(ms)).Abs(), time.Hour, "DingTalk refuses a timestamp over an hour off")
	m := hmac.New(sha256.New, []byte(dingSecret))
	m.Write([]byte(ts + "\n" + dingSecret))
	require.Equal(t, base64.StdEncoding.EncodeToString(m.Sum(nil)), d.Query.Get("sign"))
	var db struct {
		MsgType  string `json:"msgtype"`
		Markdown struct {
			Title, Text string
		} `json:"markdown"`
	}
	require.NoError(t, json.Unmarshal(d.Body, &db))
	require.Equal(t, "markdown", db.MsgType)
	require.Equal(t, "Test alert", db.Markdown.Title)
	require.Contains(t, db.Markdown.Text, "("+link+")")

	// The webhook: a JSON event signed with the generated secret.
	h := hook.requests()[0]
	require.Equal(t, "/hooks/trafficmaster", h.Path)
	require.Equal(t, "application/json", h.Header.Get("Content-Type"))
	hts := h.Header.Get("X-Trafficmaster-Timestamp")
	sec, err := strconv.ParseInt(hts, 10, 64)
	require.NoError(t, err)
	require.Less(t, time.Since(time.Unix(sec, 0)).Abs(), 5*time.Minute)
	hm := hmac.New(sha256.New, []byte(hookSecret))
	hm.Write([]byte(hts + "."))
	hm.Write(h.Body)
	require.Equal(t, "sha256="+hex.EncodeToString(hm.Sum(nil)), h.Header.Get("X-Trafficmaster-Signature"))
	var hb struct {
		Event, Title, URL string
	}
	require.NoError(t, json.Unmarshal(h.Body, &hb))
	require.Equal(t, "test", hb.Event)
	require.Equal(t, link, hb.URL)

	for _, name := range []string{"Ops group", "DingTalk ops", "Our pager"} {
		waitFor(t, name+" shown delivered", func() bool { return lastStatus(admin, name) == "sent" })
	}
	page = admin.Get("/settings/alerts")
	require.Equal(t, "Delivered", page.Text(`tr[data-target="Our pager"] [data-last-status] .badge`))
	for _, secret := range []string{wecomKey, dingToken, dingSecret, hookSecret} {
		require.NotContains(t, page.Body, secret)
		require.NotContains(t, logs.String(), secret)
	}
	require.Contains(t, page.Body, wecom.URL+"/…", "only the scheme and host are shown")

	// A switched-off target gets no events but can still be tested; a
	// deleted one is gone with its deliveries.
	require.Equal(t, http.StatusSeeOther, admin.PostForm("/settings/alerts/"+strconv.FormatInt(hookID, 10)+"/disable", nil).StatusCode)
	require.Equal(t, "Disabled", admin.Get("/settings/alerts").Text(`tr[data-target="Our pager"] td b + .badge`))
	require.Equal(t, http.StatusSeeOther, admin.PostForm("/settings/alerts/"+strconv.FormatInt(wecomID, 10)+"/delete", nil).StatusCode)
	require.Equal(t, 0, admin.Get("/settings/alerts").Doc.Find(`tr[data-target="Ops group"]`).Length())
	require.Equal(t, 0, countRows(t, e, `SELECT count(*) FROM alert_deliveries WHERE target_id = $1`, wecomID))

	// The URLs and secrets are sealed at rest.
	dump := pgDump(t, e)
	for _, secret := range []string{dingToken, dingSecret, hookSecret} {
		require.NotContains(t, dump, secret)
	}
}

// The form refuses what must not be stored: http to another machine, a
// URL with credentials, no event chosen; the message sits beside its field.
func TestAlertTargetFormRefusesUnsafeURLs(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	admin, _ := e.Login(core.RoleAdmin)
	for _, tc := range []struct{ url, field string }{
		{"http://example.com/hook", "url"},
		{"https://user:pass@example.com/hook", "url"},
		{"ftp://example.com/hook", "url"},
		{"example.com/hook", "url"},
	} {
		r := admin.PostForm("/settings/alerts", url.Values{"name": {"x"}, "kind": {"webhook"}, "url": {tc.url}, "events": {"run_finished"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, tc.url)
		require.NotEmpty(t, r.Text(".field.invalid .error"), tc.url)
		name, _ := r.Doc.Find(".field.invalid input").Attr("name")
		require.Equal(t, tc.field, name, tc.url)
	}
	r := admin.PostForm("/settings/alerts", url.Values{"name": {"x"}, "kind": {"wecom"}, "url": {"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	require.Equal(t, "Choose at least one event.", r.Text("fieldset.invalid .error"))
	require.Equal(t, 0, countRows(t, e, `SELECT count(*) FROM alert_targets`))
}

// Viewers and operators cannot read or change the alert settings, nor
// can an admin's form be replayed without its CSRF token.
func TestAlertSettingsAreForAdminsOnly(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	admin, _ := e.Login(core.RoleAdmin)
	id, _ := addTarget(t, admin, "Ops", "webhook", "https://hooks.example.com/x", "", "run_finished")
	p := "/settings/alerts/" + strconv.FormatInt(id, 10)
	for _, role := range []core.Role{core.RoleViewer, core.RoleOperator} {
		c, _ := e.Login(role)
		require.Equal(t, http.StatusForbidden, c.Get("/settings/alerts").StatusCode, role)
		require.Equal(t, http.StatusForbidden, c.PostForm("/settings/alerts", url.Values{"name": {"y"}, "kind": {"webhook"}, "url": {"https://x.example.com"}, "events": {"run_finished"}}).StatusCode, role)
		for _, action := range []string{"test", "enable", "disable", "delete"} {
			require.Equal(t, http.StatusForbidden, c.PostForm(p+"/"+action, nil).StatusCode, "%s %s", role, action)
		}
	}
	admin.NoCSRF = true
	require.Equal(t, http.StatusForbidden, admin.PostForm(p+"/delete", url.Values{}).StatusCode)
	require.Equal(t, 1, countRows(t, e, `SELECT count(*) FROM alert_targets`))
	require.Equal(t, 0, countRows(t, e, `SELECT count(*) FROM alert_events`))
}

// A receiver that fails is tried again with the queue's backoff, and the
// alert is delivered once it answers.
func TestAlertToAFailingReceiverIsRetriedUntilDelivered(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	startJobs(t, e)
	admin, _ := e.Login(core.RoleAdmin)
	hook := newReceiver(t, "", 1)
	id, _ := addTarget(t, admin, "Flaky", "webhook", hook.URL+"/h", "", "run_finished")
	require.Equal(t, http.StatusSeeOther, admin.PostForm("/settings/alerts/"+strconv.FormatInt(id, 10)+"/test", nil).StatusCode)

	waitFor(t, "the retry to be delivered", func() bool { return lastStatus(admin, "Flaky") == "sent" })
	got := hook.requests()
	require.Len(t, got, 2, "one 500, then one delivery")
	require.Equal(t, 1, countRows(t, e, `SELECT count(*) FROM alert_deliveries WHERE target_id = $1 AND status = 'sent' AND tries = 2`, id))
	var first, second struct{ Event, URL string }
	require.NoError(t, json.Unmarshal(got[0].Body, &first))
	require.NoError(t, json.Unmarshal(got[1].Body, &second))
	require.Equal(t, first, second, "the same alert both times")
}

// A run that finishes sends exactly one alert to each target subscribed to
// it, with the run's figures and its page; a target not subscribed gets none.
func TestRunFinishingSendsOneAlertPerTarget(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t, webtest.Options{Env: map[string]string{"RATE_PER_SECOND": "200"}})
	// With a ticket, no platform alert reaches the platform-only target.
	require.NoError(t, e.Sim.PushTicket(context.Background()))
	startJobs(t, e.Env)
	admin, _ := e.Login(core.RoleAdmin)
	hook := newReceiver(t, "", 0)
	wecom := newReceiver(t, robotOK, 0)
	other := newReceiver(t, "", 0)
	addTarget(t, admin, "Hook", "webhook", hook.URL+"/h", "", "run_finished", "run_paused")
	addTarget(t, admin, "WeCom", "wecom", wecom.URL+"/send?key=k", "", "run_finished")
	addTarget(t, admin, "Platform only", "webhook", other.URL+"/p", "", "platform_error")

	ids := make([]string, 8)
	for i := range ids {
		ids[i] = e.addAccount(t, account{})
	}
	e.Sim.Script(ids[0], wechatsim.ActionCreate, wechatsim.Behavior{Ret: 1735}) // needs the merchant
	ctx := context.Background()
	run, err := e.App.Jobs.Runs.Create(ctx, nil, traffic.ActionOpen, ids, "")
	require.NoError(t, err)
	waitFor(t, "the run to finish", func() bool {
		r, err := e.App.Jobs.Runs.Get(ctx, run.ID)
		require.NoError(t, err)
		return r.Status == jobs.RunFinished
	})
	waitFor(t, "every delivery to be sent", func() bool {
		return countRows(t, e.Env, `SELECT count(*) FROM alert_deliveries WHERE status <> 'sent'`) == 0 &&
			countRows(t, e.Env, `SELECT count(*) FROM alert_deliveries`) == 2
	})
	require.Len(t, hook.requests(), 1)
	require.Len(t, wecom.requests(), 1)
	require.Empty(t, other.requests())
	require.Equal(t, 1, countRows(t, e.Env, `SELECT count(*) FROM alert_events`))
	require.Equal(t, 0, countRows(t, e.Env, `SELECT count(*) FROM alert_events WHERE kind = 'needs_merchant'`), "a run's accounts are counted in its own alert")

	var body struct {
		Event string
		URL   string
		Data  struct {
			RunID         int64 `json:"run_id"`
			Action        string
			Total         int
			Succeeded     int
			NeedsMerchant int `json:"needs_merchant"`
		}
	}
	require.NoError(t, json.Unmarshal(hook.requests()[0].Body, &body))
	require.Equal(t, "run_finished", body.Event)
	require.Equal(t, e.URL+"/runs/"+strconv.FormatInt(run.ID, 10), body.URL)
	require.Equal(t, run.ID, body.Data.RunID)
	require.Equal(t, "open", body.Data.Action)
	require.Equal(t, 8, body.Data.Total)
	require.Equal(t, 7, body.Data.Succeeded)
	require.Equal(t, 1, body.Data.NeedsMerchant)
}

// The other events reach a webhook subscribed to them, each with its page:
// a run pausing itself on a platform-wide error, an account needing the
// merchant after a click (once a day however often it is clicked), and the
// component token failing for want of a ticket (once an hour).
func TestRunPauseNeedsMerchantAndPlatformErrorsAreAlerted(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t, webtest.Options{Env: map[string]string{"RATE_PER_SECOND": "200"}})
	admin, _ := e.Login(core.RoleAdmin)
	hook := newReceiver(t, "", 0)
	addTarget(t, admin, "Everything", "webhook", hook.URL+"/h", "", "run_finished", "run_paused", "needs_merchant", "platform_error")
	// The target exists before the schedules first ask for the component
	// token: whichever asks first, the schedules or the test, raises the
	// hour's one platform alert, and the target hears it.
	startJobs(t, e.Env)
	ctx := context.Background()

	// No ticket has arrived: the component token cannot be obtained.
	for range 2 {
		_, err := e.App.TokenManager.ComponentAccessToken(ctx)
		require.ErrorContains(t, err, "component_verify_ticket")
	}

	merchant := e.addAccount(t, account{Name: "花间茶舍"})
	e.Sim.Script(merchant, wechatsim.ActionCreate, wechatsim.Behavior{Ret: 1735})
	op, _ := e.Login(core.RoleOperator)
	for range 2 {
		require.Less(t, op.HTMXPost("/apps/"+merchant+"/open", url.Values{"confirmed": {"1"}}).StatusCode, 300)
	}

	paused := e.addAccount(t, account{})
	e.Sim.Script(paused, wechatsim.ActionCreate, wechatsim.Behavior{Ret: 48001})
	run, err := e.App.Jobs.Runs.Create(ctx, nil, traffic.ActionOpen, []string{paused}, "")
	require.NoError(t, err)

	waitFor(t, "three alerts", func() bool { return len(hook.requests()) >= 3 })
	waitFor(t, "every delivery to be sent", func() bool {
		return countRows(t, e.Env, `SELECT count(*) FROM alert_deliveries WHERE status <> 'sent'`) == 0
	})
	byEvent := map[string]string{}
	for _, r := range hook.requests() {
		var b struct{ Event, URL, Text string }
		require.NoError(t, json.Unmarshal(r.Body, &b))
		require.NotContains(t, byEvent, b.Event, "one %s alert", b.Event)
		byEvent[b.Event] = b.URL
	}
	require.Equal(t, map[string]string{
		"platform_error": e.URL + "/platform",
		"needs_merchant": e.URL + "/apps/" + merchant,
		"run_paused":     e.URL + "/runs/" + strconv.FormatInt(run.ID, 10),
	}, byEvent)
}
