package revenue

import (
	"context"
	"strings"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// UnitDay is one ad unit of one Mini Program on one day, with the split
// between provider and merchant (get_agency_ads_detail).
type UnitDay struct {
	Day            time.Time
	AppID          string
	AdUnitID, Name string
	Figures
}

// UnitFigures is one ad unit's figures summed over a range.
type UnitFigures struct {
	AdUnitID, Name string
	Figures
}

// collectUnits stores every Mini Program's figures per ad unit for each day
// of [from, to]. get_agency_ads_detail sums its figures over the dates asked
// for, so it is asked one day at a time (200 units a page, WeChat's most),
// and each day replaces what was stored for it.
func (s *Service) collectUnits(ctx context.Context, from, to time.Time, pace func(context.Context) error) (int64, error) {
	var n int64
	for day := from; !day.After(to); day = day.AddDate(0, 0, 1) {
		date := day.Format(time.DateOnly)
		var rows []UnitDay
		for pg := 1; ; pg++ {
			if err := pace(ctx); err != nil {
				return n, err
			}
			var out wechat.AgencyAdsDetail
			err := s.Tokens.WithComponentToken(ctx, func(tok string) error {
				var err error
				out, err = s.WeChat.GetAgencyAdsDetail(ctx, tok, wechat.StatQuery{Page: pg, PageSize: wechat.MaxAdsDetailPageSize, StartDate: date, EndDate: date})
				return err
			})
			if err != nil {
				return n, s.wrap("ad unit data", err)
			}
			for _, u := range out.List {
				if u.AppID == "" || u.AdUnitID == "" {
					continue
				}
				rows = append(rows, UnitDay{Day: day, AppID: u.AppID, AdUnitID: u.AdUnitID, Name: strings.TrimSpace(u.AdUnitName), Figures: figuresOf(u.Total())})
			}
			if len(out.List) == 0 || pg*wechat.MaxAdsDetailPageSize >= int(out.TotalNum) {
				break
			}
		}
		if err := s.Store.ReplaceUnitDay(ctx, day, rows); err != nil {
			return n, err
		}
		n += int64(len(rows))
	}
	return n, nil
}
