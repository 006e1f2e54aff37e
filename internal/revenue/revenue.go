// Package revenue is what the traffic master earns: WeChat's ad data and
// settlement, pulled once a day into the console's own store and summed for
// the pages. Money is integer fen (wechat.Fen) from WeChat to the page.
package revenue

import (
	"context"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// China is the zone of every date WeChat's ad data speaks of: a "day" of
// figures is a Beijing calendar day whatever zone the console shows times in.
var China = time.FixedZone("CST", 8*3600)

// Day returns t's Beijing calendar day, at midnight in China.
func Day(t time.Time) time.Time {
	t = t.In(China)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, China)
}

// ParseDay reads a yyyy-mm-dd day.
func ParseDay(s string) (time.Time, error) {
	return time.ParseInLocation(time.DateOnly, s, China)
}

// Figures are counts and money over some accounts and days. PublisherIncome
// is the merchants' share, AgencyIncome the provider's; Income is both.
type Figures struct {
	ReqSucc, Exposure, Clicks             int64
	Income, PublisherIncome, AgencyIncome wechat.Fen
}

// Add adds o's figures to f's.
func (f *Figures) Add(o Figures) {
	f.ReqSucc += o.ReqSucc
	f.Exposure += o.Exposure
	f.Clicks += o.Clicks
	f.Income += o.Income
	f.PublisherIncome += o.PublisherIncome
	f.AgencyIncome += o.AgencyIncome
}

// ECPM is the income per thousand exposures, in fen (a display figure).
func (f Figures) ECPM() float64 {
	if f.Exposure == 0 {
		return 0
	}
	return float64(f.Income) * 1000 / float64(f.Exposure)
}

// SlotDay is one slot on one day, of one account or of all together.
// Income here is the Mini Programs' own income, the only money
// agency_get_adpos_genenral reports.
type SlotDay struct {
	Day  time.Time
	Slot string
	Figures
}

// ProviderDay is every Mini Program together on one day, with the split
// between provider and merchants (get_agency_ads_stat).
type ProviderDay struct {
	Day time.Time
	Figures
}

// AccountFigures is one Mini Program's figures over a range.
type AccountFigures struct {
	AppID, Name string
	Figures
}

// Mover is a Mini Program's income in a range and in the range before it.
type Mover struct {
	AppID, Name      string
	Income, Previous wechat.Fen
}

// Delta is the change in income.
func (m Mover) Delta() wechat.Fen { return m.Income - m.Previous }

// Interval is one half-month settlement interval; AppID is the component
// appid for the provider's own.
type Interval struct {
	AppID          string
	Month          string // yyyyMM
	Half           int    // 1 first half, 2 second half
	Status         int    // wechat.SettSettling … wechat.SettPaid
	SettledRevenue wechat.Fen
	SettNo         string
	Slots          map[string]wechat.Fen
	// Reported is set when WeChat's own totals of the interval are known:
	// Revenue and Penalty (its revenue_all and penalty_all asked for alone)
	// and ReportedSettled (settled_revenue_all).
	Reported                          bool
	Revenue, Penalty, ReportedSettled wechat.Fen
}

// Blocked is an account whose data calls WeChat refuses for a reason staff
// must act on (1735, 1807, 2009).
type Blocked struct {
	AppID     string
	Code      int
	Message   string
	CheckedAt time.Time
}

// BlockingCodes are the data-call refusals that mean "no data until someone
// acts", not "no ads ran": 1735 agreement unsigned, 1807/2009 not open.
var BlockingCodes = map[int]bool{1735: true, 1807: true, 2009: true}

// Pull is one recorded pull of a date range.
type Pull struct {
	ID             int64
	Kind           string // daily or backfill
	From, To, Next time.Time
	State          string // queued, running, done, failed
	Rows           int64
	Errors         int
	LastError      string
	CreatedAt      time.Time
	FinishedAt     *time.Time
	// AccountsDone of AccountsTotal are pulled (stored, refused or given
	// up on), summed over the pull's chunks.
	AccountsDone, AccountsTotal int
}

// DaysTotal and DaysDone give the pull's progress.
func (p Pull) DaysTotal() int { return int(p.To.Sub(p.From).Hours()/24) + 1 }

// DaysDone is how many days of the range are stored.
func (p Pull) DaysDone() int {
	if p.State == "done" {
		return p.DaysTotal()
	}
	return int(p.Next.Sub(p.From).Hours() / 24)
}

// Store keeps the pulled figures and reads them back summed; internal/postgres
// implements it.
type Store interface {
	// MiniPrograms lists the authorized Mini Programs whose data is pulled.
	MiniPrograms(ctx context.Context) ([]string, error)
	// ReplaceAccountDays replaces appID's slot figures for [from, to] with
	// rows (re-pulling never doubles) and rebuilds its daily rollup; the
	// account is no longer blocked.
	ReplaceAccountDays(ctx context.Context, appID string, from, to time.Time, rows []SlotDay) error
	// MarkBlocked records that appID's data calls are refused with code.
	MarkBlocked(ctx context.Context, appID string, code int, message string) error
	// ReplaceProviderDays replaces the provider's daily totals for [from, to].
	ReplaceProviderDays(ctx context.Context, from, to time.Time, days []ProviderDay) error
	// RebuildSlotRollup sums every account's slots per day for [from, to]
	// and every account's days per month for the months [from, to]
	// touches, and, when ranks is not empty, replaces the precomputed top
	// accounts and movers with those of ranks, in the same transaction.
	RebuildSlotRollup(ctx context.Context, from, to time.Time, ranks []RankRange) error
	// ReplaceUnitDay replaces every Mini Program's ad unit figures of day.
	ReplaceUnitDay(ctx context.Context, day time.Time, rows []UnitDay) error
	// SaveSettlement stores appID's intervals, overwriting their status and amounts.
	SaveSettlement(ctx context.Context, appID string, items []Interval) error

	// ProviderTotals sums the provider's daily totals over [from, to].
	ProviderTotals(ctx context.Context, from, to time.Time) (Figures, error)
	// LatestProviderDay is the last day WeChat reported any figures for
	// (zero time when there is none).
	LatestProviderDay(ctx context.Context) (time.Time, error)
	// ProviderDays lists the provider's days in [from, to], oldest first.
	ProviderDays(ctx context.Context, from, to time.Time) ([]ProviderDay, error)
	// SlotDays lists every account's figures per slot per day, oldest first.
	SlotDays(ctx context.Context, from, to time.Time) ([]SlotDay, error)
	// AccountBlocked returns why appID's data is refused, nil when it is not.
	AccountBlocked(ctx context.Context, appID string) (*Blocked, error)
	// AccountSlots sums appID's figures per slot over [from, to].
	AccountSlots(ctx context.Context, appID string, from, to time.Time) ([]SlotDay, error)
	// AccountUnits sums appID's figures per ad unit over [from, to], most income first.
	AccountUnits(ctx context.Context, appID string, from, to time.Time) ([]UnitFigures, error)
	// Movers lists the Mini Programs whose income changed most between
	// [prevFrom, prevTo] and [from, to], up or down.
	Movers(ctx context.Context, from, to, prevFrom, prevTo time.Time, limit int) ([]Mover, error)
	// TopAccounts lists the Mini Programs with the most income over [from, to].
	TopAccounts(ctx context.Context, from, to time.Time, limit int) ([]AccountFigures, error)
	// FilterStore reads the figures the dashboard's filters cut (filter.go).
	FilterStore
}
