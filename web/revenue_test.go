package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// revenueEnv is a console whose simulator has opened Mini Programs with
// history, one account whose traffic master is not open, and running workers.
type revenueEnv struct {
	*webtest.Env
	opened []string
	closed string
}

func newRevenueEnv(t *testing.T, n int, simNow ...func() time.Time) *revenueEnv {
	t.Helper()
	// Without a clock of its own, the test's clock stands at 13:00 in China
	// today, when yesterday's figures are final: on a running clock they
	// grow every hour from 06:00 to noon (wechatsim's revisionPercent), and a
	// test that pulled before an hour struck and compared after it failed.
	now := func() time.Time { return revenue.Day(time.Now()).Add(13 * time.Hour) }
	if len(simNow) > 0 {
		now = simNow[0]
	}
	// The console and WeChat share the clock, as pushes are checked against it.
	opt := webtest.Options{Env: map[string]string{"RATE_PER_SECOND": "500"},
		SimConfig: func(c *wechatsim.Config) { c.Now = now }, Now: now}
	e := webtest.New(t, opt)
	ctx := context.Background()
	re := &revenueEnv{Env: e, closed: "wx00000000000c0fff"}
	for i := range n {
		id := fmt.Sprintf("wx00000000000c%04x", i)
		re.opened = append(re.opened, id)
		e.Sim.AddAuthorizer(wechatsim.Authorizer{AppID: id, NickName: fmt.Sprintf("收益 %02d", i), MiniProgram: true})
		e.Sim.MarkOpened(id, time.Now().AddDate(0, 0, -90))
	}
	e.Sim.AddAuthorizer(wechatsim.Authorizer{AppID: re.closed, NickName: "未开通", MiniProgram: true})
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

// pull queues a backfill of [from, to] and waits until it has ended.
func (re *revenueEnv) pull(t *testing.T, from, to time.Time, until func(revenue.Pull) bool) revenue.Pull {
	t.Helper()
	ctx := context.Background()
	id, err := re.App.Jobs.StartRevenuePull(ctx, "backfill", from, to, nil)
	require.NoError(t, err)
	return re.waitPull(t, id, until)
}

func (re *revenueEnv) waitPull(t *testing.T, id int64, until func(revenue.Pull) bool) revenue.Pull {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		p, err := re.App.RevenueStore.Pull(ctx, id)
		require.NoError(t, err)
		if until(p) {
			return p
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pull %d: still %s (%d of %d days): %s", id, p.State, p.DaysDone(), p.DaysTotal(), p.LastError)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func ended(p revenue.Pull) bool { return p.State == "done" || p.State == "failed" }

// A backfill over two steps stores exactly what WeChat reports, to the fen:
// the provider's split, every account per slot, settlement; pulling it again
// changes nothing; an account whose traffic master is not open is marked.
func TestRevenueBackfillMatchesTheSimulatorToTheFen(t *testing.T) {
	t.Parallel()
	re := newRevenueEnv(t, 6)
	ctx := context.Background()
	y := revenue.Day(time.Now()).AddDate(0, 0, -1)
	from := y.AddDate(0, 0, -40) // two steps of a pull
	start, end := from.Format(time.DateOnly), y.Format(time.DateOnly)

	check := func() {
		t.Helper()
		want := re.Sim.ProviderTotals(start, end, "")
		require.Positive(t, want.Income)
		got, err := re.App.RevenueStore.ProviderTotals(ctx, from, y)
		require.NoError(t, err)
		require.Equal(t, revenue.Figures{ReqSucc: want.ReqSucc, Exposure: want.Exposure, Clicks: want.Clicks,
			Income: wechat.Fen(want.Income), PublisherIncome: wechat.Fen(want.PublisherIncome), AgencyIncome: wechat.Fen(want.AgencyIncome)}, got)

		slots, err := re.App.RevenueStore.SlotDays(ctx, from, y)
		require.NoError(t, err)
		perSlot := map[string]wechat.Fen{}
		for _, d := range slots {
			perSlot[d.Slot] += d.Income
		}
		for _, sl := range wechat.Slots() {
			var w int64
			for _, id := range re.opened {
				w += re.Sim.SlotTotals(id, start, end, sl).PublisherIncome
			}
			require.Equal(t, wechat.Fen(w), perSlot[sl], sl)
		}

		top, err := re.App.RevenueStore.TopAccounts(ctx, from, y, 100)
		require.NoError(t, err)
		byApp := map[string]wechat.Fen{}
		for _, a := range top {
			byApp[a.AppID] = a.Income
		}
		for _, id := range re.opened {
			require.Equal(t, wechat.Fen(re.Sim.SlotTotals(id, start, end, "").PublisherIncome), byApp[id], id)

			ivs, err := re.App.RevenueStore.Settlement(ctx, id)
			require.NoError(t, err)
			var settled wechat.Fen
			for _, iv := range ivs {
				settled += iv.SettledRevenue
			}
			st := re.Sim.SettlementTotals(id, start, end)
			require.Equal(t, st.Intervals, len(ivs), id)
			require.Equal(t, wechat.Fen(st.Settled), settled, id)
		}
	}

	p := re.pull(t, from, y, ended)
	require.Equal(t, "done", p.State, p.LastError)
	require.Equal(t, p.DaysTotal(), p.DaysDone())
	require.Positive(t, p.Rows)
	check()

	b, err := re.App.RevenueStore.AccountBlocked(ctx, re.closed)
	require.NoError(t, err)
	require.NotNil(t, b)
	require.Equal(t, 2009, b.Code)

	// Pulling the same days again replaces them: nothing doubles.
	p = re.pull(t, from, y, ended)
	require.Equal(t, "done", p.State, p.LastError)
	check()

	// The pulls are on the Jobs page.
	c, _ := re.Login(core.RoleAdmin)
	r := c.Get("/jobs")
	require.Equal(t, 2, r.Doc.Find(`#revenue-pulls tr[data-state=done]`).Length(), r.Body)

	// The dashboard shows the same figures, in yuan with two decimals.
	want := re.Sim.ProviderTotals(start, end, "")
	r = c.Get("/revenue?" + url.Values{"from": {start}, "to": {end}}.Encode())
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, wechat.Fen(want.Income).Yuan(), r.Text(`[data-total=income]`))
	require.Equal(t, wechat.Fen(want.AgencyIncome).Yuan(), r.Text(`[data-total=agency]`))
	require.Equal(t, wechat.Fen(want.PublisherIncome).Yuan(), r.Text(`[data-total=publisher]`))
	for _, sl := range wechat.Slots() {
		var w int64
		for _, id := range re.opened {
			w += re.Sim.SlotTotals(id, start, end, sl).PublisherIncome
		}
		if w > 0 {
			require.Equal(t, wechat.Fen(w).Yuan(), r.Text(`#slot-table tr[data-slot=`+sl+`] [data-income]`), sl)
		}
	}
	require.NotEmpty(t, r.Doc.Find(`#slot-chart`).AttrOr("data-chart", ""))
	for _, key := range []string{"yesterday", "last7", "last30", "mtd"} {
		for _, p := range revenue.Periods(revenue.Day(time.Now())) {
			if p.Key == key {
				w := re.Sim.ProviderTotals(p.From.Format(time.DateOnly), p.To.Format(time.DateOnly), "")
				require.Equal(t, wechat.Fen(w.Income).Yuan(), r.Text(`[data-period=`+key+`] [data-income]`), key)
			}
		}
	}

	// The biggest movers against the 20 days before, as WeChat reports each account.
	s20 := y.AddDate(0, 0, -19)
	prevS, prevE := s20.AddDate(0, 0, -20).Format(time.DateOnly), s20.AddDate(0, 0, -1).Format(time.DateOnly)
	r = c.Get("/revenue?" + url.Values{"from": {s20.Format(time.DateOnly)}, "to": {end}}.Encode())
	movers := r.Doc.Find(`#movers tbody tr`)
	require.Positive(t, movers.Length())
	last := int64(-1)
	movers.Each(func(i int, row *goquery.Selection) {
		id := row.AttrOr("data-appid", "")
		cur := re.Sim.SlotTotals(id, s20.Format(time.DateOnly), end, "").PublisherIncome
		prev := re.Sim.SlotTotals(id, prevS, prevE, "").PublisherIncome
		require.Equal(t, wechat.Fen(cur).Yuan(), strings.TrimSpace(row.Find(`[data-income]`).Text()), id)
		require.Equal(t, wechat.Fen(prev).Yuan(), strings.TrimSpace(row.Find(`[data-previous]`).Text()), id)
		d := max(cur-prev, prev-cur)
		if last >= 0 {
			require.LessOrEqual(t, d, last, "largest change first")
		}
		last = d
	})

	// The CSV carries the same days and money.
	r = c.Get("/revenue.csv?" + url.Values{"from": {start}, "to": {end}}.Encode())
	require.Equal(t, http.StatusOK, r.StatusCode)
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.Body, "\uFEFF"))).ReadAll()
	require.NoError(t, err)
	var csvIncome, csvSlots int64
	for _, rec := range recs[1:] {
		if rec[2] == "" {
			csvIncome += yuanToFen(t, rec[5])
		} else {
			csvSlots += yuanToFen(t, rec[6])
		}
	}
	require.Equal(t, want.Income, csvIncome)
	require.Equal(t, want.PublisherIncome, csvSlots)
}

