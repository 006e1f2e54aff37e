package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// filterScope selects the platform's accounts of a principal (any part of
// its name; $2, empty for all) in a traffic-master state ($3, empty for
// all); $1 is the component appid. An account no attempt has touched yet
// has no state row and is "never".
const filterScope = `appid IN (
	SELECT a.appid FROM authorizers a LEFT JOIN authorizer_state st ON st.appid = a.appid
	WHERE a.component_appid = $1
	  AND ($2::text = '' OR strpos(a.principal_name, $2::text) > 0)
	  AND ($3::text = '' OR coalesce(st.state, 'never') = $3::text))`

// filterArgs are filterScope's parameters, then the slot ($4) and the range ($5, $6).
func (s *RevenueStore) filterArgs(f revenue.Filter, from, to time.Time, more ...any) []any {
	return append([]any{s.ComponentAppID, f.Principal, f.State, f.Slot, dateText(from), dateText(to)}, more...)
}

// FilteredDays sums the selected accounts per day from their slots: the
// Mini Programs' own income, complete, but without the provider's share
// (WeChat reports that for all accounts together, and per ad unit, which
// leaves out the cover slot).
func (s *RevenueStore) FilteredDays(ctx context.Context, f revenue.Filter, from, to time.Time) ([]revenue.ProviderDay, error) {
	if slotOnly(f) {
		return s.slotRollupDays(ctx, f.Slot, from, to)
	}
	if stateOnly(f) {
		return s.stateRollupDays(ctx, f, from, to)
	}
	q := `
		SELECT day, sum(req_succ), sum(exposure), sum(clicks), sum(income_fen), sum(income_fen), 0::bigint
		FROM revenue_slot_daily
		WHERE ($4::text = '' OR slot = $4::text) AND day BETWEEN $5::date AND $6::date AND ` + filterScope + `
		GROUP BY day ORDER BY day`
	rows, err := s.Pool.Query(ctx, q, s.filterArgs(f, from, to)...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.ProviderDay, error) {
		var d revenue.ProviderDay
		var inc, pub, ag int64
		err := r.Scan(&d.Day, &d.ReqSucc, &d.Exposure, &d.Clicks, &inc, &pub, &ag)
		d.Day = chinaDate(d.Day)
		d.Income, d.PublisherIncome, d.AgencyIncome = wechat.Fen(inc), wechat.Fen(pub), wechat.Fen(ag)
		return d, err
	})
}

// FilteredSlotDays sums the selected accounts per day per slot.
func (s *RevenueStore) FilteredSlotDays(ctx context.Context, f revenue.Filter, from, to time.Time) ([]revenue.SlotDay, error) {
	if slotOnly(f) {
		return s.slotRollup(ctx, f.Slot, from, to)
	}
	if stateOnly(f) {
		return s.stateRollupSlotDays(ctx, f, from, to)
	}
	rows, err := s.Pool.Query(ctx, `
		SELECT day, slot, sum(req_succ), sum(exposure), sum(clicks), sum(income_fen)
		FROM revenue_slot_daily
		WHERE ($4::text = '' OR slot = $4::text) AND day BETWEEN $5::date AND $6::date AND `+filterScope+`
		GROUP BY day, slot ORDER BY day, slot`, s.filterArgs(f, from, to)...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.SlotDay, error) {
		var d revenue.SlotDay
		var inc int64
		err := r.Scan(&d.Day, &d.Slot, &d.ReqSucc, &d.Exposure, &d.Clicks, &inc)
		d.Day = chinaDate(d.Day)
		d.Income, d.PublisherIncome = wechat.Fen(inc), wechat.Fen(inc)
		return d, err
	})
}

// slotOnly reports whether f selects a slot of every account: its days are
// the slot's rows of the per-slot rollup (revenue_slot_rollup, rebuilt with
// the others when a pull finishes), a few hundred rows for any range instead
// of every account's rows of the slot for each day. Every row of
// revenue_slot_daily is one of the platform's authorizers' (pulls write
// them, and authorizers are never deleted), so the two sums are the same.
func slotOnly(f revenue.Filter) bool {
	return f.Slot != "" && f.Principal == "" && f.State == ""
}

// slotRollupDays is FilteredDays for a slot alone, from the per-slot rollup.
func (s *RevenueStore) slotRollupDays(ctx context.Context, slot string, from, to time.Time) ([]revenue.ProviderDay, error) {
	rows, err := s.slotRollup(ctx, slot, from, to)
	if err != nil {
		return nil, err
	}
	days := make([]revenue.ProviderDay, len(rows))
	for i, r := range rows {
		days[i] = revenue.ProviderDay{Day: r.Day, Figures: r.Figures}
	}
	return days, nil
}

// FilteredTop lists the selected accounts with the most income over [from,
// to], ranked from the running-total vectors of the slot (every slot's
// without one) at the range's ends over the selected accounts' positions
// (revenue_vectors.go); FilteredTopCumulative until they are built.
func (s *RevenueStore) FilteredTop(ctx context.Context, f revenue.Filter, from, to time.Time, limit int) ([]revenue.AccountFigures, error) {
	out, err := s.FilteredTopVectors(ctx, f, from, to, limit)
	if errors.Is(err, errNotBuilt) {
		return s.FilteredTopCumulative(ctx, f, from, to, limit)
	}
	return out, err
}

