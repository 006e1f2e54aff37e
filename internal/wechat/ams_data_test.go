package wechat_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
)

// dataDay is 15:00 in China on 2026-01-20: yesterday's figures are final.
var dataDay = time.Date(2026, 1, 20, 15, 0, 0, 0, cst)

func sumSlots(list []wechat.SlotDayStat) wechat.AdMetrics {
	var m wechat.AdMetrics
	for _, s := range list {
		m = m.Add(s.AdMetrics)
	}
	return m
}

func TestAdDataMatchesTheSimulatorToTheFen(t *testing.T) {
	e := newEnv(t, nil)
	e.at(t, dataDay)
	ctx := context.Background()
	since := time.Date(2025, 10, 1, 0, 0, 0, 0, cst)
	appID, tok, none := e.withData(t, since)
	const start, end = "2025-12-01", "2026-01-19"
	want := e.sim.SlotTotals(appID, start, end, "")
	require.Positive(t, want.PublisherIncome)

	// Every page, seven rows at a time.
	var rows []wechat.SlotDayStat
	var summary wechat.AdMetrics
	for page := 1; ; page++ {
		r, err := e.client.GetAdposGeneral(ctx, tok, wechat.StatQuery{Page: page, PageSize: 7, StartDate: start, EndDate: end})
		require.NoError(t, err)
		summary = r.Summary.AdMetrics
		rows = append(rows, r.List...)
		if len(rows) >= int(r.TotalNum) {
			break
		}
	}
	got := sumSlots(rows)
	assert.Equal(t, want.PublisherIncome, int64(got.PublisherIncome))
	assert.Equal(t, want.PublisherIncome, int64(summary.PublisherIncome))
	assert.Equal(t, want.Exposure, int64(got.ExposureCount))
	assert.Equal(t, want.Clicks, int64(summary.ClickCount))
	assert.Equal(t, want.ReqSucc, int64(summary.ReqSuccCount))
	assert.Equal(t, "2026-01-19", rows[0].Date, "newest first")
	assert.Equal(t, want.Income, want.PublisherIncome+want.AgencyIncome)

	// Weekly rhythm: Saturdays busier than Mondays; slots earn differently.
	var sat, mon int64
	ecpm := map[string][2]int64{}
	for _, r := range rows {
		d, err := time.Parse(time.DateOnly, r.Date)
		require.NoError(t, err)
		if r.AdSlot == wechat.SlotBanner {
			switch d.Weekday() {
			case time.Saturday:
				sat += int64(r.ExposureCount)
			case time.Monday:
				mon += int64(r.ExposureCount)
			}
		}
		v := ecpm[r.AdSlot]
		ecpm[r.AdSlot] = [2]int64{v[0] + int64(r.Income), v[1] + int64(r.ExposureCount)}
	}
	assert.Greater(t, sat, mon)
	if rv, ok := ecpm[wechat.SlotRewardVideo]; ok {
		b := ecpm[wechat.SlotBanner]
		assert.Greater(t, rv[0]*1000/rv[1], b[0]*1000/b[1], "reward video earns more per thousand than banners")
	}

	// One slot.
	banner, err := e.client.GetAdposGeneral(ctx, tok, wechat.StatQuery{Page: 1, PageSize: 100, StartDate: start, EndDate: end, AdSlot: wechat.SlotBanner})
	require.NoError(t, err)
	assert.Equal(t, e.sim.SlotTotals(appID, start, end, wechat.SlotBanner).PublisherIncome, int64(banner.Summary.PublisherIncome))

	// Per unit: the seeded units carry their slot's figures.
	units, err := e.client.GetAdUnitGeneral(ctx, tok, wechat.StatQuery{Page: 1, PageSize: 50, StartDate: start, EndDate: end})
	require.NoError(t, err)
	require.NotEmpty(t, units.List)
	for _, u := range units.List {
		var m wechat.AdMetrics
		for _, s := range u.StatItem {
			m = m.Add(s.AdMetrics)
		}
		ut := e.sim.UnitTotals(appID, u.AdUnitID, start, end)
		assert.Equal(t, ut.PublisherIncome, int64(m.PublisherIncome), u.AdUnitName)
		assert.Equal(t, ut.Exposure, int64(m.ExposureCount), u.AdUnitName)
	}

	// An opened account without ads has nothing, not an error.
	noneTok := e.token(t, none)
	empty, err := e.client.GetAdposGeneral(ctx, noneTok, wechat.StatQuery{Page: 1, PageSize: 10, StartDate: start, EndDate: end})
	require.NoError(t, err)
	assert.Zero(t, empty.TotalNum)
	assert.Empty(t, empty.List)

	// Nothing before the traffic master was opened.
	before, err := e.client.GetAdposGeneral(ctx, tok, wechat.StatQuery{Page: 1, PageSize: 10, StartDate: "2025-09-01", EndDate: "2025-09-30"})
	require.NoError(t, err)
	assert.Zero(t, before.TotalNum)
}