func yuanToFen(t *testing.T, s string) int64 {
	t.Helper()
	whole, frac, ok := strings.Cut(s, ".")
	require.True(t, ok, s)
	w, err := strconv.ParseInt(whole, 10, 64)
	require.NoError(t, err)
	f, err := strconv.ParseInt(frac, 10, 64)
	require.NoError(t, err)
	return w*100 + f
}

// WeChat asking to retry (-202) for one account sends it back to the queue
// after the chunk's pass; the next pass calls it again, and the pull ends
// with every figure stored once.
func TestRevenuePullResumesAfterWeChatAsksToRetry(t *testing.T) {
	t.Parallel()
	re := newRevenueEnv(t, 2)
	ctx := context.Background()
	y := revenue.Day(time.Now()).AddDate(0, 0, -1)
	from := y.AddDate(0, 0, -40)
	bad := y.AddDate(0, 0, -2).Format(time.DateOnly) // in the second step
	re.Sim.FailDay(re.opened[1], bad, -202)
	id, err := re.App.Jobs.StartRevenuePull(ctx, "backfill", from, y, nil)
	require.NoError(t, err)
	p := re.waitPull(t, id, func(p revenue.Pull) bool { return p.Errors > 0 })
	require.Equal(t, "running", p.State)
	require.Less(t, p.AccountsDone, p.AccountsTotal, "the refused account is called again")
	re.Sim.FailDay(re.opened[1], bad, 0)
	p = re.waitPull(t, id, ended)
	require.Equal(t, "done", p.State, p.LastError)
	require.Equal(t, 3, p.AccountsTotal)
	require.Equal(t, p.AccountsTotal, p.AccountsDone)
	start, end := from.Format(time.DateOnly), y.Format(time.DateOnly)
	got, err := re.App.RevenueStore.ProviderTotals(ctx, from, y)
	require.NoError(t, err)
	require.Equal(t, wechat.Fen(re.Sim.ProviderTotals(start, end, "").Income), got.Income)
	top, err := re.App.RevenueStore.TopAccounts(ctx, from, y, 10)
	require.NoError(t, err)
	for _, a := range top {
		require.Equal(t, wechat.Fen(re.Sim.SlotTotals(a.AppID, start, end, "").PublisherIncome), a.Income)
	}
}