// FilteredRanks is FilteredTop and FilteredMovers at once, what the
// dashboard shows: from the vectors, the selected accounts' positions and
// the vectors at the ranges' ends are read once for both.
func (s *RevenueStore) FilteredRanks(ctx context.Context, f revenue.Filter, from, to, prevFrom, prevTo time.Time, limit int) ([]revenue.AccountFigures, []revenue.Mover, error) {
	top, movers, err := s.FilteredRanksVectors(ctx, f, from, to, prevFrom, prevTo, limit)
	if !errors.Is(err, errNotBuilt) {
		return top, movers, err
	}
	if top, err = s.FilteredTopCumulative(ctx, f, from, to, limit); err != nil {
		return nil, nil, err
	}
	movers, err = s.FilteredMoversCumulative(ctx, f, from, to, prevFrom, prevTo, limit)
	return top, movers, err
}

// FilteredTopCumulative is the filtered top before the vectors: without a
// slot, from the selected accounts' running totals at the range's ends
// (revenue_cumulative.go, as the unfiltered top); with one, summed from
// that slot's days.
func (s *RevenueStore) FilteredTopCumulative(ctx context.Context, f revenue.Filter, from, to time.Time, limit int) ([]revenue.AccountFigures, error) {
	if f.Slot == "" {
		return s.topCumulative(ctx, filterScope, s.filterArgs(f, from, to)[:3], from, to, limit)
	}
	return s.FilteredTopOnDemand(ctx, f, from, to, limit)
}

// FilteredTopOnDemand sums the selected accounts' slots over [from, to]:
// what FilteredTop must equal, and the benchmarks' baseline.
func (s *RevenueStore) FilteredTopOnDemand(ctx context.Context, f revenue.Filter, from, to time.Time, limit int) ([]revenue.AccountFigures, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT t.appid, coalesce(a.nick_name, ''), t.req, t.exp, t.clk, t.inc
		FROM (SELECT appid, sum(req_succ) req, sum(exposure) exp, sum(clicks) clk, sum(income_fen) inc
		      FROM revenue_slot_daily
		      WHERE ($4::text = '' OR slot = $4::text) AND day BETWEEN $5::date AND $6::date AND `+filterScope+`
		      GROUP BY appid ORDER BY inc DESC, appid LIMIT $7) t
		LEFT JOIN authorizers a USING (appid)
		ORDER BY t.inc DESC, t.appid`, s.filterArgs(f, from, to, limit)...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.AccountFigures, error) {
		var a revenue.AccountFigures
		var inc int64
		err := r.Scan(&a.AppID, &a.Name, &a.ReqSucc, &a.Exposure, &a.Clicks, &inc)
		a.Income, a.PublisherIncome = wechat.Fen(inc), wechat.Fen(inc)
		return a, err
	})
}

// FilteredMovers lists the selected accounts whose income changed most
// between [prevFrom, prevTo] and [from, to], ranked from the running-total
// vectors of the slot (every slot's without one) at the ranges' ends over
// the selected accounts' positions (revenue_vectors.go);
// FilteredMoversCumulative until they are built.
func (s *RevenueStore) FilteredMovers(ctx context.Context, f revenue.Filter, from, to, prevFrom, prevTo time.Time, limit int) ([]revenue.Mover, error) {
	out, err := s.FilteredMoversVectors(ctx, f, from, to, prevFrom, prevTo, limit)
	if errors.Is(err, errNotBuilt) {
		return s.FilteredMoversCumulative(ctx, f, from, to, prevFrom, prevTo, limit)
	}
	return out, err
}

// FilteredMoversCumulative is the filtered movers before the vectors:
// without a slot, from the selected accounts' running totals at the
// ranges' ends (as the unfiltered movers); with one, summed from that
// slot's days.
func (s *RevenueStore) FilteredMoversCumulative(ctx context.Context, f revenue.Filter, from, to, prevFrom, prevTo time.Time, limit int) ([]revenue.Mover, error) {
	if f.Slot == "" {
		return s.moversCumulative(ctx, filterScope, s.filterArgs(f, from, to)[:3], from, to, prevFrom, prevTo, limit)
	}
	return s.FilteredMoversOnDemand(ctx, f, from, to, prevFrom, prevTo, limit)
}

// FilteredMoversOnDemand sums the selected accounts' slots over both
// ranges: what FilteredMovers must equal, and the benchmarks' baseline.
func (s *RevenueStore) FilteredMoversOnDemand(ctx context.Context, f revenue.Filter, from, to, prevFrom, prevTo time.Time, limit int) ([]revenue.Mover, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT m.appid, coalesce(a.nick_name, ''), m.cur, m.prev
		FROM (SELECT appid,
		             coalesce(sum(income_fen) FILTER (WHERE day BETWEEN $5::date AND $6::date), 0) cur,
		             coalesce(sum(income_fen) FILTER (WHERE day BETWEEN $7::date AND $8::date), 0) prev
		      FROM revenue_slot_daily
		      WHERE ($4::text = '' OR slot = $4::text)
		        AND (day BETWEEN $5::date AND $6::date OR day BETWEEN $7::date AND $8::date) AND `+filterScope+`
		      GROUP BY appid) m
		LEFT JOIN authorizers a USING (appid)
		WHERE m.cur <> m.prev
		ORDER BY abs(m.cur - m.prev) DESC, m.appid LIMIT $9`, s.filterArgs(f, from, to, dateText(prevFrom), dateText(prevTo), limit)...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.Mover, error) {
		var m revenue.Mover
		var cur, prev int64
		err := r.Scan(&m.AppID, &m.Name, &cur, &prev)
		m.Income, m.Previous = wechat.Fen(cur), wechat.Fen(prev)
		return m, err
	})
}
