package revenue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// DataClient is the part of the WeChat client a pull calls.
type DataClient interface {
	GetAgencyAdsStat(ctx context.Context, componentToken string, q wechat.StatQuery) (wechat.AgencyAdsStat, error)
	GetAgencyAdsDetail(ctx context.Context, componentToken string, q wechat.StatQuery) (wechat.AgencyAdsDetail, error)
	GetAdposGeneral(ctx context.Context, authorizerAccessToken string, q wechat.StatQuery) (wechat.AdposGeneral, error)
	GetSettlement(ctx context.Context, authorizerAccessToken, startDate, endDate string, page, pageSize int) (wechat.Settlement, error)
	GetAgencySettledRevenue(ctx context.Context, componentToken, startDate, endDate string, page, pageSize int) (wechat.Settlement, error)
}

// Tokens hands out the component token (running a call with it, refreshed
// once when WeChat rejects it) and authorizer tokens, which
// traffic.WithAuthorizerToken refreshes the same way.
type Tokens interface {
	traffic.AuthorizerTokens
	WithComponentToken(ctx context.Context, fn func(token string) error) error
}

// Service pulls WeChat's ad data into the store and reads it back for the pages.
type Service struct {
	Store          Store
	WeChat         DataClient
	Tokens         Tokens
	ComponentAppID string
	Log            *slog.Logger
	// Now replaces the clock.
	Now func() time.Time
}

// pageSize is the page asked of the paged data actions.
const pageSize = 100

// Result summarises one pull of a range.
type Result struct {
	Rows     int64
	Accounts int
	Blocked  int
	Errors   int
	// LastError is the last account error, for the Jobs page.
	LastError string
}

// ErrRetry wraps an error WeChat asks to retry (-202, -1, 1737, transport):
// the caller pulls the same range again later, which replaces whatever part
// was stored.
var ErrRetry = errors.New("revenue: WeChat asked to retry")

func retryable(err error) bool {
	if code, ok := wechat.CodeOf(err); ok {
		switch code {
		case -202, -1, 1737, 45009:
			return true
		}
		return false
	}
	var te *wechat.TransportError
	return errors.As(err, &te)
}

// Collect pulls [from, to]: the provider's daily totals and settlement, then
// each Mini Program's figures per slot and its settlement. pace is called
// before every WeChat call (the global rate limiter). Accounts refused with
// 1735/1807/2009 are marked blocked; an account WeChat asks to retry makes the
// whole range fail with ErrRetry once every other account is stored. The
// queue splits a pull into CollectProvider and CollectAccount calls instead.
func (s *Service) Collect(ctx context.Context, from, to time.Time, pace func(context.Context) error) (Result, error) {
	res, err := s.CollectProvider(ctx, from, to, pace)
	if err != nil {
		return res, err
	}
	ids, err := s.Store.MiniPrograms(ctx)
	if err != nil {
		return res, err
	}
	var retry error
	for _, id := range ids {
		out, err := s.CollectAccount(ctx, id, from, to, pace)
		if err != nil {
			return res, err
		}
		res.Accounts++
		res.Rows += int64(out.Rows)
		switch {
		case out.Blocked:
			res.Blocked++
		case out.Err != nil:
			res.Errors++
			res.LastError = fmt.Sprintf("%s: %v", id, out.Err)
			if out.Retry {
				retry = out.Err
			}
		}
	}
	if err := s.RebuildRollup(ctx, from, to); err != nil {
		return res, err
	}
	if retry != nil {
		return res, fmt.Errorf("%w: %w", ErrRetry, retry)
	}
	return res, nil
}