func TestProviderDataMatchesTheSimulator(t *testing.T) {
	e := newEnv(t, nil)
	e.at(t, dataDay)
	ctx := context.Background()
	since := time.Date(2025, 12, 1, 0, 0, 0, 0, cst)
	var apps []string
	for range 6 {
		appID, _ := e.opened(t, since)
		apps = append(apps, appID)
	}
	e.authorize(t, true) // authorized, not opened: no data
	const start, end = "2025-12-01", "2026-01-19"
	want := e.sim.ProviderTotals(start, end, "")
	var sum wechat.AdMetrics
	for _, a := range apps {
		sl := e.sim.SlotTotals(a, start, end, "")
		sum = sum.Add(wechat.AdMetrics{Income: wechat.Fen(sl.Income), PublisherIncome: wechat.Fen(sl.PublisherIncome), AgencyIncome: wechat.Fen(sl.AgencyIncome)})
	}
	assert.Equal(t, want.Income, int64(sum.Income), "the provider's totals are its Mini Programs' totals")

	var days []wechat.AgencyDayStat
	var summary wechat.AdMetrics
	for page := 1; ; page++ {
		r, err := e.client.GetAgencyAdsStat(ctx, e.ctok, wechat.StatQuery{Page: page, PageSize: 10, StartDate: start, EndDate: end})
		require.NoError(t, err)
		days = append(days, r.List...)
		summary = r.Summary
		if len(days) >= int(r.TotalNum) {
			break
		}
	}
	assert.Len(t, days, 50)
	var listed wechat.AdMetrics
	for _, d := range days {
		listed = listed.Add(d.AdMetrics)
	}
	for _, m := range []wechat.AdMetrics{summary, listed} {
		assert.Equal(t, want.Income, int64(m.Income))
		assert.Equal(t, want.PublisherIncome, int64(m.PublisherIncome))
		assert.Equal(t, want.AgencyIncome, int64(m.AgencyIncome))
		assert.Equal(t, want.Exposure, int64(m.ExposureCount))
	}

	// Per unit, 200 a page at most.
	var details []wechat.AdUnitDetail
	for page := 1; ; page++ {
		r, err := e.client.GetAgencyAdsDetail(ctx, e.ctok, wechat.StatQuery{Page: page, PageSize: 3, StartDate: start, EndDate: end})
		require.NoError(t, err)
		details = append(details, r.List...)
		if len(details) >= int(r.TotalNum) {
			break
		}
	}
	var unitSum int64
	for _, d := range details {
		tot := d.Total()
		assert.Equal(t, e.sim.UnitTotals(d.AppID, d.AdUnitID, start, end).AgencyIncome, int64(tot.AgencyIncome))
		unitSum += int64(tot.Income)
	}
	cover := e.sim.ProviderTotals(start, end, wechat.SlotCover).Income
	assert.Equal(t, want.Income-cover, unitSum, "every unit but the cover slot, which has none")
	_, err := e.client.AMS(ctx, e.ctok, wechat.ActionGetAgencyAdsDetail, map[string]any{"page": 1, "page_size": 201, "start_date": start, "end_date": end}, nil)
	assert.Error(t, err)
}

