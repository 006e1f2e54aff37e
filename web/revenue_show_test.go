package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// readCSV parses a CSV download (after its BOM) into rows keyed by header.
func readCSV(t *testing.T, r *webtest.Response) []map[string]string {
	t.Helper()
	require.Equal(t, http.StatusOK, r.StatusCode, r.Body)
	require.Contains(t, r.Header.Get("Content-Type"), "text/csv")
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.Body, "\uFEFF"))).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	var out []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out
}

// Each Mini Program's page lists its ad units over the last 30 days, pulled
// from get_agency_ads_detail one day at a time, with the split between
// merchant and provider exactly as the simulator computes it; the units add
// up to the account's own total, pulling the days again changes nothing, and
// the section's CSV carries the same figures per day.
func TestRevenueUnitsOnTheAccountPage(t *testing.T) {
	t.Parallel()
	re := newRevenueEnv(t, 3)
	y := revenue.Day(time.Now()).AddDate(0, 0, -1)
	from := y.AddDate(0, 0, -29)
	start, end := from.Format(time.DateOnly), y.Format(time.DateOnly)
	c, _ := re.Login(core.RoleViewer)
	check := func() {
		seen := 0
		for _, id := range re.opened {
			r := c.Get("/apps/" + id)
			require.Equal(t, http.StatusOK, r.StatusCode)
			all := re.Sim.SlotTotals(id, start, end, "")
			if all.Exposure == 0 {
				require.Zero(t, r.Doc.Find(`#account-units`).Length(), id)
				continue
			}
			var pub, inc, ag int64
			r.Doc.Find(`#account-units tbody tr`).Each(func(_ int, row *goquery.Selection) {
				unit := row.AttrOr("data-unit", "")
				want := re.Sim.UnitTotals(id, unit, start, end)
				require.Positive(t, want.Exposure, unit)
				require.Equal(t, wechat.Fen(want.Income).Yuan(), strings.TrimSpace(row.Find(`[data-income]`).Text()), unit)
				require.Equal(t, wechat.Fen(want.PublisherIncome).Yuan(), strings.TrimSpace(row.Find(`[data-publisher]`).Text()), unit)
				require.Equal(t, wechat.Fen(want.AgencyIncome).Yuan(), strings.TrimSpace(row.Find(`[data-agency]`).Text()), unit)
				pub, inc, ag = pub+want.PublisherIncome, inc+want.Income, ag+want.AgencyIncome
				seen++
			})
			require.Equal(t, all.PublisherIncome, pub, "%s: every unit is listed", id)
			require.Equal(t, all.Income, inc, id)
			require.Equal(t, all.AgencyIncome, ag, id)

			// The CSV under the section: the slot rows carry the Mini
			// Program's income, the unit rows the split, per day.
			link := r.Doc.Find(`#account-revenue-csv`).AttrOr("href", "")
			require.Equal(t, "/apps/"+id+"/revenue.csv", link)
			var slotPub, unitInc, unitPub, unitAg int64
			days := map[string]bool{}
			for _, row := range readCSV(t, c.Get(link)) {
				require.Equal(t, id, row["appid"])
				days[row["date"]] = true
				if row["ad_unit_id"] == "" {
					slotPub += yuanToFen(t, row["publisher_income_yuan"])
					continue
				}
				unitInc += yuanToFen(t, row["income_yuan"])
				unitPub += yuanToFen(t, row["publisher_income_yuan"])
				unitAg += yuanToFen(t, row["agency_income_yuan"])
			}
			require.Equal(t, all.PublisherIncome, slotPub, id)
			require.Equal(t, [3]int64{all.Income, all.PublisherIncome, all.AgencyIncome}, [3]int64{unitInc, unitPub, unitAg}, id)
			require.Greater(t, len(days), 1, "one row per day")
		}
		require.Positive(t, seen)
	}

	p := re.pull(t, from, y, ended)
	require.Equal(t, "done", p.State, p.LastError)
	check()
	p = re.pull(t, from, y, ended)
	require.Equal(t, "done", p.State, p.LastError)
	check()

	// An account WeChat refuses has no CSV rows, and a malformed appid none at all.
	require.Len(t, readCSV(t, c.Get("/apps/"+re.closed+"/revenue.csv")), 0)
	require.Equal(t, http.StatusNotFound, c.Get("/apps/nope/revenue.csv").StatusCode)
}

