package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
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

// FilteredSlotDays sums the selected accounts per day per slot: the Mini
// Programs' own income, complete, but without the provider's share (WeChat
// reports that for all accounts together, and per ad unit, which leaves out
// the cover slot).
func (s *RevenueStore) FilteredSlotDays(ctx context.Context, f revenue.Filter, from, to time.Time) ([]revenue.SlotDay, error) {
	if slotOnly(f) {
		return s.slotRollup(ctx, f.Slot, from, to)
	}
	if stateOnly(f) {
		return s.stateRollupSlotDays(ctx, f, from, to)
	}
	if days, ok, err := s.principalRollupDays(ctx, f, from, to); err != nil || ok {
		return days, err
	}
	if ids, ok, err := s.lookupSelected(ctx, f); err != nil || ok {
		if err != nil {
			return nil, err
		}
		return s.fewSlotDays(ctx, ids, f.Slot, from, to)
	}
	// Planned for its arguments every time (an unnamed statement, not one
	// prepared and cached on the connection): after five runs Postgres
	// would keep a generic plan for any principal and slot, which read
	// every row of the days through the primary key, about three times
	// as slow as the sequential scan of the partitions it plans for the
	// actual ones (BENCHMARKS.md).
	args := append([]any{pgx.QueryExecModeExec}, s.filterArgs(f, from, to)...)
	rows, err := s.Pool.Query(ctx, `
		SELECT day, slot, sum(req_succ), sum(exposure), sum(clicks), sum(income_fen)
		FROM revenue_slot_daily
		WHERE ($4::text = '' OR slot = $4::text) AND day BETWEEN $5::date AND $6::date AND `+filterScope+`
		GROUP BY day, slot ORDER BY day, slot`, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanSlotDay)
}

// scanSlotDay reads a day, a slot and their four sums.
func scanSlotDay(r pgx.CollectableRow) (revenue.SlotDay, error) {
	var d revenue.SlotDay
	var inc int64
	err := r.Scan(&d.Day, &d.Slot, &d.ReqSucc, &d.Exposure, &d.Clicks, &inc)
	d.Day = chinaDate(d.Day)
	d.Income, d.PublisherIncome = wechat.Fen(inc), wechat.Fen(inc)
	return d, err
}

// defaultFewAccounts is the most selected accounts whose rows are read one
// by one (an account's day is a lookup of its slots by the primary key, day
// and appid) rather than by scanning every account's rows of the days
// shown or by ranking from the vectors: a company's name, which is what
// staff look up, selects a handful.
const defaultFewAccounts = 200

// selectedAccounts is a query of cols from the platform's accounts (a)
// f's principal and state select, with join spliced in after authorizers,
// and its arguments; only the conditions f sets, so the plan fits what is
// asked. Every authorizer has a state row (st; the authorizers_state_row
// trigger, 00003), whose state is null, "never", until an attempt; for
// "never" alone an outer join, whose estimate lets the accounts of a
// filter matching nearly all be hashed rather than looked up one by one.
// A principal narrows through the search's index of the accounts'
// character grams (authorizer_state_grams): every text that holds the
// principal holds its grams (tm_search_text only lowers ASCII letters), so
// the index gives the candidates and strpos decides.
func (s *RevenueStore) selectedAccounts(f revenue.Filter, cols, join string) (string, []any) {
	q := `SELECT ` + cols + ` FROM authorizers a` + join
	switch {
	case f.Principal != "" || (f.State != "" && f.State != "never"):
		q += ` JOIN authorizer_state st ON st.appid = a.appid`
	case f.State == "never":
		q += ` LEFT JOIN authorizer_state st ON st.appid = a.appid`
	}
	q += ` WHERE a.component_appid = $1`
	args := []any{s.ComponentAppID}
	if f.Principal != "" {
		args = append(args, f.Principal)
		q += fmt.Sprintf(` AND st.search_grams @> tm_query_grams($%[1]d::text) AND strpos(a.principal_name, $%[1]d::text) > 0`, len(args))
	}
	switch f.State {
	case "":
	case "never":
		q += ` AND (st.state IS NULL OR st.state = 'never')`
	default:
		args = append(args, f.State)
		q += fmt.Sprintf(` AND st.state = $%d::text`, len(args))
	}
	return q, args
}

