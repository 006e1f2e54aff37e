package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/browsertest"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// In a real browser, a check from the list updates the counts at the top and
// the row's last attempt without a reload, and the pages that speak the
// outcome vocabulary render in both languages (screenshots at 1440 px when
// TRAFFICMASTER_SCREENSHOTS names a folder).
func TestBrowserOutcomeWordsAndLiveCounts(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	ctx := context.Background()
	c, _ := e.Login(core.RoleOperator)
	for _, b := range []wechatsim.Behavior{{Ret: -202}, {Ret: 48001, Shape: "errcode"}, {Ret: 1735}, {Ret: 2013}, {Ret: 1700}} {
		app := e.addAccount(t, account{})
		e.Sim.Script(app, wechatsim.ActionCreate, b)
		resultOf(t, e, c.HTMXPost("/apps/"+app+"/open", confirmed))
	}
	lost := e.addAccount(t, account{Name: "结果未知的小程序"})
	_, err := e.App.Pool.Exec(ctx, `INSERT INTO attempts (appid, action, instance_id, status, started_at) VALUES ($1, 'open', 'gone', 'pending', $2)`, lost, time.Now())
	require.NoError(t, err)
	_, err = e.App.Attempts.RecoverInterrupted(ctx, "here")
	require.NoError(t, err)
	e.addAccount(t, account{Name: "被冻结的小程序", Status: 19})
	fresh := e.addAccount(t, account{Name: "新的小程序"})
	r := c.PostForm("/runs", url.Values{"action": {"open"}, "state": {"never"}})
	r = c.PostForm("/runs", formValues(r.Doc.Find(`form[action="/runs"]`)))
	runURL := r.Header.Get("Location")
	c.PostForm(runURL+"/pause", nil)

	e.CreateStaff("browser-vocab", core.RoleOperator)
	b := browsertest.New(t)
	b.Do(chromedp.EmulateViewport(1440, 900))
	b.Navigate(e.URL + "/login")
	b.WaitVisible(`#username`)
	b.Fill(`#username`, "browser-vocab")
	b.Fill(`#password`, webtest.Password)
	b.Click(`form[action="/login"] button[type=submit]`)
	b.WaitVisible(`#state-counts`)

	// The check from the list refreshes the counts and the row in place.
	b.Navigate(e.URL + "/")
	b.WaitVisible(`#app-` + fresh)
	before := strings.TrimSpace(b.Text(`#state-counts a[data-state=eligible] b`))
	require.Equal(t, "0", before)
	// A double click sends one request, and the button shows it is busy:
	// it is disabled while its request is in flight (WeChat takes a second
	// to answer here). A second request would be refused by the server and
	// recorded as "already in progress".
	e.Sim.Script(fresh, wechatsim.ActionCheck, wechatsim.Behavior{Status: 1, Delay: time.Second})
	b.Do(chromedp.DoubleClick(`#app-` + fresh + ` button[data-action=check]`))
	b.WaitVisible(`#app-` + fresh + ` button[data-action=check][disabled]`)
	b.WaitVisible(`#result-` + fresh + ` .result`)
	b.WaitVisible(`#last-` + fresh + ` a`)
	require.Equal(t, "1", strings.TrimSpace(b.Text(`#state-counts a[data-state=eligible] b`)))
	require.Equal(t, 1, e.Sim.Calls(wechatsim.ActionCheck, fresh))
	require.Len(t, e.attempts(t, fresh), 1, "one request, not a refused second one")
	b.Screenshot("vocab-list-after-check-en")

	for _, lang := range []string{"en", "zh"} {
		if lang == "zh" {
			b.Click(`form.langs button[value=zh]`)
			b.WaitVisible(`html[lang^=zh] main`)
		}
		b.Navigate(e.URL + "/")
		b.WaitVisible(`#app-` + fresh)
		b.Screenshot("vocab-list-" + lang)
		b.Navigate(e.URL + "/audit?group=retry")
		b.WaitVisible(`#attempts`)
		b.Screenshot("vocab-audit-retry-" + lang)
		b.Navigate(e.URL + "/audit?action=check&code=1")
		b.WaitVisible(`#audit-empty`)
		b.Screenshot("vocab-audit-empty-" + lang)
		b.Navigate(e.URL + "/audit?from=2026-03-02T10:00&to=2026-03-01T10:00")
		b.WaitVisible(`#to-error`)
		b.Screenshot("vocab-audit-dates-" + lang)
		b.Navigate(e.URL + runURL)
		b.WaitVisible(`#run-stats`)
		b.Screenshot("vocab-run-paused-" + lang)
		b.Navigate(e.URL + "/")
		b.WaitVisible(`#bulk`)
		b.Do(chromedp.SetValue(`#bulk select[name=action]`, "open"))
		b.Click(`#bulk button[type=submit]`)
		b.WaitVisible(`#confirm-accounts`)
		b.Screenshot("vocab-run-confirm-" + lang)
	}

}