// The settlement page shows WeChat's own revenue_all, penalty_all and
// settled_revenue_all beside the sums of its intervals and slots, to the fen,
// for the provider and for each Mini Program; its CSV carries the same.
func TestRevenueSettlementTotalsMatchWeChat(t *testing.T) {
	t.Parallel()
	re := newRevenueEnv(t, 2)
	y := revenue.Day(time.Now()).AddDate(0, 0, -1)
	from := y.AddDate(0, 0, -75)
	p := re.pull(t, from, y, ended)
	require.Equal(t, "done", p.State, p.LastError)
	start, end := from.Format(time.DateOnly), y.Format(time.DateOnly)
	c, _ := re.Login(core.RoleViewer)
	penalties := int64(0)
	statuses := map[string]bool{}
	for _, id := range append([]string{""}, re.opened...) {
		want := re.Sim.SettlementTotals(webtest.ComponentAppID, start, end)
		path := "/revenue/settlement"
		if id != "" {
			want = re.Sim.SettlementTotals(id, start, end)
			path += "?" + url.Values{"appid": {id}}.Encode()
		}
		r := c.Get(path)
		require.Equal(t, http.StatusOK, r.StatusCode)
		require.Equal(t, wechat.Fen(want.Revenue).Yuan(), r.Text(`[data-total=revenue-all]`), id)
		require.Equal(t, wechat.Fen(want.Penalty).Yuan(), r.Text(`[data-total=penalty-all]`), id)
		require.Equal(t, wechat.Fen(want.Settled).Yuan(), r.Text(`[data-total=settled-all]`), id)
		require.Equal(t, wechat.Fen(want.Settled).Yuan(), r.Text(`[data-total=settled]`), id)
		penalties += want.Penalty
		if want.Intervals == 0 {
			continue
		}
		require.Equal(t, 1, r.Doc.Find(`[data-match]`).Length(), id)
		var slots int64
		r.Doc.Find(`#settlement tfoot [data-slot-total]`).Each(func(_ int, s *goquery.Selection) {
			slots += yuanToFen(t, strings.TrimSpace(s.Text()))
		})
		require.Equal(t, want.Settled, slots, "%s: the slot breakdown adds up", id)
		r.Doc.Find(`#settlement tbody tr`).Each(func(_ int, s *goquery.Selection) {
			statuses[s.AttrOr("data-status", "")] = true
		})

		link := r.Doc.Find(`#settlement-csv`).AttrOr("href", "")
		require.NotEmpty(t, link)
		var rev, pen, settled, wsettled, slotSettled int64
		n := 0
		for _, row := range readCSV(t, c.Get(link)) {
			if row["slot_key"] != "" {
				slotSettled += yuanToFen(t, row["settled_yuan"])
				continue
			}
			n++
			rev += yuanToFen(t, row["revenue_yuan"])
			pen += yuanToFen(t, row["penalty_yuan"])
			settled += yuanToFen(t, row["settled_yuan"])
			wsettled += yuanToFen(t, row["wechat_settled_yuan"])
		}
		require.Equal(t, want.Intervals, n, id)
		require.Equal(t, [5]int64{want.Revenue, want.Penalty, want.Settled, want.Settled, want.Settled},
			[5]int64{rev, pen, settled, wsettled, slotSettled}, id)
	}
	require.Positive(t, penalties, "some interval has a penalty")
	require.True(t, statuses[fmt.Sprint(wechat.SettSettling)] && statuses[fmt.Sprint(wechat.SettPaid)], "settling and paid intervals: %v", statuses)
}