// fewSelected returns the accounts f selects when f names a principal and
// it selects at most FewAccounts; few is false otherwise.
func (s *RevenueStore) fewSelected(ctx context.Context, f revenue.Filter) (ids []string, few bool, err error) {
	limit := cmp.Or(s.FewAccounts, defaultFewAccounts)
	if f.Principal == "" || limit < 0 {
		return nil, false, nil
	}
	return s.selectedUpTo(ctx, f, limit)
}

// defaultLookupShare: a principal's days are looked up account by account
// (fewDays) when it selects at most one in this many of the accounts with
// figures, and read by scanning every account's rows of the days shown
// otherwise. At 100,000 accounts, with the selected accounts spread among
// the others, a looked-up account's day (its slots) cost about 9 µs, a
// scanned one about 0.75 µs in one process and 0.45 µs with the two
// parallel workers the scan gets (BENCHMARKS.md): looking up pays below
// about one account in twelve, or twenty with the workers, hence 24.
const defaultLookupShare = 24

// lookupSelected returns the accounts f selects when f names a principal
// and its days are read faster looked up than scanned: when it selects at
// most FewAccounts, or at most one in LookupShare of the accounts with
// figures (their positions, one each, never reused); ok is false otherwise.
// The top and the movers of more than FewAccounts still come from the
// vectors (FilteredRanks), which read the same few rows whatever the
// selection.
func (s *RevenueStore) lookupSelected(ctx context.Context, f revenue.Filter) (ids []string, ok bool, err error) {
	if f.Principal == "" || s.FewAccounts < 0 {
		return nil, false, nil
	}
	limit, err := s.lookupLimit(ctx, s.Pool)
	if err != nil {
		return nil, false, err
	}
	return s.selectedUpTo(ctx, f, limit)
}

// selectedUpTo returns the accounts f selects when they are at most limit;
// ok is false otherwise.
func (s *RevenueStore) selectedUpTo(ctx context.Context, f revenue.Filter, limit int) (ids []string, ok bool, err error) {
	q, args := s.selectedAccounts(f, "a.appid", "")
	rows, err := s.Pool.Query(ctx, q+fmt.Sprintf(` LIMIT %d`, limit+1), args...)
	if err != nil {
		return nil, false, err
	}
	if ids, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || len(ids) > limit {
		return nil, false, err
	}
	return ids, true, nil
}

// fewDays is the rows of the accounts ids ($1) on the days $2, optionally
// of slot $3: an index scan of each month's primary key for the pairs of
// day and appid (its two columns), and of no other month.
const fewDays = `(SELECT * FROM revenue_slot_daily
	WHERE day = ANY($2::date[]) AND appid = ANY($1::text[]) AND ($3::text = '' OR slot = $3::text)) d`

// rangeDays lists the days of the ranges (pairs of from and to).
func rangeDays(ranges ...time.Time) []string {
	var days []string
	for i := 0; i+1 < len(ranges); i += 2 {
		for d := ranges[i]; !d.After(ranges[i+1]); d = d.AddDate(0, 0, 1) {
			days = append(days, dateText(d))
		}
	}
	return days
}

// fewSlotDays is FilteredSlotDays of the accounts ids, looked up by day and
// appid (fewDays).
func (s *RevenueStore) fewSlotDays(ctx context.Context, ids []string, slot string, from, to time.Time) ([]revenue.SlotDay, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT day, slot, sum(req_succ), sum(exposure), sum(clicks), sum(income_fen)
		FROM `+fewDays+`
		GROUP BY day, slot ORDER BY day, slot`, ids, rangeDays(from, to), slot)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanSlotDay)
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
// the vectors at the ranges' ends are read once for both; a few accounts
// (fewSelected) are summed from their rows instead, unless their principal
// is kept (principalKept). A principal every authorizer's name holds
// selects them all (the database holds one platform's: see slotOnly).
func (s *RevenueStore) FilteredRanks(ctx context.Context, f revenue.Filter, from, to, prevFrom, prevTo time.Time, limit int) ([]revenue.AccountFigures, []revenue.Mover, error) {
	kept, err := s.principalKept(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	if !kept {
		if ids, few, err := s.fewSelected(ctx, f); err != nil || few {
			if err != nil {
				return nil, nil, err
			}
			return s.fewRanks(ctx, ids, f.Slot, from, to, prevFrom, prevTo, limit)
		}
	}
	if f.Principal != "" && f.State == "" {
		// A part of every name (公司) ranks every position, as a slot
		// alone does, instead of reading every account's.
		var everyone bool
		if err := s.Pool.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM authorizers WHERE strpos(principal_name, $1) = 0)`,
			f.Principal).Scan(&everyone); err != nil {
			return nil, nil, err
		}
		if everyone {
			f.Principal = ""
		}
	}
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
	return s.topOf(ctx, `(SELECT * FROM revenue_slot_daily
		WHERE ($4::text = '' OR slot = $4::text) AND day BETWEEN $5::date AND $6::date AND `+filterScope+`) d`,
		s.filterArgs(f, from, to, limit))
}