// The daily schedule pulls yesterday and the day before (whose figures WeChat
// revised since the last run), records the pull, and says so on the Jobs page.
func TestRevenueDailySchedulePullsTheLastTwoDays(t *testing.T) {
	t.Parallel()
	re := newRevenueEnv(t, 3)
	ctx := context.Background()
	var daily jobs.Schedule
	list, err := re.App.Jobs.Schedules(ctx)
	require.NoError(t, err)
	for _, s := range list {
		if s.Name == "revenue_daily" {
			daily = s.Schedule
		}
	}
	require.NotNil(t, daily.Do)
	out, err := daily.Do(ctx, re.App.Jobs)
	require.NoError(t, err)
	require.Regexp(t, `^revenue pull \d+ queued$`, out)
	pulls, err := re.App.RevenueStore.Pulls(ctx, 1)
	require.NoError(t, err)
	require.Len(t, pulls, 1)
	p := re.waitPull(t, pulls[0].ID, ended)
	require.Equal(t, "done", p.State, p.LastError)
	y := revenue.Day(time.Now()).AddDate(0, 0, -1)
	require.Equal(t, y.AddDate(0, 0, -1), p.From)
	require.Equal(t, y, p.To)
	got, err := re.App.RevenueStore.ProviderTotals(ctx, p.From, p.To)
	require.NoError(t, err)
	want := re.Sim.ProviderTotals(p.From.Format(time.DateOnly), p.To.Format(time.DateOnly), "")
	require.Equal(t, wechat.Fen(want.Income), got.Income)
	require.Equal(t, wechat.Fen(want.AgencyIncome), got.AgencyIncome)
}

