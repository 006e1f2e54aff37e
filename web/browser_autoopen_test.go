package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/browsertest"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// TestBrowserOpenOnAuthorizationSetting switches the setting on and off on
// the platform page through its confirmation page, in English and Chinese,
// at a desktop and a phone width.
func TestBrowserOpenOnAuthorizationSetting(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	require.NoError(t, e.Sim.PushTicket(context.Background()))
	e.CreateStaff("browser-autoopen", core.RoleAdmin)
	b := browsertest.New(t)

	b.Navigate(e.URL + "/login")
	b.WaitVisible(`#username`)
	b.Fill(`#username`, "browser-autoopen")
	b.Fill(`#password`, webtest.Password)
	b.Click(`form[action="/login"] button[type=submit]`)
	b.WaitVisible(`#site-menu`)

	shots := func(name string) {
		for _, w := range []int64{1440, 390} {
			b.Do(chromedp.EmulateViewport(w, 900))
			b.Screenshot(name + "-" + map[int64]string{1440: "1440", 390: "390"}[w])
			if w == 390 {
				wide, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
				require.NoError(t, err)
				require.False(t, wide, "%s scrolls sideways at 390 px", name)
			}
		}
		b.Do(chromedp.EmulateViewport(1440, 900))
	}
	words := map[string]struct{ on, off, confirmOn, flashOn string }{
		"en": {"Switched on", "Switched off", "Switch on automatic opening", "Opening on authorization is on"},
		"zh": {"已开启", "已关闭", "开启自动开通", "授权后自动开通已开启"},
	}
	for _, lang := range []string{"en", "zh"} {
		w := words[lang]
		b.Navigate(e.URL + "/platform")
		b.WaitVisible(`#open-on-authorization`)
		if lang == "zh" {
			b.Click(`form.langs button[value=zh]`)
			b.WaitVisible(`html[lang="zh-CN"] #open-on-authorization`)
		}
		require.Equal(t, w.off, strings.TrimSpace(b.Text(`#open-on-authorization [data-setting-state]`)))
		shots("platform-off-" + lang)

		// Switching on asks first, on its own page.
		b.Click(`#open-on-authorization-toggle`)
		b.WaitVisible(`#open-on-authorization-confirm`)
		require.Equal(t, w.confirmOn, strings.TrimSpace(b.Text(`#open-on-authorization-confirm-button`)))
		shots("confirm-on-" + lang)
		b.Click(`#open-on-authorization-confirm-button`)
		b.WaitVisible(`#open-on-authorization[data-on="1"]`)
		require.Contains(t, b.Text(`.flash`), w.flashOn)
		require.Equal(t, w.on, strings.TrimSpace(b.Text(`#open-on-authorization [data-setting-state]`)))
		shots("platform-on-" + lang)

		// Cancelling the switch-off leaves it on; confirming turns it off.
		b.Click(`#open-on-authorization-toggle`)
		b.WaitVisible(`#open-on-authorization-confirm`)
		shots("confirm-off-" + lang)
		b.Click(`#open-on-authorization-confirm a.button`)
		b.WaitVisible(`#open-on-authorization[data-on="1"]`)
		b.Click(`#open-on-authorization-toggle`)
		b.WaitVisible(`#open-on-authorization-confirm`)
		b.Click(`#open-on-authorization-confirm-button`)
		b.WaitVisible(`#open-on-authorization[data-on="0"]`)

		b.Navigate(e.URL + "/runs")
		b.WaitVisible(`#open-on-authorization-note`)
		shots("runs-note-" + lang)
		b.RequireClean("open on authorization " + lang)
	}
	require.Equal(t, 4, countRows(t, e, "SELECT count(*) FROM security_log WHERE event = 'platform_setting'"))
}
