package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/browsertest"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// TestBrowserBulkRewardVideoUnit: an operator selects Mini Programs on the
// list, chooses "Create ad unit" (reward video), confirms and watches the
// run page reach its end, in English and in Chinese, at a desktop and a
// phone width, with nothing written to the console.
func TestBrowserBulkRewardVideoUnit(t *testing.T) {
	t.Parallel()
	e, opened, _ := amsEnv(t, 4)
	e.CreateStaff("browser-ams", core.RoleOperator)
	b := browsertest.New(t)
	b.Navigate(e.URL + "/")
	b.WaitVisible(`#username`)
	b.Fill(`#username`, "browser-ams")
	b.Fill(`#password`, webtest.Password)
	b.Click(`form[action="/login"] button[type=submit]`)
	b.WaitVisible(`#apps`)

	shots := func(name string) {
		for _, w := range []int64{1440, 390} {
			b.Viewport(w, 900)
			b.Settle()
			b.Screenshot(name + map[int64]string{1440: "-1440", 390: "-390"}[w])
		}
		b.Viewport(1440, 900)
	}
	for i, lang := range []string{"en", "zh"} {
		b.Navigate(e.URL + "/")
		b.WaitVisible(`#apps`)
		if lang == "zh" {
			b.Click(`form.langs button[value=zh]`)
			b.WaitVisible(`html[lang="zh-CN"] #apps`)
		}
		// Two rows selected by hand, a different pair in each language.
		pick := opened[2*i : 2*i+2]
		for _, id := range pick {
			b.Click(`#apps input[name=appid][value="` + id + `"]`)
		}
		b.Click(`[data-ams-run]`)
		b.WaitVisible(`#ams-run`)
		b.Settle()
		require.Contains(t, b.Text(`#ams-run-count`), "2")
		b.Click(`#ams-run input[name=op][value=unit_create]`)
		b.WaitVisible(`#f-unit_name`)
		b.Do(chromedp.SetValue(`#f-unit_slot`, wechat.SlotRewardVideo))
		b.Fill(`#f-unit_name`, "激励视频-"+lang)
		b.Do(chromedp.SetValue(`#f-video_max`, "60"))
		shots("amsbulk-form-" + lang)
		requireAccessible(t, b, "amsbulk-form-"+lang)
		b.RequireClean("form-" + lang)

		b.Click(`#ams-run-next`)
		b.WaitVisible(`#confirm-op`)
		b.Settle()
		if lang == "zh" {
			require.Equal(t, "创建广告单元“激励视频-zh”：激励视频，视频 6 至 60 秒", strings.TrimSpace(b.Text(`#confirm-op`)))
		} else {
			require.Equal(t, "Create ad unit “激励视频-en”: Rewarded video, videos of 6 to 60 seconds", strings.TrimSpace(b.Text(`#confirm-op`)))
		}
		shots("amsbulk-confirm-" + lang)
		requireAccessible(t, b, "amsbulk-confirm-"+lang)
		b.RequireClean("confirm-" + lang)

		b.Click(`form[action="/runs/ams"] button[type=submit]`)
		b.WaitVisible(`#run-progress`)
		// The page polls its progress until the run has ended.
		b.WaitUntil(`!!document.querySelector("#run-status[data-status=finished]")`, "the run page says the run has finished")
		b.Settle()
		require.Equal(t, "2", strings.TrimSpace(b.Text(`[data-stat=called] b`)))
		shots("amsbulk-run-" + lang)
		requireAccessible(t, b, "amsbulk-run-"+lang)
		b.RequireClean("run-" + lang)
		for _, id := range pick {
			require.Equal(t, 1, e.Sim.Calls(wechat.ActionCreateAdUnit, id), id)
		}
	}
}
