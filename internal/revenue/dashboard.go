package revenue

import (
	"context"
	"slices"
	"time"
)

// Period is a named range compared with the one before it.
type Period struct {
	// Key names the period: yesterday, last7, last30, mtd.
	Key               string
	From, To          time.Time
	PrevFrom, PrevTo  time.Time
	Current, Previous Figures
	// Unpublished is set when WeChat had not yet published the period's last
	// day at the latest pull (it publishes yesterday's figures during the
	// day): the period is incomplete, and its change would mislead.
	Unpublished bool
}

// Change is the current income against the previous period's, in percent;
// ok is false when the previous period earned nothing.
func (p Period) Change() (pct float64, ok bool) {
	if p.Previous.Income == 0 || p.Unpublished {
		return 0, false
	}
	return float64(p.Current.Income-p.Previous.Income) * 100 / float64(p.Previous.Income), true
}

// Dashboard is what the revenue page shows.
type Dashboard struct {
	// Yesterday is the last day WeChat has figures for.
	Yesterday time.Time
	Periods   []Period
	// From and To are the chosen range, with its totals, days and slots.
	From, To time.Time
	Totals   Figures
	Days     []ProviderDay
	Slots    []SlotDay
	Top      []AccountFigures
	// Movers changed most against the range of equal length before it.
	Movers           []Mover
	PrevFrom, PrevTo time.Time
	// Filter is what the figures are narrowed to (filter.go); SplitUnknown
	// is set for narrowed figures, whose split WeChat does not report.
	Filter       Filter
	SplitUnknown bool
}

// Periods returns yesterday, the last 7 and 30 days and the month to date,
// each with the period of equal length before it (for the month, the same
// days of the previous month), as of today (a Beijing day).
func Periods(today time.Time) []Period {
	y := today.AddDate(0, 0, -1)
	last := func(key string, n int) Period {
		from := y.AddDate(0, 0, 1-n)
		return Period{Key: key, From: from, To: y, PrevFrom: from.AddDate(0, 0, -n), PrevTo: from.AddDate(0, 0, -1)}
	}
	first := time.Date(y.Year(), y.Month(), 1, 0, 0, 0, 0, China)
	prevFirst := first.AddDate(0, -1, 0)
	prevTo := prevFirst.AddDate(0, 0, y.Day()-1)
	if end := first.AddDate(0, 0, -1); prevTo.After(end) {
		prevTo = end
	}
	return []Period{
		last("yesterday", 1), last("last7", 7), last("last30", 30),
		{Key: "mtd", From: first, To: y, PrevFrom: prevFirst, PrevTo: prevTo},
	}
}

// PreviousRange is the range of equal length just before [from, to], the
// one the dashboard's movers are measured against.
func PreviousRange(from, to time.Time) (time.Time, time.Time) {
	days := int(to.Sub(from).Hours()/24) + 1
	return from.AddDate(0, 0, -days), from.AddDate(0, 0, -1)
}

// RankRange is a range whose top accounts and movers (against PrevFrom to
// PrevTo) are kept precomputed.
type RankRange struct {
	From, To, PrevFrom, PrevTo time.Time
}

// RankRanges are the dashboard's fixed periods as of today, as the ranges
// the page ranks over (each against the range of equal length before it),
// without repeats (on the 1st the month to date is yesterday).
func RankRanges(today time.Time) []RankRange {
	var out []RankRange
	for _, p := range Periods(today) {
		r := RankRange{From: p.From, To: p.To}
		r.PrevFrom, r.PrevTo = PreviousRange(p.From, p.To)
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// TopLimit is how many Mini Programs the dashboard ranks.
const TopLimit = 10

// Dashboard reads the figures for the page: the four periods, and the range
// [from, to] (zero: the last 30 days) with its days, slots and top accounts.
func (s *Service) Dashboard(ctx context.Context, from, to time.Time) (*Dashboard, error) {
	today := Day(s.now())
	d := &Dashboard{Yesterday: today.AddDate(0, 0, -1)}
	latest, err := s.Store.LatestProviderDay(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range Periods(today) {
		p.Unpublished = latest.Before(p.To)
		if p.Current, err = s.Store.ProviderTotals(ctx, p.From, p.To); err != nil {
			return nil, err
		}
		if p.Previous, err = s.Store.ProviderTotals(ctx, p.PrevFrom, p.PrevTo); err != nil {
			return nil, err
		}
		d.Periods = append(d.Periods, p)
	}
	d.From, d.To = ClampRange(from, to, today)
	if d.Totals, err = s.Store.ProviderTotals(ctx, d.From, d.To); err != nil {
		return nil, err
	}
	if d.Days, err = s.Store.ProviderDays(ctx, d.From, d.To); err != nil {
		return nil, err
	}
	if d.Slots, err = s.Store.SlotDays(ctx, d.From, d.To); err != nil {
		return nil, err
	}
	if d.Top, err = s.Store.TopAccounts(ctx, d.From, d.To, TopLimit); err != nil {
		return nil, err
	}
	d.PrevFrom, d.PrevTo = PreviousRange(d.From, d.To)
	if d.Movers, err = s.Store.Movers(ctx, d.From, d.To, d.PrevFrom, d.PrevTo, TopLimit); err != nil {
		return nil, err
	}
	return d, nil
}

// MaxRangeDays bounds a range shown or exported at once.
const MaxRangeDays = 366

// ClampRange fills a missing range with the last 30 days before today and
// keeps it within yesterday and MaxRangeDays.
func ClampRange(from, to, today time.Time) (time.Time, time.Time) {
	y := today.AddDate(0, 0, -1)
	if to.IsZero() || to.After(y) {
		to = y
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -29)
	}
	if from.After(to) {
		from = to
	}
	if min := to.AddDate(0, 0, 1-MaxRangeDays); from.Before(min) {
		from = min
	}
	return Day(from), Day(to)
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// AccountRevenue is one Mini Program's figures over the last 30 days per
// slot, or why WeChat refuses its data.
type AccountRevenue struct {
	Blocked  *Blocked
	From, To time.Time
	Totals   Figures
	Slots    []SlotDay // one per slot, summed over the days
	// Units are its ad units, summed over the days, most income first.
	Units []UnitFigures
}

// Account reads appID's revenue for its page.
func (s *Service) Account(ctx context.Context, appID string) (*AccountRevenue, error) {
	today := Day(s.now())
	r := &AccountRevenue{To: today.AddDate(0, 0, -1)}
	r.From = r.To.AddDate(0, 0, -29)
	var err error
	if r.Blocked, err = s.Store.AccountBlocked(ctx, appID); err != nil {
		return nil, err
	}
	if r.Slots, err = s.Store.AccountSlots(ctx, appID, r.From, r.To); err != nil {
		return nil, err
	}
	if r.Units, err = s.Store.AccountUnits(ctx, appID, r.From, r.To); err != nil {
		return nil, err
	}
	for _, sl := range r.Slots {
		r.Totals.ReqSucc += sl.ReqSucc
		r.Totals.Exposure += sl.Exposure
		r.Totals.Clicks += sl.Clicks
		r.Totals.Income += sl.Income
		r.Totals.PublisherIncome += sl.PublisherIncome
	}
	return r, nil
}
