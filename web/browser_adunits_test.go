package web_test

import (
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/browsertest"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// TestBrowserAdUnits creates a reward-video unit from the account page,
// switches it off after confirming, and copies its code, in English and
// Chinese, at a desktop and a phone width, with no console error.
func TestBrowserAdUnits(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	apps := map[string]string{"en": "wx00000000000f0001", "zh": "wx00000000000f0002"}
	op, _ := e.Login(core.RoleOperator)
	for lang, app := range apps {
		syncAccount(t, e, wechatsim.Authorizer{AppID: app, NickName: "花间茶舍 " + lang, PrincipalName: "杭州花间茶舍餐饮管理有限公司", MiniProgram: true})
		r := op.HTMXPost("/apps/"+app+"/open", url.Values{"confirmed": {"1"}})
		require.Equal(t, "success", r.Doc.Find(".result").AttrOr("data-outcome", ""), r.Body)
	}
	e.CreateStaff("browser-units", core.RoleOperator)
	b := browsertest.New(t)
	var mu sync.Mutex
	var dialogs []string
	go func() {
		for d, err := range chromedp.Events(b.Ctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			mu.Lock()
			dialogs = append(dialogs, d.Message)
			mu.Unlock()
		}
	}()

	b.Navigate(e.URL + "/login")
	b.WaitVisible(`#username`)
	b.Fill(`#username`, "browser-units")
	b.Fill(`#password`, webtest.Password)
	b.Click(`form[action="/login"] button[type=submit]`)
	b.WaitVisible(`header.top .who`)

	shots := func(name string) {
		for _, w := range []int64{1440, 390} {
			b.Do(chromedp.EmulateViewport(w, 900))
			b.Screenshot(name + "-" + strconv.FormatInt(w, 10))
			if w == 390 {
				wide := browsertest.Eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth + 1`)
				require.False(t, wide, "%s scrolls sideways at 390 px", name)
			}
		}
		b.Do(chromedp.EmulateViewport(1440, 900))
	}

	for _, lang := range []string{"en", "zh"} {
		app := apps[lang]
		words := map[string]map[string]string{
			"en": {"copied": "Copied", "off": "Off", "success": "Ad unit created."},
			"zh": {"copied": "已复制", "off": "已关闭", "success": "广告单元已创建。"},
		}[lang]
		b.Navigate(e.URL + "/apps/" + app)
		if lang == "zh" {
			setLang(b, "zh")
		}
		// The list arrives after the page.
		b.WaitVisible(`#ad-unit-list tbody tr`)
		b.Settle()
		shots("adunits-account-" + lang)
		requireAccessible(t, b, "ad units "+lang)

		// Create a reward video: its duration fields show once it is chosen.
		require.True(t, browsertest.Eval[bool](b, `document.querySelector('fieldset[data-for-slot=SLOT_ID_WEAPP_REWARD_VIDEO]').hidden`))
		name := map[string]string{"en": "Reward after level", "zh": "过关激励视频"}[lang]
		b.Do(chromedp.SetValue(`#adunit-name`, name))
		browsertest.Eval[bool](b, `(() => { const s = document.querySelector('#adunit-slot'); s.value = '`+wechat.SlotRewardVideo+`'; s.dispatchEvent(new Event('change', {bubbles: true})); return true })()`)
		require.False(t, browsertest.Eval[bool](b, `document.querySelector('fieldset[data-for-slot=SLOT_ID_WEAPP_REWARD_VIDEO]').hidden`))
		require.True(t, browsertest.Eval[bool](b, `document.querySelector('fieldset[data-for-slot=SLOT_ID_WEAPP_TEMPLATE]').hidden`))
		browsertest.Eval[bool](b, `(() => { const s = document.querySelector('#adunit-vmax'); s.value = '60'; return true })()`)
		b.Click(`#adunit-create button[data-action=create]`)
		b.WaitVisible(`#ad-units-result .result[data-outcome=success]`)
		require.Equal(t, words["success"], strings.TrimSpace(b.Text(`#ad-units-result .result strong`)))
		id := strings.TrimSpace(b.Text(`#ad-units-result [data-new-unit] code`))
		require.NotEmpty(t, id)
		row := `#unit-` + id
		// The list reads itself again and shows the new unit, on.
		b.WaitVisible(row + `[data-on=true]`)
		require.Contains(t, b.Text(row), name)
		require.Contains(t, b.Text(row), "6–60")

		// Switch it off: the page asks first.
		mu.Lock()
		asked := len(dialogs)
		mu.Unlock()
		b.Click(row + ` button[data-action=switch-off]`)
		b.WaitVisible(row + `[data-on=false]`)
		mu.Lock()
		require.Len(t, dialogs, asked+1, "switching off asked for confirmation")
		require.Contains(t, dialogs[asked], name)
		mu.Unlock()
		require.Equal(t, words["off"], strings.TrimSpace(b.Text(row+` [data-status]`)))
		require.Equal(t, 1, e.Sim.Calls(wechat.ActionUpdateAdUnit, app))

		// Rename it: the list shows the new name, and WeChat has it.
		renamed := name + " 2"
		b.Click(row + ` details.rename summary`)
		b.Do(chromedp.SetValue(`#rename-`+id, renamed))
		b.Click(row + ` button[data-action=rename]`)
		b.WaitVisible(`#ad-units-result .result[data-outcome=success]`)
		b.WaitUntil(`(document.querySelector(`+strconv.Quote(row)+`) || {textContent: ""}).textContent.includes(`+strconv.Quote(renamed)+`)`, "the list shows the new name")
		require.Equal(t, 2, e.Sim.Calls(wechat.ActionUpdateAdUnit, app))

		// Its code, copied with one click.
		b.Click(row + ` a[data-action=code]`)
		b.WaitVisible(`#ad-unit-code pre`)
		require.Equal(t, `<ad unit-id="`+id+`"></ad>`, strings.TrimSpace(b.Text(`#ad-unit-code pre`)))
		b.Click(`#ad-unit-code button[data-copy-snippet]`)
		b.WaitUntil(`document.querySelector("#ad-unit-code button[data-copy-snippet]").textContent.trim() === `+strconv.Quote(words["copied"]), "the button says the code is copied")
		require.Contains(t, b.Location(), "/apps/"+app, "no navigation happened")
		b.Settle()
		b.RequireClean(lang + " ad units")
		shots("adunits-after-" + lang)
		requireAccessible(t, b, "ad units after the writes "+lang)

		b.Navigate(e.URL + "/apps/" + app + "/templates?refresh=1")
		b.WaitVisible(`#template-list`)
		b.Settle()
		b.RequireClean(lang + " templates")
		shots("adunits-templates-" + lang)
		requireAccessible(t, b, "templates "+lang)
	}
}