// CollectProvider pulls the provider's own figures for [from, to]: its
// daily totals, which carry the split between provider and merchants, and
// its settlement. An error WeChat asks to retry wraps ErrRetry.
func (s *Service) CollectProvider(ctx context.Context, from, to time.Time, pace func(context.Context) error) (Result, error) {
	var res Result
	start, end := from.Format(time.DateOnly), to.Format(time.DateOnly)
	var days []ProviderDay
	for pg := 1; ; pg++ {
		if err := pace(ctx); err != nil {
			return res, err
		}
		var out wechat.AgencyAdsStat
		err := s.Tokens.WithComponentToken(ctx, func(tok string) error {
			var err error
			out, err = s.WeChat.GetAgencyAdsStat(ctx, tok, wechat.StatQuery{Page: pg, PageSize: pageSize, StartDate: start, EndDate: end})
			return err
		})
		if err != nil {
			return res, s.wrap("provider ad data", err)
		}
		for _, d := range out.List {
			day, err := ParseDay(d.Date)
			if err != nil {
				return res, fmt.Errorf("provider ad data: date %q: %w", d.Date, err)
			}
			days = append(days, ProviderDay{Day: day, Figures: figuresOf(d.AdMetrics)})
		}
		if len(out.List) == 0 || pg*pageSize >= int(out.TotalNum) {
			break
		}
	}
	if err := s.Store.ReplaceProviderDays(ctx, from, to, days); err != nil {
		return res, err
	}
	res.Rows += int64(len(days))
	// Every Mini Program's ad units, for the account pages (collect_units.go):
	// a provider call, made with the provider's totals.
	units, err := s.collectUnits(ctx, from, to, pace)
	res.Rows += units
	if err != nil {
		return res, err
	}
	return res, s.collectSettlement(ctx, s.ComponentAppID, start, end, pace)
}

// AccountOutcome is what pulling one Mini Program's range came to.
type AccountOutcome struct {
	Rows int
	// Blocked: WeChat refuses the account's data (1735/1807/2009), recorded.
	Blocked bool
	// Err is any other refusal or failure of the account's calls; Retry is
	// set when WeChat asks to call again later (-202, 1737, transport).
	Err   error
	Retry bool
}

// CollectAccount pulls appID's figures per slot and settlement for [from,
// to] and stores them, replacing what was stored for those days. WeChat's
// refusals are the outcome; the error is the store's or ctx's, after which
// the caller stops.
func (s *Service) CollectAccount(ctx context.Context, appID string, from, to time.Time, pace func(context.Context) error) (AccountOutcome, error) {
	n, err := s.collectAccount(ctx, appID, from, to, pace)
	out := AccountOutcome{Rows: n}
	code, _ := wechat.CodeOf(err)
	switch {
	case err == nil:
	case BlockingCodes[code]:
		out.Blocked = true
		msg := ""
		var we *wechat.Error
		if errors.As(err, &we) {
			msg = we.Message
		}
		if err := s.Store.MarkBlocked(ctx, appID, code, msg); err != nil {
			return out, err
		}
	case ctx.Err() != nil:
		return out, ctx.Err()
	case errors.As(err, new(storeError)):
		return out, err
	default:
		out.Err, out.Retry = err, retryable(err)
		s.log().Warn("pull account ad data", "appid", appID, "err", err)
	}
	return out, nil
}

// RebuildRollup sums every account's slots per day for [from, to], once
// every account of a pull is stored, and when those days count in the
// dashboard's fixed periods (or their previous ranges), ranks their top
// accounts and movers again in the same transaction.
func (s *Service) RebuildRollup(ctx context.Context, from, to time.Time) error {
	ranks := RankRanges(Day(s.now()))
	touches := false
	for _, r := range ranks {
		if !from.After(r.To) && !to.Before(r.PrevFrom) {
			touches = true
		}
	}
	if !touches {
		ranks = nil
	}
	return s.Store.RebuildSlotRollup(ctx, from, to, ranks)
}