// Admins backfill a range from the Jobs page; a range ending today is refused
// with a message, as WeChat has no figures for today yet.
func TestRevenueBackfillForm(t *testing.T) {
	t.Parallel()
	re := newRevenueEnv(t, 1)
	c, _ := re.Login(core.RoleAdmin)
	today := revenue.Day(time.Now())
	r := c.PostForm("/revenue/pulls", url.Values{"from": {today.AddDate(0, 0, -3).Format(time.DateOnly)}, "to": {today.Format(time.DateOnly)}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	r = c.Get("/jobs")
	require.Contains(t, r.Text(".flash"), "WeChat has figures up to yesterday.")
	r = c.PostForm("/revenue/pulls", url.Values{"from": {today.AddDate(0, 0, -3).Format(time.DateOnly)}, "to": {today.AddDate(0, 0, -1).Format(time.DateOnly)}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	r = c.Get("/jobs")
	require.Contains(t, r.Text(".flash"), "The backfill is queued")
	require.Equal(t, 1, r.Doc.Find(`#revenue-pulls tr[data-pull]`).Length())
}

// A Mini Program's page shows its last 30 days per slot as the simulator
// computes them, and an account whose traffic master is not open says that
// WeChat refuses its data rather than showing zero.
func TestRevenueOnTheAccountPage(t *testing.T) {
	t.Parallel()
	re := newRevenueEnv(t, 2)
	y := revenue.Day(time.Now()).AddDate(0, 0, -1)
	from := y.AddDate(0, 0, -29)
	p := re.pull(t, from, y, ended)
	require.Equal(t, "done", p.State, p.LastError)
	start, end := from.Format(time.DateOnly), y.Format(time.DateOnly)
	c, _ := re.Login(core.RoleViewer)
	for _, id := range re.opened {
		r := c.Get("/apps/" + id)
		require.Equal(t, http.StatusOK, r.StatusCode)
		want := re.Sim.SlotTotals(id, start, end, "")
		if want.Exposure == 0 {
			require.Equal(t, 1, r.Doc.Find(`#revenue [data-no-revenue]`).Length(), id)
			continue
		}
		require.Equal(t, wechat.Fen(want.PublisherIncome).Yuan(), r.Text(`#revenue [data-total=income]`), id)
		for _, sl := range wechat.Slots() {
			if w := re.Sim.SlotTotals(id, start, end, sl); w.Exposure > 0 {
				require.Equal(t, wechat.Fen(w.PublisherIncome).Yuan(), r.Text(`#account-slots tr[data-slot=`+sl+`] [data-income]`), sl)
			}
		}
		require.Zero(t, r.Doc.Find(`#revenue [data-blocked]`).Length())
	}
	r := c.Get("/apps/" + re.closed)
	require.Equal(t, "2009", r.Doc.Find(`#revenue [data-blocked]`).AttrOr("data-blocked", ""))
	require.Contains(t, r.Text(`#revenue [data-blocked]`), "traffic master is not open")
	require.Zero(t, r.Doc.Find(`#revenue [data-total]`).Length(), "no zero shown")
}

// The settlement page lists the provider's and each Mini Program's half
// months with the totals WeChat reports (settled_revenue_all), to the fen.
func TestRevenueSettlementPage(t *testing.T) {
	t.Parallel()
	re := newRevenueEnv(t, 2)
	y := revenue.Day(time.Now()).AddDate(0, 0, -1)
	from := y.AddDate(0, 0, -45)
	p := re.pull(t, from, y, ended)
	require.Equal(t, "done", p.State, p.LastError)
	start, end := from.Format(time.DateOnly), y.Format(time.DateOnly)
	c, _ := re.Login(core.RoleViewer)
	for _, id := range append([]string{""}, re.opened...) {
		want := re.Sim.SettlementTotals(webtest.ComponentAppID, start, end)
		path := "/revenue/settlement"
		if id != "" {
			want = re.Sim.SettlementTotals(id, start, end)
			path += "?appid=" + id
		}
		r := c.Get(path)
		require.Equal(t, http.StatusOK, r.StatusCode)
		require.Equal(t, wechat.Fen(want.Settled).Yuan(), r.Text(`[data-total=settled]`), id)
		require.Equal(t, want.Intervals, r.Doc.Find(`#settlement tbody tr`).Length(), id)
		require.Positive(t, r.Doc.Find(`#settlement tbody tr[data-status]`).Length())
	}
}

// WeChat publishes yesterday's figures during the day and revises them until
// noon: before they appear the dashboard says so instead of a fall to zero,
// and a later pull replaces the partial figures with the final ones.
func TestRevenueYesterdayUnpublishedThenRevised(t *testing.T) {
	t.Parallel()
	today := revenue.Day(time.Now())
	var simNow atomic.Pointer[time.Time]
	set := func(hour int) { at := today.Add(time.Duration(hour) * time.Hour); simNow.Store(&at) }
	set(3)
	re := newRevenueEnv(t, 3, func() time.Time { return *simNow.Load() })
	y := today.AddDate(0, 0, -1)
	from := y.AddDate(0, 0, -6)
	start, end := from.Format(time.DateOnly), y.Format(time.DateOnly)
	c, _ := re.Login(core.RoleViewer)
	dashboard := func() *webtest.Response {
		return c.Get("/revenue?" + url.Values{"from": {start}, "to": {end}}.Encode())
	}

	p := re.pull(t, from, y, ended)
	require.Equal(t, "done", p.State, p.LastError)
	r := dashboard()
	require.Equal(t, 1, r.Doc.Find(`[data-period=yesterday] [data-unpublished]`).Length(), r.Body)
	require.Zero(t, r.Doc.Find(`[data-period=yesterday] [data-change]`).Length())

	set(8) // yesterday's figures are out, not yet final
	p = re.pull(t, y, y, ended)
	require.Equal(t, "done", p.State, p.LastError)
	partial := re.Sim.ProviderTotals(start, end, "")
	r = dashboard()
	require.Equal(t, wechat.Fen(partial.Income).Yuan(), r.Text(`[data-total=income]`))
	require.Equal(t, 1, r.Doc.Find(`[data-period=yesterday] [data-change]`).Length())

	set(13) // final
	p = re.pull(t, y, y, ended)
	require.Equal(t, "done", p.State, p.LastError)
	final := re.Sim.ProviderTotals(start, end, "")
	require.Greater(t, final.Income, partial.Income)
	r = dashboard()
	require.Equal(t, wechat.Fen(final.Income).Yuan(), r.Text(`[data-total=income]`))
	require.Equal(t, wechat.Fen(re.Sim.ProviderTotals(end, end, "").Income).Yuan(), r.Text(`[data-period=yesterday] [data-income]`))
}
