package views

import (
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// slotLabels name WeChat's ad slots for staff (English keys, translated).
var slotLabels = map[string]string{
	wechat.SlotBanner:       "Banner",
	wechat.SlotRewardVideo:  "Rewarded video",
	wechat.SlotInterstitial: "Interstitial",
	wechat.SlotVideoFeeds:   "Video feed",
	wechat.SlotVideoBegin:   "Pre-roll video",
	wechat.SlotBox:          "Grid",
	wechat.SlotTemplate:     "Native template",
	wechat.SlotCover:        "Cover",
}

// SlotLabel is the English name of a slot (its key when unknown).
func SlotLabel(slot string) string {
	if l, ok := slotLabels[slot]; ok {
		return l
	}
	return slot
}

// RevenueVM is the revenue dashboard's view model.
type RevenueVM struct {
	Base
	D *revenue.Dashboard
	// Slots are the slots with figures in the range, in WeChat's order.
	Slots []string
	// PerDay is each day's income per slot, for the table beside the chart.
	PerDay []RevenueDayRow
	// SlotTotals are each slot's figures over the range.
	SlotTotals map[string]revenue.Figures
	// SlotChart and SplitChart are the charts' data, read by static/revenue.js.
	SlotChart, SplitChart string
}

// RevenueDayRow is one day of the per-slot table.
type RevenueDayRow struct {
	Day    time.Time
	BySlot map[string]wechat.Fen
	Total  wechat.Fen
}

type chartSeries struct {
	Name string    `json:"name"`
	Data []float64 `json:"data"`
}

type chartData struct {
	Days   []string      `json:"days"`
	Series []chartSeries `json:"series"`
	Unit   string        `json:"unit"`
}

func yuanFloat(f wechat.Fen) float64 { return float64(f) / 100 }

// NewRevenueVM arranges the dashboard for the page and its charts.
func NewRevenueVM(b Base, d *revenue.Dashboard) RevenueVM {
	vm := RevenueVM{Base: b, D: d, SlotTotals: map[string]revenue.Figures{}}
	byDay := map[time.Time]*RevenueDayRow{}
	var days []time.Time
	for day := d.From; !day.After(d.To); day = day.AddDate(0, 0, 1) {
		days = append(days, day)
		row := &RevenueDayRow{Day: day, BySlot: map[string]wechat.Fen{}}
		byDay[day] = row
	}
	for _, r := range d.Slots {
		t := vm.SlotTotals[r.Slot]
		t.ReqSucc += r.ReqSucc
		t.Exposure += r.Exposure
		t.Clicks += r.Clicks
		t.Income += r.Income
		vm.SlotTotals[r.Slot] = t
		if row := byDay[r.Day]; row != nil {
			row.BySlot[r.Slot] += r.Income
			row.Total += r.Income
		}
	}
	for _, sl := range wechat.Slots() {
		if _, ok := vm.SlotTotals[sl]; ok {
			vm.Slots = append(vm.Slots, sl)
		}
	}
	labels := make([]string, len(days))
	for i, day := range days {
		labels[i] = day.Format("01-02")
		vm.PerDay = append(vm.PerDay, *byDay[day])
	}
	slotChart := chartData{Days: labels, Unit: b.T("yuan")}
	for _, sl := range vm.Slots {
		s := chartSeries{Name: b.T(SlotLabel(sl))}
		for _, day := range days {
			s.Data = append(s.Data, yuanFloat(byDay[day].BySlot[sl]))
		}
		slotChart.Series = append(slotChart.Series, s)
	}
	vm.SlotChart = mustJSON(slotChart)
	split := chartData{Days: labels, Unit: b.T("yuan")}
	prov, merch := chartSeries{Name: b.T("Provider's share")}, chartSeries{Name: b.T("Merchants' share")}
	perDay := map[time.Time]revenue.ProviderDay{}
	for _, p := range d.Days {
		perDay[p.Day] = p
	}
	for _, day := range days {
		prov.Data = append(prov.Data, yuanFloat(perDay[day].AgencyIncome))
		merch.Data = append(merch.Data, yuanFloat(perDay[day].PublisherIncome))
	}
	split.Series = []chartSeries{prov, merch}
	vm.SplitChart = mustJSON(split)
	return vm
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain strings and numbers always marshal
	}
	return string(b)
}

// PeriodLabel names a dashboard period.
func PeriodLabel(key string) string {
	switch key {
	case "yesterday":
		return "Yesterday"
	case "last7":
		return "Last 7 days"
	case "last30":
		return "Last 30 days"
	}
	return "Month to date"
}

// ChangeText is a period's change against the one before, e.g. "+12.5%".
func ChangeText(p revenue.Period) string {
	pct, ok := p.Change()
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%+.1f%%", pct)
}

// ChangeClass colours a change.
func ChangeClass(p revenue.Period) string {
	pct, ok := p.Change()
	switch {
	case !ok || pct == 0:
		return "change"
	case pct > 0:
		return "change up"
	}
	return "change down"
}

// ECPMYuan is an eCPM in yuan per thousand exposures with two decimals.
func ECPMYuan(f revenue.Figures) string {
	return fmt.Sprintf("%.2f", f.ECPM()/100)
}

// DayText formats a Beijing day.
func DayText(t time.Time) string { return t.Format(time.DateOnly) }

// Count formats a count with thousands separators.
func Count(n int64) string {
	s := fmt.Sprint(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := ""
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out += ","
		}
		out += string(r)
	}
	if neg {
		return "-" + out
	}
	return out
}