// Each summary card shows the change against the period before it (the day
// before, the 7 and 30 days before, the same days of last month) with its
// sign and colour, computed from the simulator's totals; a card whose
// previous period has no data shows "—" uncoloured.
func TestRevenuePeriodChanges(t *testing.T) {
	t.Parallel()
	today := revenue.Day(time.Now())
	at := today.Add(13 * time.Hour) // yesterday's figures are final
	re := newRevenueEnv(t, 4, func() time.Time { return at })
	y := today.AddDate(0, 0, -1)
	c, _ := re.Login(core.RoleViewer)
	card := func(r *webtest.Response, key string) (string, string) {
		s := r.Doc.Find(`[data-period=` + key + `] [data-change]`)
		require.Equal(t, 1, s.Length(), key)
		return strings.TrimSpace(s.Text()), s.AttrOr("class", "")
	}
	sum := func(from, to time.Time) int64 {
		return re.Sim.ProviderTotals(from.Format(time.DateOnly), to.Format(time.DateOnly), "").Income
	}

	// Only the last week is stored: the week and month before are unknown.
	p := re.pull(t, y.AddDate(0, 0, -6), y, ended)
	require.Equal(t, "done", p.State, p.LastError)
	r := c.Get("/revenue")
	for _, key := range []string{"last7", "last30"} {
		text, class := card(r, key)
		require.Equal(t, "—", text, key)
		require.Equal(t, "change", class, key)
	}

	p = re.pull(t, y.AddDate(0, 0, -70), y, ended)
	require.Equal(t, "done", p.State, p.LastError)
	r = c.Get("/revenue")
	signs := map[string]bool{}
	for _, per := range revenue.Periods(today) {
		cur, prev := sum(per.From, per.To), sum(per.PrevFrom, per.PrevTo)
		require.Positive(t, prev, per.Key)
		pct := float64(cur-prev) * 100 / float64(prev)
		text, class := card(r, per.Key)
		require.Equal(t, fmt.Sprintf("%+.1f%%", pct), text, per.Key)
		require.Equal(t, wechat.Fen(cur).Yuan(), r.Text(`[data-period=`+per.Key+`] [data-income]`), per.Key)
		switch {
		case cur > prev:
			require.Equal(t, "change up", class, per.Key)
			require.True(t, strings.HasPrefix(text, "+"), text)
		case cur < prev:
			require.Equal(t, "change down", class, per.Key)
			require.True(t, strings.HasPrefix(text, "-"), text)
		}
		signs[class] = true
	}
	require.NotEmpty(t, signs)
}

// newRevenueEnvPrincipals is newRevenueEnv with its Mini Programs under two
// principals (甲 for the even ones, 乙 for the odd) and a pinned clock at
// which yesterday's figures are final.
func newRevenueEnvPrincipals(t *testing.T, n int) *revenueEnv {
	t.Helper()
	at := revenue.Day(time.Now()).Add(13 * time.Hour)
	now := func() time.Time { return at }
	e := webtest.New(t, webtest.Options{Env: map[string]string{"RATE_PER_SECOND": "500"},
		SimConfig: func(c *wechatsim.Config) { c.Now = now }, Now: now})
	ctx := context.Background()
	re := &revenueEnv{Env: e}
	for i := range n {
		id := fmt.Sprintf("wx00000000000d%04x", i)
		re.opened = append(re.opened, id)
		e.Sim.AddAuthorizer(wechatsim.Authorizer{AppID: id, NickName: fmt.Sprintf("筛选 %02d", i),
			PrincipalName: []string{"甲方科技有限公司", "乙方网络有限公司"}[i%2], MiniProgram: true})
		e.Sim.MarkOpened(id, time.Now().AddDate(0, 0, -90))
	}
	require.NoError(t, e.Sim.PushTicket(ctx))
	_, err := e.App.Platform.Sync(ctx)
	require.NoError(t, err)
	jctx, cancel := context.WithCancel(ctx)
	require.NoError(t, e.App.Jobs.Start(jctx))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = e.App.Jobs.Stop(sctx)
		cancel()
	})
	return re
}