// The provider-wide replies are kept between the pages a client reads; every
// change they depend on shows in the next read: the clock's hour (yesterday's
// revisions), an account opened, an account removed.
func TestProviderRepliesFollowEveryChange(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.at(t, time.Date(2026, 1, 20, 5, 30, 0, 0, cst))
	since := time.Date(2025, 12, 1, 0, 0, 0, 0, cst)
	first, _, _ := e.withData(t, since)
	const start, end = "2026-01-01", "2026-01-19"
	const half1, half2 = "2026-01-01", "2026-01-15"
	read := func(msg string) (int64, map[string]bool) {
		t.Helper()
		var income int64
		apps := map[string]bool{}
		for page := 1; ; page++ {
			r, err := e.client.GetAgencyAdsDetail(ctx, e.ctok, wechat.StatQuery{Page: page, PageSize: 2, StartDate: start, EndDate: end})
			require.NoError(t, err)
			for _, d := range r.List {
				income += int64(d.Total().Income)
				apps[d.AppID] = true
			}
			if page*2 >= int(r.TotalNum) {
				break
			}
		}
		cover := e.sim.ProviderTotals(start, end, wechat.SlotCover).Income
		assert.Equal(t, e.sim.ProviderTotals(start, end, "").Income-cover, income, msg)
		sett, err := e.client.GetAgencySettledRevenue(ctx, e.ctok, half1, half2, 1, 10)
		require.NoError(t, err)
		assert.Equal(t, e.sim.ProviderTotals(half1, half2, "").AgencyIncome, int64(sett.RevenueAll), msg)
		return income, apps
	}

	early, _ := read("at 05:30, yesterday unknown")
	e.at(t, time.Date(2026, 1, 20, 8, 0, 0, 0, cst))
	morning, _ := read("at 08:00, yesterday's first figures")
	assert.Greater(t, morning, early, "a new hour revises yesterday")

	for range 10 {
		appID, _ := e.authorize(t, true)
		read("authorized, not open")
		e.sim.MarkOpened(appID, since)
		_, apps := read("opened")
		if e.sim.SlotTotals(appID, start, end, "").Exposure > 0 {
			assert.True(t, apps[appID], "an account opened since the last read")
			break
		}
	}

	e.sim.RemoveAuthorizer(first)
	_, apps := read("removed")
	assert.False(t, apps[first], "an account removed since the last read")
}

// The split follows the ratio in effect each day: a confirmed change applies from that day on.
func TestIncomeSplitFollowsTheRatioInEffect(t *testing.T) {
	e := newEnv(t, nil)
	e.at(t, time.Date(2026, 1, 10, 15, 0, 0, 0, cst))
	ctx := context.Background()
	appID, _, _ := e.withData(t, time.Date(2025, 12, 1, 0, 0, 0, 0, cst))
	require.NoError(t, e.client.SetCustomShareRatio(ctx, e.ctok, appID, 50))
	require.True(t, e.sim.ConfirmShareRatio(appID))
	e.at(t, dataDay)
	before := e.sim.SlotTotals(appID, "2026-01-01", "2026-01-09", "")
	after := e.sim.SlotTotals(appID, "2026-01-10", "2026-01-19", "")
	assert.InDelta(t, 0.30, float64(before.AgencyIncome)/float64(before.Income), 0.01)
	assert.InDelta(t, 0.50, float64(after.AgencyIncome)/float64(after.Income), 0.01)
}

func TestYesterdayIsRevisedDuringTheDay(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.at(t, time.Date(2026, 1, 20, 5, 0, 0, 0, cst))
	appID, _, _ := e.withData(t, time.Date(2025, 12, 1, 0, 0, 0, 0, cst))
	read := func(hour int) int64 {
		e.at(t, time.Date(2026, 1, 20, hour, 0, 0, 0, cst))
		r, err := e.client.GetAdposGeneral(ctx, e.token(t, appID), wechat.StatQuery{Page: 1, PageSize: 50, StartDate: "2026-01-19", EndDate: "2026-01-20"})
		require.NoError(t, err)
		for _, row := range r.List {
			assert.Equal(t, "2026-01-19", row.Date, "nothing for today")
		}
		assert.Equal(t, e.sim.SlotTotals(appID, "2026-01-19", "2026-01-19", "").PublisherIncome, int64(r.Summary.PublisherIncome))
		return int64(r.Summary.PublisherIncome)
	}
	early, morning, noon, evening := read(5), read(8), read(12), read(20)
	assert.Zero(t, early, "yesterday's figures appear during the day")
	assert.Positive(t, morning)
	assert.Less(t, morning, noon, "revised upwards")
	assert.Equal(t, noon, evening, "final from noon")
}

