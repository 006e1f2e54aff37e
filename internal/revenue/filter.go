package revenue

import (
	"context"
	"time"
)

// Filter narrows the dashboard to one slot and to the Mini Programs of a
// principal (any part of its name) and a traffic-master state. The zero
// Filter is every slot of every Mini Program.
type Filter struct {
	Slot, Principal, State string
}

// IsZero reports whether the filter selects everything.
func (f Filter) IsZero() bool { return f == Filter{} }

// FilterStore reads the per-account figures a filter can cut;
// internal/postgres implements it. They come from the slots, which carry the
// Mini Programs' own income only: WeChat reports the split between provider
// and merchants for all accounts together, and per ad unit, which leaves out
// the cover slot (it has no unit), so a narrowed split would be short.
type FilterStore interface {
	// FilteredDays sums the selected accounts per day over [from, to], oldest first.
	FilteredDays(ctx context.Context, f Filter, from, to time.Time) ([]ProviderDay, error)
	// FilteredSlotDays sums the selected accounts per day per slot.
	FilteredSlotDays(ctx context.Context, f Filter, from, to time.Time) ([]SlotDay, error)
	// FilteredRanks lists the selected accounts with the most income over
	// [from, to], and those whose income changed most against [prevFrom,
	// prevTo].
	FilteredRanks(ctx context.Context, f Filter, from, to, prevFrom, prevTo time.Time, limit int) ([]AccountFigures, []Mover, error)
}

// sumDays adds up the days within [from, to].
func sumDays(days []ProviderDay, from, to time.Time) Figures {
	var t Figures
	for _, d := range days {
		if d.Day.Before(from) || d.Day.After(to) {
			continue
		}
		t.ReqSucc += d.ReqSucc
		t.Exposure += d.Exposure
		t.Clicks += d.Clicks
		t.Income += d.Income
		t.PublisherIncome += d.PublisherIncome
		t.AgencyIncome += d.AgencyIncome
	}
	return t
}

// DashboardFor is Dashboard narrowed by f: the same periods, range, chart,
// top and movers, over the selected Mini Programs and slot, in the Mini
// Programs' own income; the split is unknown (SplitUnknown, see FilterStore).
func (s *Service) DashboardFor(ctx context.Context, from, to time.Time, f Filter) (*Dashboard, error) {
	if f.IsZero() {
		return s.Dashboard(ctx, from, to)
	}
	fs := s.Store
	today := Day(s.now())
	d := &Dashboard{Yesterday: today.AddDate(0, 0, -1), Filter: f, SplitUnknown: true}
	latest, err := s.Store.LatestProviderDay(ctx)
	if err != nil {
		return nil, err
	}
	periods := Periods(today)
	earliest := d.Yesterday
	for _, p := range periods {
		if p.PrevFrom.Before(earliest) {
			earliest = p.PrevFrom
		}
	}
	// One read covers every period and the one before it.
	span, err := fs.FilteredDays(ctx, f, earliest, d.Yesterday)
	if err != nil {
		return nil, err
	}
	for _, p := range periods {
		p.Unpublished = latest.Before(p.To)
		p.Current, p.Previous = sumDays(span, p.From, p.To), sumDays(span, p.PrevFrom, p.PrevTo)
		d.Periods = append(d.Periods, p)
	}
	d.From, d.To = ClampRange(from, to, today)
	if d.Days, err = fs.FilteredDays(ctx, f, d.From, d.To); err != nil {
		return nil, err
	}
	d.Totals = sumDays(d.Days, d.From, d.To)
	if d.Slots, err = fs.FilteredSlotDays(ctx, f, d.From, d.To); err != nil {
		return nil, err
	}
	days := int(d.To.Sub(d.From).Hours()/24) + 1
	d.PrevFrom, d.PrevTo = d.From.AddDate(0, 0, -days), d.From.AddDate(0, 0, -1)
	if d.Top, d.Movers, err = fs.FilteredRanks(ctx, f, d.From, d.To, d.PrevFrom, d.PrevTo, TopLimit); err != nil {
		return nil, err
	}
	return d, nil
}