// The dashboard's slot, principal and state filters each narrow every figure
// (totals, periods, slots, top accounts, CSV) to exactly what the simulator
// computes for the chosen Mini Programs and slot; the form keeps the choice
// and the CSV link carries it.
func TestRevenueDashboardFilters(t *testing.T) {
	t.Parallel()
	re := newRevenueEnvPrincipals(t, 6)
	today := revenue.Day(time.Now())
	y := today.AddDate(0, 0, -1)
	p := re.pull(t, y.AddDate(0, 0, -70), y, ended)
	require.Equal(t, "done", p.State, p.LastError)
	// Two accounts opened through the console are "open"; the rest "never".
	op, _ := re.Login(core.RoleOperator)
	for _, id := range re.opened[:2] {
		r := op.HTMXPost("/apps/"+id+"/open", url.Values{"confirmed": {"1"}})
		require.Equal(t, http.StatusOK, r.StatusCode, r.Body)
	}
	c, _ := re.Login(core.RoleViewer)
	start, end := y.AddDate(0, 0, -20), y
	s, e := start.Format(time.DateOnly), end.Format(time.DateOnly)

	sum := func(ids []string, from, to, slot string) (tot [3]int64) {
		for _, id := range ids {
			w := re.Sim.SlotTotals(id, from, to, slot)
			tot[0], tot[1], tot[2] = tot[0]+w.Income, tot[1]+w.PublisherIncome, tot[2]+w.AgencyIncome
		}
		return tot
	}
	pick := func(keep func(i int) bool) (out []string) {
		for i, id := range re.opened {
			if keep(i) {
				out = append(out, id)
			}
		}
		return out
	}
	slot := wechat.SlotBanner // every account with ads has a banner
	// A range that ends before the periods' span begins (their earliest
	// previous period starts at most 62 days before yesterday) is read apart
	// from it; the others lie within it.
	before := [2]string{y.AddDate(0, 0, -70).Format(time.DateOnly), y.AddDate(0, 0, -64).Format(time.DateOnly)}
	cases := []struct {
		name string
		q    url.Values
		ids  []string
		slot string
		span [2]string
	}{
		{"slot", url.Values{"slot": {slot}}, re.opened, slot, [2]string{s, e}},
		{"principal", url.Values{"principal": {"甲方"}}, pick(func(i int) bool { return i%2 == 0 }), "", [2]string{s, e}},
		{"state open", url.Values{"state": {"open"}}, re.opened[:2], "", [2]string{s, e}},
		{"state never", url.Values{"state": {"never"}}, re.opened[2:], "", [2]string{s, e}},
		{"principal and slot", url.Values{"principal": {"乙方网络"}, "slot": {slot}}, pick(func(i int) bool { return i%2 == 1 }), slot, [2]string{s, e}},
		{"principal, before the periods", url.Values{"principal": {"甲方"}}, pick(func(i int) bool { return i%2 == 0 }), "", before},
		{"state never and slot, before the periods", url.Values{"state": {"never"}, "slot": {slot}}, re.opened[2:], slot, before},
	}
	for _, tc := range cases {
		s, e := tc.span[0], tc.span[1]
		all := sum(re.opened, s, e, "")
		q := url.Values{"from": {s}, "to": {e}}
		for k, v := range tc.q {
			q[k] = v
		}
		r := c.Get("/revenue?" + q.Encode())
		require.Equal(t, http.StatusOK, r.StatusCode, tc.name)
		want := sum(tc.ids, s, e, tc.slot)
		require.Positive(t, want[1], tc.name)
		require.NotEqual(t, all, want, "%s: the filter changes the figures", tc.name)
		// WeChat splits income between provider and merchants for all
		// accounts together only: narrowed, it is the Mini Programs' own.
		require.Equal(t, wechat.Fen(want[1]).Yuan(), r.Text(`[data-total=income]`), tc.name)
		require.Equal(t, wechat.Fen(want[1]).Yuan(), r.Text(`[data-total=publisher]`), tc.name)
		require.Equal(t, "—", r.Text(`[data-total=agency]`), tc.name)
		if tc.slot != "" {
			require.Equal(t, 1, r.Doc.Find(`#slot-table tbody tr`).Length(), tc.name)
		}
		for _, per := range revenue.Periods(today) {
			w := sum(tc.ids, per.From.Format(time.DateOnly), per.To.Format(time.DateOnly), tc.slot)
			require.Equal(t, wechat.Fen(w[1]).Yuan(), r.Text(`[data-period=`+per.Key+`] [data-income]`), "%s %s", tc.name, per.Key)
		}
		r.Doc.Find(`#top-apps tbody tr`).Each(func(_ int, row *goquery.Selection) {
			id := row.AttrOr("data-appid", "")
			require.Contains(t, tc.ids, id, tc.name)
			require.Equal(t, wechat.Fen(re.Sim.SlotTotals(id, s, e, tc.slot).PublisherIncome).Yuan(), strings.TrimSpace(row.Find(`[data-income]`).Text()), tc.name)
		})
		// The form keeps the choice; the CSV link carries it.
		for k, v := range tc.q {
			sel := `#revenue-range [name=` + k + `]`
			if k == "principal" {
				require.Equal(t, v[0], r.Doc.Find(sel).AttrOr("value", ""), tc.name)
			} else {
				require.Equal(t, v[0], r.Doc.Find(sel+` option[selected]`).AttrOr("value", ""), tc.name)
			}
		}
		link, err := url.Parse(r.Doc.Find(`#revenue-csv`).AttrOr("href", ""))
		require.NoError(t, err)
		for k, v := range tc.q {
			require.Equal(t, v[0], link.Query().Get(k), tc.name)
		}
		var slotPub int64
		for _, row := range readCSV(t, c.Get(link.String())) {
			if row["slot_key"] != "" {
				slotPub += yuanToFen(t, row["publisher_income_yuan"])
			}
		}
		require.Equal(t, sum(tc.ids, s, e, tc.slot)[1], slotPub, tc.name)
	}
}
