package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/browsertest"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// TestBrowserAlertSettings adds a target in each language through the real
// page, sends it a test alert and sees it delivered, at a desktop and a
// phone width, with no CSP violation, console error or accessibility fault.
func TestBrowserAlertSettings(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	// A ticket has come, so the platform raises no alert of its own when the
	// schedules ask for the component token: each target hears its test only.
	require.NoError(t, e.Sim.PushTicket(context.Background()))
	startJobs(t, e)
	hook := newReceiver(t, "", 0)
	wecom := newReceiver(t, robotOK, 0)
	e.CreateStaff("browser-alerts", core.RoleAdmin)

	b := browsertest.New(t)
	b.Navigate(e.URL + "/")
	b.WaitVisible(`#username`)
	b.Fill(`#username`, "browser-alerts")
	b.Fill(`#password`, webtest.Password)
	b.Click(`form[action="/login"] button[type=submit]`)
	b.WaitVisible(`nav a[href="/settings/alerts"]`)
	text := func(sel string) string { return strings.TrimSpace(b.Text(sel)) }

	// Each language adds its own target and tests it until the page shows it delivered.
	for _, tc := range []struct{ lang, name, kind, url, delivered string }{
		{"en", "On-call pager", "webhook", hook.URL + "/hooks/trafficmaster", "Delivered"},
		{"zh", "运营群", "wecom", wecom.URL + "/cgi-bin/webhook/send?key=browser-key-1", "已送达"},
	} {
		b.Click(`nav a[href="/settings/alerts"]`)
		b.WaitVisible(`form.alert-form`)
		if tc.lang == "zh" {
			b.Click(`form.langs button[value=zh]`)
			b.WaitVisible(`html[lang="zh-CN"] form.alert-form`)
			require.Equal(t, "告警", text(`h1`))
		} else {
			require.Equal(t, "Alerts", text(`h1`))
		}
		b.Fill(`#alert-name`, tc.name)
		b.Do(chromedp.SetValue(`#alert-kind`, tc.kind))
		b.Fill(`#alert-url`, tc.url)
		b.Click(`form.alert-form input[value=needs_merchant]`)
		b.Click(`form.alert-form button[type=submit]`)
		row := `tr[data-target="` + tc.name + `"]`
		b.WaitVisible(row)
		if tc.kind == "webhook" {
			// The generated secret, shown this once, with its copy button.
			b.WaitVisible(`#new-secret #webhook-secret`)
			require.True(t, strings.HasPrefix(browsertest.Eval[string](b, `document.querySelector("#webhook-secret").value`), "whsec_"))
			b.WaitVisible(`#new-secret button[data-copy]`)
			b.Screenshot("alerts-secret-" + tc.lang + "-1440")
		}
		// The flash of the next page says it was queued (this one's goes first).
		browsertest.Eval[bool](b, `(document.querySelectorAll(".flash.ok").forEach(f => f.remove()), true)`)
		b.Click(row + ` button.send-test`)
		b.WaitVisible(`.flash.ok`)
		// Bounded only to turn a lost delivery into a failure: the queue runs
		// it within seconds, but a loaded machine may take many times as long.
		deadline := time.Now().Add(3 * time.Minute)
		for text(row+` [data-last-status] .badge`) != tc.delivered {
			require.True(t, time.Now().Before(deadline), "the test alert is shown delivered")
			time.Sleep(200 * time.Millisecond)
			b.Navigate(e.URL + "/settings/alerts")
			b.WaitVisible(row)
		}
		require.NotContains(t, browsertest.Eval[string](b, `document.documentElement.outerHTML`), "browser-key-1", "the robot's key is never shown")
		b.Settle()
		b.RequireClean("alerts-" + tc.lang)
		requireAccessible(t, b, "alerts-"+tc.lang)
		for _, w := range []int64{1440, 390} {
			b.Viewport(w, 900)
			b.Settle()
			if w == 390 {
				require.False(t, browsertest.Eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth + 1`), "alerts page scrolls sideways at 390 px")
			}
			b.Screenshot("alerts-" + tc.lang + "-" + map[int64]string{1440: "1440", 390: "390"}[w])
		}
		b.Viewport(1440, 900)
	}
	bodies := func(r *receiver) []string {
		var bodies []string
		for _, req := range r.requests() {
			bodies = append(bodies, string(req.Body))
		}
		return bodies
	}
	hookTests, wecomTests := bodies(hook), bodies(wecom)
	require.Len(t, hookTests, 1)
	require.Contains(t, hookTests[0], `"event":"test"`)
	require.Len(t, wecomTests, 1)
	require.Contains(t, wecomTests[0], "Test alert", "alerts are written in the console's default language, English")
}