func (s *Service) wrap(what string, err error) error {
	if retryable(err) {
		return fmt.Errorf("%s: %w: %w", what, ErrRetry, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// collectAccount stores appID's slot figures for [from, to] and its settlement.
func (s *Service) collectAccount(ctx context.Context, appID string, from, to time.Time, pace func(context.Context) error) (int, error) {
	start, end := from.Format(time.DateOnly), to.Format(time.DateOnly)
	var rows []SlotDay
	for pg := 1; ; pg++ {
		if err := pace(ctx); err != nil {
			return 0, err
		}
		var out wechat.AdposGeneral
		err := traffic.WithAuthorizerToken(ctx, s.Tokens, appID, s.log(), func(tok string) error {
			var err error
			out, err = s.WeChat.GetAdposGeneral(ctx, tok, wechat.StatQuery{Page: pg, PageSize: pageSize, StartDate: start, EndDate: end})
			return err
		})
		if err != nil {
			return 0, err
		}
		for _, d := range out.List {
			day, err := ParseDay(d.Date)
			if err != nil {
				return 0, fmt.Errorf("date %q: %w", d.Date, err)
			}
			slot := d.AdSlot
			if slot == "" {
				slot = string(d.SlotID)
			}
			rows = append(rows, SlotDay{Day: day, Slot: slot, Figures: figuresOf(d.AdMetrics)})
		}
		if len(out.List) == 0 || pg*pageSize >= int(out.TotalNum) {
			break
		}
	}
	if err := s.Store.ReplaceAccountDays(ctx, appID, from, to, rows); err != nil {
		return 0, storeError{err}
	}
	return len(rows), s.collectSettlement(ctx, appID, start, end, pace)
}

// collectSettlement stores the half-month intervals overlapping the range,
// of appID or, for the component appid, of the provider. Each interval is
// asked for alone: a reply's revenue_all, penalty_all and
// settled_revenue_all then are that interval's own, which the list never
// states, and are kept beside it so the page can show WeChat's totals of any
// set of intervals.
func (s *Service) collectSettlement(ctx context.Context, appID, start, end string, pace func(context.Context) error) error {
	from, err1 := ParseDay(start)
	to, err2 := ParseDay(end)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("settlement range %s – %s", start, end)
	}
	var items []Interval
	for _, h := range HalfMonths(from, to) {
		first, last := h[0].Format(time.DateOnly), h[1].Format(time.DateOnly)
		var got []Interval
		var totals wechat.Settlement
		for pg := 1; ; pg++ {
			if err := pace(ctx); err != nil {
				return err
			}
			var out wechat.Settlement
			var err error
			if appID == s.ComponentAppID {
				err = s.Tokens.WithComponentToken(ctx, func(tok string) error {
					out, err = s.WeChat.GetAgencySettledRevenue(ctx, tok, first, last, pg, pageSize)
					return err
				})
			} else {
				err = traffic.WithAuthorizerToken(ctx, s.Tokens, appID, s.log(), func(tok string) error {
					out, err = s.WeChat.GetSettlement(ctx, tok, first, last, pg, pageSize)
					return err
				})
			}
			if err != nil {
				return s.wrap("settlement", err)
			}
			if pg == 1 {
				totals = out
			}
			for _, it := range out.List {
				iv := Interval{AppID: appID, Month: string(it.Month), Half: int(it.Order), Status: int(it.SettStatus),
					SettledRevenue: it.SettledRevenue, SettNo: string(it.SettNo), Slots: map[string]wechat.Fen{}}
				for _, sr := range it.SlotRevenue {
					iv.Slots[string(sr.SlotID)] = sr.SlotSettledRevenue
				}
				got = append(got, iv)
			}
			if len(out.List) == 0 || pg*pageSize >= int(out.TotalNum) {
				break
			}
		}
		// The totals are the interval's own only when it is all the reply lists.
		if len(got) == 1 {
			got[0].Reported = true
			got[0].Revenue, got[0].Penalty, got[0].ReportedSettled = totals.RevenueAll, totals.PenaltyAll, totals.SettledRevenueAll
		}
		items = append(items, got...)
	}
	if err := s.Store.SaveSettlement(ctx, appID, items); err != nil {
		return storeError{err}
	}
	return nil
}

// HalfMonths lists the settlement intervals (1st–15th, 16th–end of month)
// overlapping [from, to], each as its first and last day.
func HalfMonths(from, to time.Time) [][2]time.Time {
	var out [][2]time.Time
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, China); !m.After(to); m = m.AddDate(0, 1, 0) {
		mid := m.AddDate(0, 0, 15)
		for _, h := range [][2]time.Time{{m, mid.AddDate(0, 0, -1)}, {mid, m.AddDate(0, 1, -1)}} {
			if !h[1].Before(from) && !h[0].After(to) {
				out = append(out, h)
			}
		}
	}
	return out
}

// storeError is the store failing while an account is pulled: the database,
// not WeChat, so the pull stops and carries on later instead of counting
// the account as refused.
type storeError struct{ error }

func (e storeError) Unwrap() error { return e.error }

func figuresOf(m wechat.AdMetrics) Figures {
	return Figures{
		ReqSucc: int64(m.ReqSuccCount), Exposure: int64(m.ExposureCount), Clicks: int64(m.ClickCount),
		Income: m.Income, PublisherIncome: m.PublisherIncome, AgencyIncome: m.AgencyIncome,
	}
}
