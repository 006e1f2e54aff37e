package postgres

import (
	"context"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/revenue"
)

// stateRollupDays is FilteredDays for a state (and maybe a slot) of every
// principal: the sums of its slot days, day by day (a day has figures when
// any of its slots has).
func (s *RevenueStore) stateRollupDays(ctx context.Context, f revenue.Filter, from, to time.Time) ([]revenue.ProviderDay, error) {
	slots, err := s.stateRollupSlotDays(ctx, f, from, to)
	if err != nil {
		return nil, err
	}
	days := []revenue.ProviderDay{}
	for _, sd := range slots {
		if n := len(days); n == 0 || !days[n-1].Day.Equal(sd.Day) {
			days = append(days, revenue.ProviderDay{Day: sd.Day})
		}
		d := &days[len(days)-1]
		d.ReqSucc += sd.ReqSucc
		d.Exposure += sd.Exposure
		d.Clicks += sd.Clicks
		d.Income += sd.Income
		d.PublisherIncome += sd.PublisherIncome
	}
	return days, nil
}
