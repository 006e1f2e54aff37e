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
	// FilteredSlotDays sums the selected accounts per day per slot over
	// [from, to], oldest first; a day's figures are the sum of its slots.
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
		t.Add(d.Figures)
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
	d.From, d.To = ClampRange(from, to, today)
	// The periods and the range are cut from the slots' days, read once
	// when they overlap or touch (the default range lies within the
	// periods' span).
	slots, err := filteredSlots(ctx, fs, f, earliest, d.Yesterday, d.From, d.To)
	if err != nil {
		return nil, err
	}
	span := daysOf(slots)
	for _, p := range periods {
		p.Unpublished = latest.Before(p.To)
		p.Current, p.Previous = sumDays(span, p.From, p.To), sumDays(span, p.PrevFrom, p.PrevTo)
		d.Periods = append(d.Periods, p)
	}
	d.Slots = slotsWithin(slots, d.From, d.To)
	d.Days = daysOf(d.Slots)
	d.Totals = sumDays(d.Days, d.From, d.To)
	days := int(d.To.Sub(d.From).Hours()/24) + 1
	d.PrevFrom, d.PrevTo = d.From.AddDate(0, 0, -days), d.From.AddDate(0, 0, -1)
	if d.Top, d.Movers, err = fs.FilteredRanks(ctx, f, d.From, d.To, d.PrevFrom, d.PrevTo, TopLimit); err != nil {
		return nil, err
	}
	return d, nil
}

// filteredSlots reads the selected slots' days of [from, to] (ending
// yesterday) and of the range [rFrom, rTo] within it or before it: once,
// over both, when they overlap or touch; twice otherwise, so a range far in
// the past does not read the months between. Oldest first.
func filteredSlots(ctx context.Context, fs FilterStore, f Filter, from, to, rFrom, rTo time.Time) ([]SlotDay, error) {
	if !rTo.Before(from.AddDate(0, 0, -1)) {
		if rFrom.Before(from) {
			from = rFrom
		}
		return fs.FilteredSlotDays(ctx, f, from, to)
	}
	older, err := fs.FilteredSlotDays(ctx, f, rFrom, rTo)
	if err != nil {
		return nil, err
	}
	newer, err := fs.FilteredSlotDays(ctx, f, from, to)
	return append(older, newer...), err
}

// slotsWithin returns the slots' days within [from, to].
func slotsWithin(slots []SlotDay, from, to time.Time) []SlotDay {
	var out []SlotDay
	for _, s := range slots {
		if !s.Day.Before(from) && !s.Day.After(to) {
			out = append(out, s)
		}
	}
	return out
}

// daysOf sums the slots' figures per day; slots are ordered by day.
func daysOf(slots []SlotDay) []ProviderDay {
	var days []ProviderDay
	for _, s := range slots {
		if n := len(days); n == 0 || !days[n-1].Day.Equal(s.Day) {
			days = append(days, ProviderDay{Day: s.Day})
		}
		days[len(days)-1].Add(s.Figures)
	}
	return days
}
