package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/browsertest"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// TestBrowserAccountPage follows a name from the list to its page, copies
// the message for the merchant, pages the list back and forth and reads the
// audit, at a desktop and a phone width, in English and Chinese.
func TestBrowserAccountPage(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	app := "wx00000000000d0001"
	syncAccount(t, e, wechatsim.Authorizer{AppID: app, NickName: "花间茶舍", PrincipalName: "杭州花间茶舍餐饮管理有限公司", MiniProgram: true})
	syncAccount(t, e, wechatsim.Authorizer{AppID: "wx00000000000d0002", NickName: "阿福小铺", MiniProgram: true})
	e.Sim.Script(app, wechatsim.ActionCreate, wechatsim.Behavior{Ret: 1735})
	_, err := e.App.Pool.Exec(context.Background(), `INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, principal_name, account_status, authorized_at)
		SELECT 'wx' || lpad(to_hex(g), 16, '0'), $1, true, 'Shop ' || lpad(g::text, 3, '0'), '测试公司', 1, now() FROM generate_series(1, 60) g`, webtest.ComponentAppID)
	require.NoError(t, err)
	e.CreateStaff("browser-account", core.RoleOperator)
	b := browsertest.New(t)

	b.Navigate(e.URL + "/")
	b.WaitVisible(`#username`)
	b.Fill(`#username`, "browser-account")
	b.Fill(`#password`, webtest.Password)
	b.Click(`form[action="/login"] button[type=submit]`)
	b.WaitVisible(`#apps`)
	require.Equal(t, "1–50 of 62", strings.TrimSpace(b.Text(`[data-position]`)))
	require.Equal(t, "阿福小铺", strings.TrimSpace(b.Text(`#apps tbody tr:first-child a.name`)), "pinyin order: a first")

	b.Click(`#app-` + app + ` a.name`)
	b.WaitVisible(`#traffic-master`)
	require.Contains(t, b.Location(), "/apps/"+app)
	b.Click(`#traffic-master button[data-action=open]`)
	b.WaitVisible(`#result-` + app + ` .result`)
	require.Equal(t, 1, e.Sim.Calls(wechatsim.ActionCreate, app))

	// WeChat's answer updates the page in place: the state in words, the
	// message for the merchant with its copy button, the history.
	b.WaitVisible(`#merchant-message`)
	require.Contains(t, b.Text(`[data-next-step]`), "Send the merchant the message below")
	b.WaitVisible(`#attempts tbody tr`)
	require.Contains(t, b.Location(), "/apps/"+app, "no navigation happened")
	b.Click(`button[data-copy]`)
	b.WaitUntil(`document.querySelector("[data-copy-status]").textContent !== ""`, "the page says whether the appid was copied")
	require.NotEmpty(t, b.Text(`[data-copy-status]`))
	require.Equal(t, "Copied.", strings.TrimSpace(b.Text(`[data-copy-status]`)))

	shots := func(name string) {
		for _, w := range []int64{1440, 390} {
			b.Do(chromedp.EmulateViewport(w, 900))
			b.Screenshot(name + "-" + map[int64]string{1440: "1440", 390: "390"}[w])
			if w == 390 {
				// Nothing on the page is wider than a phone.
				wide, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
				require.NoError(t, err)
				require.False(t, wide, "%s scrolls sideways at 390 px", name)
			}
		}
		b.Do(chromedp.EmulateViewport(1440, 900))
	}
	for _, lang := range []string{"en", "zh"} {
		b.Navigate(e.URL + "/apps/" + app)
		b.WaitVisible(`#merchant-message`)
		if lang == "zh" {
			b.Click(`form.langs button[value=zh]`)
			b.WaitVisible(`html[lang="zh-CN"] #merchant-message`)
			require.Contains(t, b.Text(`[data-next-step]`), "请把下面的消息发给商户")
		}
		shots("account-" + lang)
		b.Navigate(e.URL + "/")
		b.WaitVisible(`a[data-page=next]`)
		b.Click(`a[data-page=next]`)
		b.WaitVisible(`a[data-page=prev]`)
		if lang == "zh" {
			require.Equal(t, "第 51–62 个，共 62 个", strings.TrimSpace(b.Text(`[data-position]`)))
		} else {
			require.Equal(t, "51–62 of 62", strings.TrimSpace(b.Text(`[data-position]`)))
		}
		shots("apps-page2-" + lang)
		b.Click(`a[data-page=prev]`)
		b.WaitVisible(`#app-` + app)
		b.Click(`form#bulk input[name=all]`)
		checked, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll('input[name=appid]')].every(c => c.checked && c.disabled)`))
		require.NoError(t, err)
		require.True(t, checked, "all matching shows every row as selected")
		shots("apps-" + lang)
		b.Navigate(e.URL + "/audit")
		b.WaitVisible(`#attempts td[data-app]`)
		require.Contains(t, b.Text(`#attempts td[data-app]`), "花间茶舍")
		shots("audit-" + lang)
	}
}
