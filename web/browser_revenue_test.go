package web_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/browsertest"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// TestBrowserRevenueDashboard reads the dashboard in a real browser, in
// English and Chinese, at a desktop and a phone width: its figures match the
// simulator's own totals to the fen, both charts are drawn by the vendored
// ECharts, and nothing breaks the CSP or writes to the console.
func TestBrowserRevenueDashboard(t *testing.T) {
	t.Parallel()
	re := newRevenueEnv(t, 6)
	y := revenue.Day(time.Now()).AddDate(0, 0, -1)
	from := y.AddDate(0, 0, -59)
	p := re.pull(t, from, y, ended)
	require.Equal(t, "done", p.State, p.LastError)
	re.CreateStaff("browser-revenue", core.RoleViewer)

	b := browsertest.New(t)
	b.Navigate(re.URL + "/")
	b.WaitVisible(`#username`)
	b.Fill(`#username`, "browser-revenue")
	b.Fill(`#password`, webtest.Password)
	b.Click(`form[action="/login"] button[type=submit]`)
	b.WaitVisible(`#apps`)

	start, end := y.AddDate(0, 0, -20), y
	s, e := start.Format(time.DateOnly), end.Format(time.DateOnly)
	want := re.Sim.ProviderTotals(s, e, "")
	require.Positive(t, want.Income)
	text := func(sel string) string { return strings.TrimSpace(b.Text(sel)) }
	for _, lang := range []string{"en", "zh"} {
		b.Navigate(re.URL + "/revenue?" + url.Values{"from": {s}, "to": {e}}.Encode())
		b.WaitVisible(`#totals`)
		if lang == "zh" {
			b.Click(`form.langs button[value=zh]`)
			b.WaitVisible(`html[lang="zh-CN"] #totals`)
			require.Equal(t, "收益", text(`h1`))
			require.Contains(t, text(`#split-table thead`), "服务商分成")
		} else {
			require.Equal(t, "Revenue", text(`h1`))
		}
		b.WaitVisible(`#split-chart[data-drawn] canvas`)
		b.WaitVisible(`#slot-chart[data-drawn] canvas`)
		b.Settle()
		b.RequireClean("revenue-" + lang)

		require.Equal(t, wechat.Fen(want.Income).Yuan(), text(`[data-total=income]`), lang)
		require.Equal(t, wechat.Fen(want.AgencyIncome).Yuan(), text(`[data-total=agency]`), lang)
		require.Equal(t, wechat.Fen(want.PublisherIncome).Yuan(), text(`[data-total=publisher]`), lang)
		for _, sl := range wechat.Slots() {
			var w int64
			for _, id := range re.opened {
				w += re.Sim.SlotTotals(id, s, e, sl).PublisherIncome
			}
			if w > 0 {
				require.Equal(t, wechat.Fen(w).Yuan(), text(`#slot-table tr[data-slot=`+sl+`] [data-income]`), sl)
			}
		}
		top := browsertest.Eval[[]string](b, `[...document.querySelectorAll("#top-apps tbody tr")].map(r => r.dataset.appid + " " + r.querySelector("[data-income]").textContent.trim())`)
		require.NotEmpty(t, top)
		for _, row := range top {
			id, yuan, _ := strings.Cut(row, " ")
			require.Equal(t, wechat.Fen(re.Sim.SlotTotals(id, s, e, "").PublisherIncome).Yuan(), yuan, id)
		}
		for _, per := range revenue.Periods(revenue.Day(time.Now())) {
			w := re.Sim.ProviderTotals(per.From.Format(time.DateOnly), per.To.Format(time.DateOnly), "")
			require.Equal(t, wechat.Fen(w.Income).Yuan(), text(`[data-period=`+per.Key+`] [data-income]`), per.Key)
		}
		for _, w := range []int64{1440, 390} {
			b.Viewport(w, 900)
			b.Settle()
			if w == 390 {
				// The charts redraw at the new width once the browser reports it;
				// then nothing is wider than the phone.
				_, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`document.documentElement.scrollWidth <= 390`, chromedp.WithPollingTimeout(2*time.Minute)))
				require.NoError(t, err, "sideways scrolling on a phone: %v",
					browsertest.Eval[[]string](b, `[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > 392).slice(0, 6).map(e => e.tagName + "#" + e.id + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))`))
			}
			b.Screenshot("revenue-" + lang + "-" + map[int64]string{1440: "1440", 390: "390"}[w])
		}
		b.Viewport(1440, 900)
		requireAccessible(t, b, "revenue-"+lang)
		b.RequireClean("revenue-shots-" + lang)

		// The settlement page, from the dashboard's link: WeChat's own totals
		// beside the sums of the intervals and slots, to the fen.
		b.Click(`#settlement-link`)
		b.WaitVisible(`#settlement`)
		b.Settle()
		st := re.Sim.SettlementTotals(webtest.ComponentAppID, from.Format(time.DateOnly), y.Format(time.DateOnly))
		require.Equal(t, wechat.Fen(st.Settled).Yuan(), text(`[data-total=settled]`), lang)
		require.Equal(t, wechat.Fen(st.Revenue).Yuan(), text(`[data-total=revenue-all]`), lang)
		require.Equal(t, wechat.Fen(st.Penalty).Yuan(), text(`[data-total=penalty-all]`), lang)
		require.Equal(t, wechat.Fen(st.Settled).Yuan(), text(`[data-total=settled-all]`), lang)
		require.Equal(t, 1, browsertest.Eval[int](b, `document.querySelectorAll("[data-match]").length`), lang)
		require.Equal(t, st.Intervals, browsertest.Eval[int](b, `document.querySelectorAll("#settlement tbody tr").length`))
		requirePhone(t, b, "settlement-"+lang)
		requireAccessible(t, b, "settlement-"+lang)
		b.RequireClean("settlement-" + lang)

		// A Mini Program's page: its slots and ad units over the last 30 days.
		a, a0 := y.AddDate(0, 0, -29).Format(time.DateOnly), y.Format(time.DateOnly)
		id := ""
		for _, o := range re.opened {
			if re.Sim.SlotTotals(o, a, a0, "").Exposure > 0 {
				id = o
				break
			}
		}
		require.NotEmpty(t, id, "an account with ad data")
		b.Navigate(re.URL + "/apps/" + id)
		b.WaitVisible(`#revenue`)
		b.Settle()
		w30 := re.Sim.SlotTotals(id, a, a0, "")
		require.Equal(t, wechat.Fen(w30.PublisherIncome).Yuan(), text(`#revenue [data-total=income]`), lang)
		units := browsertest.Eval[[]string](b, `[...document.querySelectorAll("#account-units tbody tr")].map(r => [r.dataset.unit, ...["income", "publisher", "agency"].map(k => r.querySelector("[data-" + k + "]").textContent.trim())].join(" "))`)
		require.NotEmpty(t, units)
		var pub int64
		for _, row := range units {
			f := strings.Fields(row)
			require.Len(t, f, 4, row)
			w := re.Sim.UnitTotals(id, f[0], a, a0)
			require.Equal(t, []string{wechat.Fen(w.Income).Yuan(), wechat.Fen(w.PublisherIncome).Yuan(), wechat.Fen(w.AgencyIncome).Yuan()}, f[1:], f[0])
			pub += w.PublisherIncome
		}
		require.Equal(t, w30.PublisherIncome, pub, "every unit is listed")
		require.NotEmpty(t, text(`#account-revenue-csv`))
		requirePhone(t, b, "account-revenue-"+lang)
		b.RequireClean("account-revenue-" + lang)
	}
}

// requirePhone takes the page at 1440 and 390 px: on the phone nothing is
// wider than the screen (long tables scroll inside their frame).
func requirePhone(t *testing.T, b *browsertest.Browser, name string) {
	t.Helper()
	b.Screenshot(name + "-1440")
	b.Viewport(390, 900)
	b.Settle()
	_, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`document.documentElement.scrollWidth <= 390`, chromedp.WithPollingTimeout(2*time.Minute)))
	require.NoError(t, err, "%s: sideways scrolling on a phone: %v", name,
		browsertest.Eval[[]string](b, `[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > 392).slice(0, 6).map(e => e.tagName + "#" + e.id + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))`))
	b.Screenshot(name + "-390")
	b.Viewport(1440, 900)
	b.Settle()
}