// nameOr is the account's name, or its appid when it has none.
func nameOr(b Base, a revenue.AccountFigures) string {
	if a.Name != "" {
		return a.Name
	}
	return a.AppID
}

func pullKindLabel(kind string) string {
	if kind == "daily" {
		return "Daily"
	}
	return "Backfill"
}

// pullJobState maps a pull's state onto the queue's, for its badge.
func pullJobState(state string) string {
	switch state {
	case "done":
		return "completed"
	case "failed":
		return "discarded"
	case "queued":
		return "available"
	}
	return "running"
}

func pullStateLabel(state string) string {
	switch state {
	case "done":
		return "Completed"
	case "failed":
		return "Failed"
	case "queued":
		return "Waiting"
	}
	return "Running"
}

// BlockedSentence says why an account's ad data is missing; %d is WeChat's code.
func BlockedSentence(code int) string {
	if code == 1735 {
		return "WeChat refuses this Mini Program's ad data (%d): the merchant has not signed the agency agreement. Its revenue is unknown, not zero."
	}
	return "WeChat refuses this Mini Program's ad data (%d): its traffic master is not open. Its revenue is unknown, not zero."
}

// SettlementVM lists settlement intervals with their totals.
type SettlementVM struct {
	Base
	AppID    string
	Provider bool
	Rows     []revenue.Interval
	// Slots are the slots any interval has, in WeChat's order.
	Slots []string
	// Settled sums every interval; Paid those paid, Pending the rest.
	Settled, Paid, Pending wechat.Fen
	// RevenueAll, PenaltyAll and SettledAll sum WeChat's own totals of the
	// intervals (revenue_all, penalty_all, settled_revenue_all); Unreported
	// counts the intervals whose totals are unknown.
	RevenueAll, PenaltyAll, SettledAll wechat.Fen
	Unreported                         int
	// SlotTotals sums each slot over the intervals; SlotsSum every slot.
	SlotTotals map[string]wechat.Fen
	SlotsSum   wechat.Fen
}

// NewSettlementVM sums the intervals for the page.
func NewSettlementVM(b Base, appID string, provider bool, rows []revenue.Interval) SettlementVM {
	vm := SettlementVM{Base: b, AppID: appID, Provider: provider, Rows: rows, SlotTotals: map[string]wechat.Fen{}}
	seen := map[string]bool{}
	for _, r := range rows {
		if r.Reported {
			vm.RevenueAll += r.Revenue
			vm.PenaltyAll += r.Penalty
			vm.SettledAll += r.ReportedSettled
		} else {
			vm.Unreported++
		}
		for sl, v := range r.Slots {
			vm.SlotTotals[sl] += v
			vm.SlotsSum += v
		}
		vm.Settled += r.SettledRevenue
		if r.Status == wechat.SettPaid {
			vm.Paid += r.SettledRevenue
		} else {
			vm.Pending += r.SettledRevenue
		}
		for sl := range r.Slots {
			seen[sl] = true
		}
	}
	for _, sl := range wechat.Slots() {
		if seen[sl] {
			vm.Slots = append(vm.Slots, sl)
		}
	}
	return vm
}

// IntervalLabel names a half month, e.g. "2026-11, 1–15".
func IntervalLabel(b Base, iv revenue.Interval) string {
	m := iv.Month
	if len(m) == 6 {
		m = m[:4] + "-" + m[4:]
	}
	if iv.Half == 1 {
		return b.T("%s, first half", m)
	}
	return b.T("%s, second half", m)
}

// SettStatusLabel names a settlement status.
func SettStatusLabel(status int) string {
	switch status {
	case wechat.SettSettling:
		return "Settling"
	case wechat.SettSettled, wechat.SettSettled3:
		return "Settled"
	case wechat.SettPaying:
		return "Paying"
	case wechat.SettPaid:
		return "Paid"
	}
	return "Unknown"
}

func settBadge(status int) string {
	switch status {
	case wechat.SettPaid:
		return "badge ok"
	case wechat.SettSettling:
		return "badge info"
	}
	return "badge warn"
}

func mpAppID(vm SettlementVM) string {
	if vm.Provider {
		return ""
	}
	return vm.AppID
}

func moverName(m revenue.Mover) string {
	if m.Name != "" {
		return m.Name
	}
	return m.AppID
}

// deltaText is a change in yuan with its sign.
func deltaText(m revenue.Mover) string {
	if d := m.Delta(); d > 0 {
		return "+" + d.Yuan()
	}
	return m.Delta().Yuan()
}

func deltaClass(m revenue.Mover) string {
	if m.Delta() > 0 {
		return "change up"
	}
	return "change down"
}

// reportedYuan is one of WeChat's totals of an interval, "—" when unknown.
func reportedYuan(iv revenue.Interval, f wechat.Fen) string {
	if !iv.Reported {
		return "—"
	}
	return f.Yuan()
}

// settlementCSV is the page's CSV export.
func settlementCSV(vm SettlementVM) string {
	if vm.Provider {
		return "/revenue/settlement.csv"
	}
	return "/revenue/settlement.csv?appid=" + url.QueryEscape(vm.AppID)
}

// unitName is an ad unit's name, or its id when it has none.
func unitName(u revenue.UnitFigures) string {
	if u.Name != "" {
		return u.Name
	}
	return u.AdUnitID
}

// Query is the dashboard's range and filters as a URL query, carried into
// its CSV link.
func (vm RevenueVM) Query() string {
	v := url.Values{"from": {DayText(vm.D.From)}, "to": {DayText(vm.D.To)}}
	for k, s := range map[string]string{"slot": vm.D.Filter.Slot, "principal": vm.D.Filter.Principal, "state": vm.D.Filter.State} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}
