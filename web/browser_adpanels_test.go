package web_test

import (
	"context"
	"os"
	"path/filepath"
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

// TestBrowserAdPanels switches cover ads off through the confirmation,
// blocks an advertiser and stops blocking it, and sets a custom share ratio
// that the page shows as pending, in English and Chinese, on the account
// page's own panels; the console reports no error on the way.
func TestBrowserAdPanels(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	ctx := context.Background()
	// One Mini Program per language whose cover ads are on (the simulator
	// seeds cover ads for some Mini Programs and not others).
	var apps []string
	for i := 1; len(apps) < 2 && i < 40; i++ {
		app := "wx00000000000f" + strings.Repeat("0", 3-len(itoa3(i))) + itoa3(i) + "0"
		syncAccount(t, e, wechatsim.Authorizer{AppID: app, NickName: "花间茶舍 " + itoa3(i), PrincipalName: "杭州花间茶舍餐饮管理有限公司", MiniProgram: true})
		e.Sim.MarkOpened(app, time.Now().Add(-48*time.Hour))
		_, err := e.App.Pool.Exec(ctx, `UPDATE authorizer_state SET state = 'open' WHERE appid = $1`, app)
		require.NoError(t, err)
		cover, err := e.App.AMS.Cover(ctx, app, true)
		require.NoError(t, err)
		require.NoError(t, cover.Err)
		if cover.Value.Status.On() {
			apps = append(apps, app)
		}
	}
	require.Len(t, apps, 2)
	e.CreateStaff("browser-panels", core.RoleOperator)
	b := browsertest.New(t)
	b.Navigate(e.URL + "/")
	b.WaitVisible(`#username`)
	b.Fill(`#username`, "browser-panels")
	b.Fill(`#password`, webtest.Password)
	b.Click(`form[action="/login"] button[type=submit]`)
	b.WaitVisible(`#apps`)

	for i, lang := range []string{"en", "zh"} {
		app := apps[i]
		b.Navigate(e.URL + "/apps/" + app)
		if lang == "zh" {
			b.WaitVisible(`form.langs button[value=zh]`)
			b.Click(`form.langs button[value=zh]`)
			b.WaitVisible(`html[lang="zh-CN"] #traffic-master`)
		}
		b.WaitVisible(`#cover-ads [data-cover-status=on]`)
		b.WaitVisible(`#blocking [data-kind=biz]`)
		b.WaitVisible(`#share-ratio [data-in-effect]`)
		b.Settle()
		shots(t, b, lang+"-before")

		// Cover ads off, after the confirmation dialog (accepted).
		b.Click(`#cover-ads button[data-cover-switch=off]`)
		b.WaitVisible(`#cover-ads [data-cover-status=off]`)
		b.WaitVisible(`#cover-ads button[data-cover-switch=on][disabled]`)
		b.WaitVisible(`#cover-ads [data-retry-at]`)
		require.Equal(t, "success", attr(t, b, `#cover-ads .result`, "data-outcome"))
		// The page's history follows with the new audit entry.
		b.WaitVisible(`#history #attempts tbody tr`)

		// Cover ads stop showing in scene 1001: the panel comes back from
		// the write with the box unticked, and WeChat has the new list.
		browsertest.Eval[string](b, `document.querySelector("#cover-ads form[data-cover-scenes]").dataset.old = "1"`)
		b.Click(`#cover-ads form[data-cover-scenes] input[value="1001"]`)
		b.Click(`#cover-ads form[data-cover-scenes] button[type=submit]`)
		b.WaitVisible(`#cover-ads form[data-cover-scenes]:not([data-old])`)
		require.Equal(t, "success", attr(t, b, `#cover-ads .result`, "data-outcome"))
		require.False(t, browsertest.Eval[bool](b, `document.querySelector('#cover-ads form[data-cover-scenes] input[value="1001"]').checked`))
		cover, err := e.App.AMS.Cover(ctx, app, true)
		require.NoError(t, err)
		require.NotContains(t, cover.Value.Scenes, 1001)
		require.NotEmpty(t, cover.Value.Scenes)

		// Block an Official Account, then stop blocking it (confirmed).
		const gh = "gh_00000000a1b2"
		b.Do(chromedp.SendKeys(`#blocking input[name=id]`, gh))
		b.Click(`#blocking form[data-block-add] button[type=submit]`)
		b.WaitVisible(`#blocking [data-kind=biz] li[data-id="` + gh + `"]`)
		require.Contains(t, b.Text(`#blocking [data-kind=biz] [data-count]`), "1")
		b.Click(`#blocking [data-kind=biz] li[data-id="` + gh + `"] button[data-remove]`)
		b.Do(chromedp.WaitNotPresent(`#blocking [data-kind=biz] li[data-id="` + gh + `"]`))
		b.WaitVisible(`#blocking .result[data-outcome=success]`)

		// Block the first industry of the checklist, saved as one write.
		industry := browsertest.Eval[string](b, `document.querySelector('#blocking form[data-industries] input[name=industry]:not(:checked)').value`)
		browsertest.Eval[string](b, `document.querySelector("#blocking form[data-industries]").dataset.old = "1"`)
		b.Click(`#blocking form[data-industries] input[value="` + industry + `"]`)
		b.Click(`#blocking form[data-industries] button[type=submit]`)
		b.WaitVisible(`#blocking form[data-industries]:not([data-old])`)
		b.WaitVisible(`#blocking .result[data-outcome=success]`)
		require.True(t, browsertest.Eval[bool](b, `document.querySelector('#blocking form[data-industries] input[value="`+industry+`"]').checked`))
		blocking, err := e.App.AMS.Blocking(ctx, app, true)
		require.NoError(t, err)
		require.Contains(t, blocking.Value.Industries, industry)

		// A custom ratio of 35%: pending the merchant's confirmation.
		b.Do(chromedp.SetValue(`#share-ratio input[name=ratio]`, "35"))
		b.Click(`#share-ratio form[data-ratio-form] button[type=submit]`)
		b.WaitVisible(`#share-ratio [data-pending]`)
		b.WaitVisible(`#share-ratio [data-pending-note]`)
		if lang == "zh" {
			require.Contains(t, b.Text(`#share-ratio [data-pending]`), "等待商户确认")
		} else {
			require.Contains(t, b.Text(`#share-ratio [data-pending]`), "Pending the merchant's confirmation")
		}
		b.Settle()
		b.RequireClean(lang + " panels")
		shots(t, b, lang)
		b.Screenshot("panels-account-page-" + lang)
	}
}

func itoa3(i int) string {
	s := ""
	for ; i > 0; i /= 10 {
		s = string(rune('0'+i%10)) + s
	}
	return s
}

func attr(t *testing.T, b *browsertest.Browser, sel, name string) string {
	t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`document.querySelector(`+"`"+sel+"`"+`).getAttribute("`+name+`") || ""`))
	require.NoError(t, err)
	return v
}

// shots saves each panel at a desktop and a phone width, and checks that
// nothing on the page is wider than the phone.
func shots(t *testing.T, b *browsertest.Browser, name string) {
	t.Helper()
	dir := browsertest.ScreenshotDir()
	for _, w := range []int64{1440, 390} {
		b.Viewport(w, 900)
		b.Settle()
		if w == 390 {
			wide, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
			require.NoError(t, err)
			require.False(t, wide, "%s scrolls sideways at 390 px", name)
		}
		if dir == "" {
			continue
		}
		for _, panel := range []string{"cover-ads", "blocking", "share-ratio"} {
			buf, err := chromedp.Run(b.Ctx, chromedp.Screenshot(`#`+panel))
			require.NoError(t, err)
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "panels-"+panel+"-"+name+"-"+map[int64]string{1440: "1440", 390: "390"}[w]+".png"), buf, 0o644))
		}
	}
	b.Viewport(1440, 900)
}
