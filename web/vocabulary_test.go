package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
)

func chip(r interface{ Text(string) string }, state string) string {
	return r.Text(`#state-counts a[data-state="` + state + `"] b`)
}

// The list's states and the audit's filters speak one vocabulary: -202 and
// 48001 no longer share a "Failed" state, and filtering the audit by the
// state's group finds every attempt behind it.
func TestOneVocabularyFromListToAudit(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	c, _ := e.Login(core.RoleOperator)
	script := map[string]wechatsim.Behavior{
		"-202":  {Ret: -202},
		"1737":  {Ret: 1737},
		"48001": {Ret: 48001, Shape: "errcode"},
		"2056":  {Ret: 2056},
		"1735":  {Ret: 1735},
		"1700":  {Ret: 1700},
	}
	ids := map[string]int64{}
	for name, b := range script {
		app := e.addAccount(t, account{})
		e.Sim.Script(app, wechatsim.ActionCreate, b)
		ids[name] = resultOf(t, e, c.HTMXPost("/apps/"+app+"/open", confirmed)).ID
	}

	list := c.Get("/")
	require.Equal(t, "2", chip(list, "retry_later"))
	require.Equal(t, "2", chip(list, "platform_setup"))
	require.Equal(t, "1", chip(list, "needs_merchant"))
	require.Equal(t, "1", chip(list, "our_bug"))
	require.Zero(t, list.Doc.Find(`#state-counts a[data-state="failed"]`).Length(), "no catch-all state")
	retryLabel := strings.TrimSpace(strings.TrimPrefix(list.Text(`#state-counts a[data-state="retry_later"]`), "2"))
	require.Equal(t, "Retry later (automatic)", retryLabel)

	found := func(group string) map[int64]bool {
		r := c.Get("/audit?group=" + group)
		require.Equal(t, http.StatusOK, r.StatusCode)
		got := map[int64]bool{}
		r.Doc.Find("#attempts tbody tr").Each(func(_ int, s *goquery.Selection) {
			id := strings.TrimPrefix(s.AttrOr("id", ""), "attempt-")
			var n int64
			for _, ch := range id {
				n = n*10 + int64(ch-'0')
			}
			got[n] = true
			// The badge names the group, in the list's words.
			require.Equal(t, group, s.Find(".badge[data-group]").AttrOr("data-group", ""))
		})
		return got
	}
	require.Equal(t, map[int64]bool{ids["-202"]: true, ids["1737"]: true}, found("retry"))
	require.Equal(t, map[int64]bool{ids["48001"]: true, ids["2056"]: true}, found("platform"))
	require.Equal(t, map[int64]bool{ids["1735"]: true}, found("merchant"))
	require.Equal(t, map[int64]bool{ids["1700"]: true}, found("our_bug"))

	r := c.Get("/audit?group=retry")
	require.Equal(t, retryLabel, strings.TrimSpace(r.Doc.Find(`#attempts .badge[data-group=retry]`).First().Text()))
	require.Equal(t, "retry", r.Doc.Find(`select[name=group] option[selected]`).AttrOr("value", ""))

	zh, _ := e.Login(core.RoleViewer)
	zh.Header = http.Header{"Accept-Language": {"zh-CN"}}
	zr := zh.Get("/audit?group=retry")
	require.Equal(t, "稍后重试（自动）", strings.TrimSpace(zr.Doc.Find(`#attempts .badge[data-group=retry]`).First().Text()))
}

// An account whose last call may have reached WeChat is "outcome unknown":
// runs over "never tried" accounts leave it alone, and opening it asks first.
func TestUnknownOutcomeIsItsOwnState(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	ctx := context.Background()
	never := e.addAccount(t, account{})
	lost := e.addAccount(t, account{})
	// A process died mid-call: recovery marks its row interrupted.
	_, err := e.App.Pool.Exec(ctx, `INSERT INTO attempts (appid, action, instance_id, status, started_at) VALUES ($1, 'open', 'dead-instance', 'pending', $2)`, lost, time.Now())
	require.NoError(t, err)
	n, err := e.App.Attempts.RecoverInterrupted(ctx, "this-instance")
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	require.Equal(t, "unknown", stateOf(t, e, lost))

	c, _ := e.Login(core.RoleOperator)
	list := c.Get("/")
	require.Equal(t, "1", chip(list, "unknown"))
	require.Equal(t, "1", chip(list, "never"))
	require.Contains(t, list.Text("#state-"+lost), "Outcome unknown")

	r := c.PostForm("/runs", url.Values{"action": {"open"}, "state": {"never"}})
	require.Contains(t, r.Text("#confirm-count"), "1 Mini Program")
	require.Equal(t, 1, r.Doc.Find(`[data-run-account="`+never+`"]`).Length())
	require.Zero(t, r.Doc.Find(`[data-run-account="`+lost+`"]`).Length(), "a run over never-tried accounts skips it")

	// A bulk open over every account names the risk before it starts.
	r = c.PostForm("/runs", url.Values{"action": {"open"}})
	require.Contains(t, r.Text("[data-unknown-count]"), "1 of them")

	// The row's Open asks twice; the server insists on it too.
	form := list.Doc.Find("#open-" + lost + " form")
	require.Contains(t, form.AttrOr("hx-confirm", ""), "unknown")
	require.Contains(t, form.AttrOr("hx-vals", ""), `"unknown_ok":"1"`)
	res := c.HTMXPost("/apps/"+lost+"/open", confirmed)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, 1, res.Doc.Find("[data-needs-confirmation]").Length())
	page := c.PostForm("/apps/"+lost+"/open", url.Values{"confirmed": {"1"}, "next": {"/"}})
	require.Equal(t, http.StatusOK, page.StatusCode)
	require.Equal(t, 1, page.Doc.Find("[data-unknown-warning]").Length())
	require.Equal(t, 0, e.Sim.Calls(wechatsim.ActionCreate, lost), "not called without the explicit confirmation")

	resultOf(t, e, c.HTMXPost("/apps/"+lost+"/open", url.Values{"confirmed": {"1"}, "unknown_ok": {"1"}}))
	require.Equal(t, 1, e.Sim.Calls(wechatsim.ActionCreate, lost))
	require.Equal(t, "open", stateOf(t, e, lost))
}

// formValues reads a form's fields as a browser would submit them (inputs
// with a name; the CSRF field is added by the client).
func formValues(f *goquery.Selection) url.Values {
	v := url.Values{}
	f.Find("input[name]").Each(func(_ int, s *goquery.Selection) {
		if n := s.AttrOr("name", ""); n != "_csrf" {
			v.Add(n, s.AttrOr("value", ""))
		}
	})
	return v
}