func TestAFailedDay(t *testing.T) {
	e := newEnv(t, nil)
	e.at(t, dataDay)
	ctx := context.Background()
	appID, tok, _ := e.withData(t, time.Date(2025, 12, 1, 0, 0, 0, 0, cst))
	e.sim.FailDay(appID, "2026-01-10", -202)
	e.sim.FailDay(testAppID, "2026-01-11", 1737)

	inRange := wechat.StatQuery{Page: 1, PageSize: 10, StartDate: "2026-01-05", EndDate: "2026-01-12"}
	_, err := e.client.GetAdposGeneral(ctx, tok, inRange)
	requireCode(t, err, -202, "base_resp")
	_, err = e.client.GetAdUnitGeneral(ctx, tok, inRange)
	requireCode(t, err, -202, "base_resp")
	_, err = e.client.GetSettlement(ctx, tok, "2026-01-01", "2026-01-15", 1, 10)
	requireCode(t, err, -202, "base_resp")
	_, err = e.client.GetAdposGeneral(ctx, tok, wechat.StatQuery{Page: 1, PageSize: 10, StartDate: "2026-01-11", EndDate: "2026-01-12"})
	require.NoError(t, err, "the provider's failed day is not the account's")

	_, err = e.client.GetAgencyAdsStat(ctx, e.ctok, inRange)
	requireCode(t, err, 1737, "ret")
	_, err = e.client.GetAgencyAdsDetail(ctx, e.ctok, inRange)
	requireCode(t, err, 1737, "ret")
	_, err = e.client.GetAgencySettledRevenue(ctx, e.ctok, "2026-01-01", "2026-01-15", 1, 10)
	requireCode(t, err, 1737, "ret")

	e.sim.FailDay("", "2026-01-01", -202)
	_, err = e.client.GetAgencyAdsStat(ctx, e.ctok, wechat.StatQuery{Page: 1, PageSize: 10, StartDate: "2026-01-01", EndDate: "2026-01-01"})
	requireCode(t, err, -202, "ret")
	e.sim.FailDay("", "2026-01-01", 0)
	_, err = e.client.GetAgencyAdsStat(ctx, e.ctok, wechat.StatQuery{Page: 1, PageSize: 10, StartDate: "2026-01-01", EndDate: "2026-01-01"})
	require.NoError(t, err)
}