// topOf ranks the accounts of rows (a subquery, d) by their income: the
// first of them, as many as the last of args.
func (s *RevenueStore) topOf(ctx context.Context, rows string, args []any) ([]revenue.AccountFigures, error) {
	r, err := s.Pool.Query(ctx, fmt.Sprintf(`
		SELECT t.appid, coalesce(a.nick_name, ''), t.req, t.exp, t.clk, t.inc
		FROM (SELECT appid, sum(req_succ) req, sum(exposure) exp, sum(clicks) clk, sum(income_fen) inc
		      FROM %s
		      GROUP BY appid ORDER BY inc DESC, appid LIMIT $%d) t
		LEFT JOIN authorizers a USING (appid)
		ORDER BY t.inc DESC, t.appid`, rows, len(args)), args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(r, func(r pgx.CollectableRow) (revenue.AccountFigures, error) {
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
	return s.moversOf(ctx, `(SELECT * FROM revenue_slot_daily
		WHERE ($4::text = '' OR slot = $4::text)
		  AND (day BETWEEN $5::date AND $6::date OR day BETWEEN $7::date AND $8::date) AND `+filterScope+`) d`,
		5, s.filterArgs(f, from, to, dateText(prevFrom), dateText(prevTo), limit))
}

// moversOf ranks the accounts of rows (a subquery, d) by how much their
// income changed from the range of the arguments cur+2 and cur+3 to that
// of cur and cur+1 (positions in args): the first of them, as many as the
// last of args.
func (s *RevenueStore) moversOf(ctx context.Context, rows string, cur int, args []any) ([]revenue.Mover, error) {
	r, err := s.Pool.Query(ctx, fmt.Sprintf(`
		SELECT m.appid, coalesce(a.nick_name, ''), m.cur, m.prev
		FROM (SELECT appid,
		             coalesce(sum(income_fen) FILTER (WHERE day BETWEEN $%[1]d::date AND $%[2]d::date), 0) cur,
		             coalesce(sum(income_fen) FILTER (WHERE day BETWEEN $%[3]d::date AND $%[4]d::date), 0) prev
		      FROM %[5]s
		      GROUP BY appid) m
		LEFT JOIN authorizers a USING (appid)
		WHERE m.cur <> m.prev
		ORDER BY abs(m.cur - m.prev) DESC, m.appid LIMIT $%[6]d`, cur, cur+1, cur+2, cur+3, rows, len(args)), args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(r, func(r pgx.CollectableRow) (revenue.Mover, error) {
		var m revenue.Mover
		var cur, prev int64
		err := r.Scan(&m.AppID, &m.Name, &cur, &prev)
		m.Income, m.Previous = wechat.Fen(cur), wechat.Fen(prev)
		return m, err
	})
}

// fewRanks is FilteredRanks of the few accounts ids: the on-demand sums
// over their rows, looked up by day and appid.
func (s *RevenueStore) fewRanks(ctx context.Context, ids []string, slot string, from, to, prevFrom, prevTo time.Time, limit int) ([]revenue.AccountFigures, []revenue.Mover, error) {
	top, err := s.topOf(ctx, fewDays, []any{ids, rangeDays(from, to), slot, limit})
	if err != nil {
		return nil, nil, err
	}
	movers, err := s.moversOf(ctx, fewDays, 4, []any{ids, rangeDays(prevFrom, prevTo, from, to), slot,
		dateText(from), dateText(to), dateText(prevFrom), dateText(prevTo), limit})
	return top, movers, err
}