func TestSettlementIntervalsAndTotals(t *testing.T) {
	e := newEnv(t, nil)
	e.at(t, dataDay)
	ctx := context.Background()
	appID, tok, _ := e.withData(t, time.Date(2025, 10, 1, 0, 0, 0, 0, cst))
	const start, end = "2025-10-01", "2026-01-19"
	var items []wechat.SettlementItem
	var first wechat.Settlement
	for page := 1; ; page++ {
		s, err := e.client.GetSettlement(ctx, tok, start, end, page, 3)
		require.NoError(t, err)
		if page == 1 {
			first = s
		}
		items = append(items, s.List...)
		if len(items) >= int(s.TotalNum) {
			break
		}
	}
	want := e.sim.SettlementTotals(appID, start, end)
	assert.Equal(t, 8, want.Intervals, "Oct to Jan, two halves each; Jan's second half has begun")
	require.Len(t, items, 8)
	assert.Equal(t, want.Revenue, int64(first.RevenueAll))
	assert.Equal(t, want.Penalty, int64(first.PenaltyAll))
	assert.Equal(t, want.Settled, int64(first.SettledRevenueAll))
	var settled int64
	statuses := map[wechat.Int]bool{}
	for _, it := range items {
		var slots int64
		for _, s := range it.SlotRevenue {
			slots += int64(s.SlotSettledRevenue)
		}
		assert.Equal(t, int64(it.SettledRevenue), slots, "slots add up to the interval")
		settled += int64(it.SettledRevenue)
		statuses[it.SettStatus] = true
	}
	assert.Equal(t, want.Settled, settled)
	assert.Equal(t, wechat.Text("202601"), items[0].Month, "newest first")
	assert.Equal(t, wechat.Int(2), items[0].Order)
	assert.Equal(t, wechat.Int(wechat.SettSettling), items[0].SettStatus)
	assert.Equal(t, wechat.Int(wechat.SettPaid), items[7].SettStatus)
	assert.Equal(t, wechat.Int(1), items[7].MailSendCnt)
	assert.NotEmpty(t, items[7].SettNo)
	for _, s := range []int{wechat.SettSettling, wechat.SettSettled, wechat.SettPaying, wechat.SettPaid} {
		assert.True(t, statuses[wechat.Int(s)], "status %d", s)
	}

	// A whole month's settlement is the Mini Program's income that month.
	dec := e.sim.SettlementTotals(appID, "2025-12-01", "2025-12-31")
	assert.Equal(t, e.sim.SlotTotals(appID, "2025-12-01", "2025-12-31", "").PublisherIncome, dec.Revenue)

	// One interval moves from settling to paid.
	for _, step := range []struct {
		day    time.Time
		status int
	}{
		{time.Date(2026, 1, 10, 12, 0, 0, 0, cst), wechat.SettSettling},
		{time.Date(2026, 1, 18, 12, 0, 0, 0, cst), wechat.SettSettled},
		{time.Date(2026, 1, 23, 12, 0, 0, 0, cst), wechat.SettSettled3},
		{time.Date(2026, 2, 1, 12, 0, 0, 0, cst), wechat.SettPaying},
		{time.Date(2026, 2, 10, 12, 0, 0, 0, cst), wechat.SettPaid},
	} {
		e.at(t, step.day)
		s, err := e.client.GetSettlement(ctx, e.token(t, appID), "2026-01-01", "2026-01-15", 1, 10)
		require.NoError(t, err)
		require.Len(t, s.List, 1)
		assert.Equal(t, wechat.Int(step.status), s.List[0].SettStatus, step.day)
	}

	// The provider's own settlement is its share of every account.
	e.at(t, dataDay)
	prov, err := e.client.GetAgencySettledRevenue(ctx, e.ctok, start, end, 1, 20)
	require.NoError(t, err)
	pw := e.sim.SettlementTotals(testAppID, start, end)
	assert.Equal(t, pw.Settled, int64(prov.SettledRevenueAll))
	assert.Equal(t, pw.Revenue, int64(prov.RevenueAll))
	agency := e.sim.ProviderTotals("2025-12-01", "2025-12-31", "").AgencyIncome
	assert.Equal(t, agency, e.sim.SettlementTotals(testAppID, "2025-12-01", "2025-12-31").Revenue)
}

// TestEveryShapeReadsTheSame answers each read action in every documented
// shape and spelling, and requires the client to read the same thing.
func TestEveryShapeReadsTheSame(t *testing.T) {
	e := newEnv(t, nil)
	e.at(t, dataDay)
	ctx := context.Background()
	appID, tok, _ := e.withData(t, time.Date(2025, 12, 1, 0, 0, 0, 0, cst))
	_, err := e.client.CreateAdUnit(ctx, tok, wechat.NewAdUnit{Name: "own", Slot: wechat.SlotTemplate, TmplID: "1000002"})
	require.NoError(t, err)
	require.NoError(t, e.client.SetBlackList(ctx, tok, true, []wechat.BlockEntry{{Type: wechat.BlockIOSApp, ID: "414478124"}}))
	require.NoError(t, e.client.SetCustomShareRatio(ctx, e.ctok, appID, 20))
	week := wechat.StatQuery{Page: 1, PageSize: 100, StartDate: "2026-01-13", EndDate: "2026-01-19"}
	oneDay := wechat.StatQuery{Page: 1, PageSize: 100, StartDate: "2026-01-19", EndDate: "2026-01-19"}
	reads := map[string]func() (any, error){
		wechat.ActionGetAdUnitList: func() (any, error) { return e.client.AllAdUnits(ctx, tok, "") },
		wechat.ActionGetAgencyAdUnitList: func() (any, error) {
			return e.client.GetAgencyAdUnitList(ctx, tok, wechat.CustomTemplateQuery{Page: 1, PageSize: 10, AdSlot: wechat.SlotTemplate, WithBindList: true})
		},
		wechat.ActionGetCoverAdposStatus:     func() (any, error) { return e.client.GetCoverAdposStatus(ctx, tok) },
		wechat.ActionGetCoverAdposScene:      func() (any, error) { return e.client.GetCoverAdposScene(ctx, tok) },
		wechat.ActionGetBlackList:            func() (any, error) { return e.client.GetBlackList(ctx, tok) },
		wechat.ActionGetAmsCategoryBlacklist: func() (any, error) { return e.client.GetAmsCategoryBlacklist(ctx, tok) },
		wechat.ActionGetAdposGeneral:         func() (any, error) { return e.client.GetAdposGeneral(ctx, tok, week) },
		wechat.ActionGetAdUnitGeneral:        func() (any, error) { return e.client.GetAdUnitGeneral(ctx, tok, oneDay) },
		wechat.ActionGetSettlement: func() (any, error) {
			return e.client.GetSettlement(ctx, tok, "2025-12-01", "2026-01-19", 1, 10)
		},
		wechat.ActionGetShareRatio: func() (any, error) { return e.client.GetShareRatio(ctx, e.ctok, appID) },
		wechat.ActionGetCustomShareRatio: func() (any, error) {
			r, set, err := e.client.GetCustomShareRatio(ctx, e.ctok, appID)
			return []any{r, set}, err
		},
		wechat.ActionGetAgencyAdsStat:   func() (any, error) { return e.client.GetAgencyAdsStat(ctx, e.ctok, week) },
		wechat.ActionGetAgencyAdsDetail: func() (any, error) { return e.client.GetAgencyAdsDetail(ctx, e.ctok, oneDay) },
		wechat.ActionGetAgencySettledRevenue: func() (any, error) {
			return e.client.GetAgencySettledRevenue(ctx, e.ctok, "2025-12-01", "2026-01-19", 1, 10)
		},
	}
	dialects := []wechatsim.Dialect{
		{Shape: "ret"}, {Shape: "base_resp"}, {Shape: "errcode"}, {Shape: "bare"},
		{NumbersAsStrings: true}, {ObjectsForSingletons: true}, {AltSpelling: true}, {TemplateIDsAsNumbers: true},
		{Shape: "base_resp", NumbersAsStrings: true, ObjectsForSingletons: true, AltSpelling: true, TemplateIDsAsNumbers: true},
	}
	for action, read := range reads {
		base, err := read()
		require.NoError(t, err, action)
		for _, d := range dialects {
			e.sim.SetDialect(action, d)
			got, err := read()
			require.NoError(t, err, "%s %+v", action, d)
			assert.Equal(t, base, got, "%s %+v", action, d)
		}
		e.sim.SetDialect(action, wechatsim.Dialect{})
	}

	// Failures in each shape carry their code.
	for _, shape := range []string{"ret", "base_resp", "errcode", "bare"} {
		e.sim.SetDialect(wechat.ActionGetAdposGeneral, wechatsim.Dialect{Shape: shape})
		e.sim.FailDay(appID, "2026-01-19", 1737)
		_, err := e.client.GetAdposGeneral(ctx, tok, week)
		wantShape := shape
		if shape == "bare" {
			wantShape = "ret"
		}
		requireCode(t, err, 1737, wantShape)
	}
	e.sim.Script(appID, wechat.ActionGetBlackList, wechatsim.Behavior{Ret: 1735, Shape: "base_resp", Times: 1})
	_, err = e.client.GetBlackList(ctx, tok)
	requireCode(t, err, 1735, "base_resp")
}

func TestSimulatedDataIsDeterministic(t *testing.T) {
	totals := func() (wechatsim.AdTotals, wechatsim.SettlementTotals) {
		e := newEnv(t, nil)
		e.at(t, dataDay)
		e.sim.AddAuthorizer(wechatsim.Authorizer{AppID: "wxfixedappid00001", MiniProgram: true})
		e.sim.MarkOpened("wxfixedappid00001", time.Date(2025, 1, 1, 0, 0, 0, 0, cst))
		return e.sim.SlotTotals("wxfixedappid00001", "2025-06-01", "2025-12-31", ""), e.sim.SettlementTotals("wxfixedappid00001", "2025-06-01", "2025-12-31")
	}
	a1, s1 := totals()
	a2, s2 := totals()
	require.Positive(t, a1.Income)
	require.Positive(t, s1.Revenue)
	assert.Equal(t, a1, a2)
	assert.Equal(t, s1, s2)
}
