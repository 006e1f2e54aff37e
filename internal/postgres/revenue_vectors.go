package postgres

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// allSlots is the slot key of the vectors of every slot together (from
// revenue_account_daily) in revenue_rank_vectors.
const allSlots = ""

// rankVector is one row of revenue_rank_vectors decoded: every position's
// running totals of income (fen) and of days with a row.
type rankVector struct {
	income []int64
	days   []int32
}

// incomeAt and daysAt are position p's totals (zero past the vector's end).
func (v rankVector) incomeAt(p int) int64 {
	if p < len(v.income) {
		return v.income[p]
	}
	return 0
}

func (v rankVector) daysAt(p int) int32 {
	if p < len(v.days) {
		return v.days[p]
	}
	return 0
}

// grow pads v with zeros to n positions.
func (v *rankVector) grow(n int) {
	for len(v.income) < n {
		v.income = append(v.income, 0)
	}
	for len(v.days) < n {
		v.days = append(v.days, 0)
	}
}

func encodeIncome(v []int64) []byte {
	b := make([]byte, 0, 8*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	return b
}

func encodeDays(v []int32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return b
}

func decodeIncome(b []byte) []int64 {
	v := make([]int64, len(b)/8)
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v
}

func decodeDays(b []byte) []int32 {
	v := make([]int32, len(b)/4)
	for i := range v {
		v[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// rebuildRankVectors carries the running-total vectors (migration 00099)
// from the first day [from, to] changed through the last day built (or to
// when later), one day at a time: each day's vector of a slot is the
// latest before it plus that day's rows, written for the days that have
// rows. It starts earlier when days before from were never carried: at
// the first stored day when nothing was built yet, or the day after the
// last one built. New accounts get positions first. Callers serialize it
// (the slot rollup's lock).
func rebuildRankVectors(ctx context.Context, tx pgx.Tx, from, to time.Time) error {
	var through, daysFirst *time.Time
	if err := tx.QueryRow(ctx, `SELECT (SELECT through FROM revenue_rank_vectors_built),
		(SELECT min(day) FROM revenue_account_daily)`).Scan(&through, &daysFirst); err != nil {
		return err
	}
	first, last := from, to
	if through == nil {
		if daysFirst == nil {
			return nil
		}
		if d := chinaDate(*daysFirst); d.Before(first) {
			first = d
		}
	} else {
		t := chinaDate(*through)
		if next := t.AddDate(0, 0, 1); next.Before(first) {
			first = next
		}
		if t.After(last) {
			last = t
		}
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO revenue_account_pos (appid, pos)
		SELECT n.appid, b.base + row_number() OVER (ORDER BY n.appid) - 1
		FROM (SELECT DISTINCT appid FROM revenue_account_daily WHERE day BETWEEN $1::date AND $2::date
		      EXCEPT SELECT appid FROM revenue_account_pos) n,
		     (SELECT coalesce(max(pos) + 1, 0) base FROM revenue_account_pos) b`, dateText(first), dateText(last)); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(pos) + 1, 0) FROM revenue_account_pos`).Scan(&n); err != nil {
		return err
	}
	vecs := map[string]*rankVector{}
	rows, err := tx.Query(ctx, `SELECT DISTINCT ON (slot) slot, income, days FROM revenue_rank_vectors
		WHERE day < $1::date ORDER BY slot, day DESC`, dateText(first))
	if err != nil {
		return err
	}
	for rows.Next() {
		var slot string
		var inc, days []byte
		if err := rows.Scan(&slot, &inc, &days); err != nil {
			rows.Close()
			return err
		}
		vecs[slot] = &rankVector{income: decodeIncome(inc), days: decodeDays(days)}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	vec := func(slot string) *rankVector {
		v := vecs[slot]
		if v == nil {
			v = &rankVector{}
			vecs[slot] = v
		}
		v.grow(n)
		return v
	}
	if _, err := tx.Exec(ctx, `DELETE FROM revenue_rank_vectors WHERE day >= $1::date`, dateText(first)); err != nil {
		return err
	}
	// A day is a thirtieth of its month's partition, 800,000 rows of
	// revenue_slot_daily at 100,000 accounts: the planner would rather scan
	// the whole month (24 million rows, a second a day) than the day's
	// part of the primary key.
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		return err
	}
	defer tx.Exec(context.WithoutCancel(ctx), `RESET enable_seqscan`) //nolint:errcheck // a failed transaction is rolled back, and the setting with it
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		// Each slot's rows of the day (and every slot's, from the daily
		// rollup, as the slot ''), as two arrays a slot: 100,000s of rows
		// sent as one value each, not row by row.
		rows, err := tx.Query(ctx, `
			SELECT '', array_agg(p.pos), array_agg(a.income_fen)
			FROM revenue_account_daily a JOIN revenue_account_pos p USING (appid)
			WHERE a.day = $1::date HAVING count(*) > 0
			UNION ALL
			SELECT s.slot, array_agg(p.pos), array_agg(s.income_fen)
			FROM revenue_slot_daily s JOIN revenue_account_pos p USING (appid)
			WHERE s.day = $1::date GROUP BY s.slot`, dateText(d))
		if err != nil {
			return err
		}
		changed := map[string]bool{}
		var slot string
		var pos []int32
		var inc []int64
		if _, err := pgx.ForEachRow(rows, []any{&slot, &pos, &inc}, func() error {
			if changed[slot] {
				return errors.New("revenue_slot_daily: a row without a slot")
			}
			v := vec(slot)
			for i, p := range pos {
				v.income[p] += inc[i]
				v.days[p]++
			}
			changed[slot] = true
			return nil
		}); err != nil {
			return err
		}
		for s := range changed {
			if _, err := tx.Exec(ctx, `INSERT INTO revenue_rank_vectors (slot, day, income, days) VALUES ($1, $2::date, $3, $4)`,
				s, dateText(d), encodeIncome(vecs[s].income), encodeDays(vecs[s].days)); err != nil {
				return err
			}
		}
	}
	_, err = tx.Exec(ctx, `INSERT INTO revenue_rank_vectors_built (through) VALUES ($1::date)
		ON CONFLICT (one) DO UPDATE SET through = excluded.through`, dateText(last))
	return err
}

// RebuildRankVectors carries the running-total vectors from the first day
// of [from, to] on, under the slot rollup's lock, as a pull's finish does
// it (RebuildSlotRollup): what the benchmarks time alone.
func (s *RevenueStore) RebuildRankVectors(ctx context.Context, from, to time.Time) error {
	return inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('revenue_slot_rollup'))`); err != nil {
			return err
		}
		return rebuildRankVectors(ctx, tx, from, to)
	})
}

// BackfillRankVectors carries the running-total vectors over every stored
// day when they were never built (the days stored before migration
// 00099), under the slot rollup's lock; a no-op once built. Migrate runs it
// after the migrations.
func BackfillRankVectors(ctx context.Context, pool *pgxpool.Pool) error {
	return inTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('revenue_slot_rollup'))`); err != nil {
			return err
		}
		var built bool
		var first, last *time.Time
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM revenue_rank_vectors_built),
			(SELECT min(day) FROM revenue_account_daily), (SELECT max(day) FROM revenue_account_daily)`).Scan(&built, &first, &last); err != nil {
			return err
		}
		if built || first == nil {
			return nil
		}
		if _, err := tx.Exec(ctx, "SET LOCAL work_mem = '"+monthlyWorkMem+"'"); err != nil {
			return err
		}
		return rebuildRankVectors(ctx, tx, chinaDate(*first), chinaDate(*last))
	})
}

// vectorEnds are the vectors at the days a ranking reads, in the order
// given (empty where none lies at or before a day), and the last day
// built.
type vectorEnds struct {
	through time.Time
	vecs    []rankVector
}

// readVectors reads slot's vectors at each of days (the latest at or
// before it), with the days' counts when withDays, in one query;
// errNotBuilt when the vectors were never carried (the caller then ranks
// the way before them).
func readVectors(ctx context.Context, tx pgx.Tx, slot string, days []time.Time, withDays bool) (vectorEnds, error) {
	texts := make([]string, len(days))
	for i, d := range days {
		texts[i] = dateText(d)
	}
	daysCol := "NULL::bytea"
	if withDays {
		daysCol = "v.days"
	}
	rows, err := tx.Query(ctx, `
		SELECT e.i, v.income, `+daysCol+`, (SELECT through FROM revenue_rank_vectors_built)
		FROM unnest($2::date[]) WITH ORDINALITY e(d, i)
		LEFT JOIN LATERAL (SELECT income, days FROM revenue_rank_vectors
		                   WHERE slot = $1 AND day <= e.d ORDER BY day DESC LIMIT 1) v ON true`, slot, texts)
	if err != nil {
		return vectorEnds{}, err
	}
	out := vectorEnds{vecs: make([]rankVector, len(days))}
	var i int
	var inc, dys []byte
	var through *time.Time
	if _, err = pgx.ForEachRow(rows, []any{&i, &inc, &dys, &through}, func() error {
		out.vecs[i-1] = rankVector{income: decodeIncome(inc), days: decodeDays(dys)}
		return nil
	}); err != nil {
		return out, err
	}
	if through == nil {
		return out, errNotBuilt
	}
	out.through = chinaDate(*through)
	return out, nil
}

// positionsIn are the positions of the accounts f's principal and state
// select (selectedAccounts), as a mask over n positions. A state alone
// reads no authorizer: every position is one of the platform's accounts
// (see slotOnly), so the positions are joined to the states directly.
func (s *RevenueStore) positionsIn(ctx context.Context, tx pgx.Tx, f revenue.Filter, n int) ([]bool, error) {
	var q string
	var args []any
	switch {
	case f.Principal != "":
		q, args = s.selectedAccounts(f, `coalesce(array_agg(p.pos), '{}')`, ` JOIN revenue_account_pos p ON p.appid = a.appid`)
	case f.State == "never":
		q, args = `SELECT coalesce(array_agg(p.pos), '{}') FROM revenue_account_pos p
			LEFT JOIN authorizer_state st ON st.appid = p.appid WHERE st.state IS NULL OR st.state = 'never'`, nil
	default:
		q, args = `SELECT coalesce(array_agg(p.pos), '{}') FROM revenue_account_pos p
			JOIN authorizer_state st ON st.appid = p.appid WHERE st.state = $1::text`, []any{f.State}
	}
	var ps []int32
	if err := tx.QueryRow(ctx, q, args...).Scan(&ps); err != nil {
		return nil, err
	}
	mask := make([]bool, n)
	for _, p := range ps {
		if int(p) < n {
			mask[p] = true
		}
	}
	return mask, nil
}

// rankedPos is a position with the figure it is ranked by (key, larger
// first), the ranking's order before the tie-break by appid.
type rankedPos struct {
	pos int32
	key int64
}

// pickTop returns the positions that can be among the first limit when
// ranked by key (descending) then appid: above, those whose key beats the
// limit-th's (fewer than limit), and ties, every one with the limit-th's
// key, of which the limit-len(above) first by appid belong. keep selects
// the positions ranked, key gives their figure.
func pickTop(n, limit int, keep func(p int) bool, key func(p int) int64) (above, ties []rankedPos) {
	if limit <= 0 {
		return nil, nil
	}
	// The limit largest keys, in a min-heap on key.
	h := make([]int64, 0, limit)
	for p := range n {
		if !keep(p) {
			continue
		}
		k := key(p)
		if len(h) < limit {
			h = append(h, k)
			for i := len(h) - 1; i > 0 && h[(i-1)/2] > h[i]; i = (i - 1) / 2 {
				h[i], h[(i-1)/2] = h[(i-1)/2], h[i]
			}
			continue
		}
		if k <= h[0] {
			continue
		}
		h[0] = k
		for i := 0; ; {
			l, r, m := 2*i+1, 2*i+2, i
			if l < len(h) && h[l] < h[m] {
				m = l
			}
			if r < len(h) && h[r] < h[m] {
				m = r
			}
			if m == i {
				break
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	if len(h) == 0 {
		return nil, nil
	}
	bound := h[0] // the limit-th key, or the smallest when fewer
	for p := range n {
		if !keep(p) {
			continue
		}
		switch k := key(p); {
		case k > bound:
			above = append(above, rankedPos{int32(p), k})
		case k == bound:
			ties = append(ties, rankedPos{int32(p), k})
		}
	}
	return above, ties
}

// pickedAccount is a ranked position's account, with the top's other
// figures once read (figuresOf).
type pickedAccount struct {
	rankedPos
	appid, name   string
	req, exp, clk int64
}

// resolve turns the candidates of pickTop into the first limit accounts,
// ordered by key (descending) then appid, reading the appids and names of
// the candidates above and of the first of the ties by appid.
func resolve(ctx context.Context, tx pgx.Tx, above, ties []rankedPos, limit int) ([]pickedAccount, error) {
	if len(above)+len(ties) == 0 {
		return nil, nil
	}
	keys := map[int32]int64{}
	var abovePos, tiePos []int32
	for _, r := range above {
		keys[r.pos], abovePos = r.key, append(abovePos, r.pos)
	}
	for _, r := range ties {
		keys[r.pos], tiePos = r.key, append(tiePos, r.pos)
	}
	rows, err := tx.Query(ctx, `
		WITH picked AS (
		    SELECT pos, appid FROM revenue_account_pos WHERE pos = ANY($1::int[])
		    UNION ALL
		    (SELECT pos, appid FROM revenue_account_pos WHERE pos = ANY($2::int[]) ORDER BY appid LIMIT $3)
		)
		SELECT p.pos, p.appid, coalesce(a.nick_name, '')
		FROM picked p LEFT JOIN authorizers a ON a.appid = p.appid`, abovePos, tiePos, limit-len(above))
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pickedAccount, error) {
		var a pickedAccount
		err := r.Scan(&a.pos, &a.appid, &a.name)
		a.key = keys[a.pos]
		return a, err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b pickedAccount) int {
		if c := cmp.Compare(b.key, a.key); c != 0 {
			return c
		}
		return cmp.Compare(a.appid, b.appid)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// figuresOf reads the other figures of the ranked accounts over [from,
// to] by primary key, for those accounts only: for every slot, their
// running totals (revenue_account_cumulative) at the range's last day (or
// through, the last day built, when earlier: the running totals are
// carried through the same day) less the day before its first (no row:
// nothing before); for one slot, that slot's rows of each day of the range
// through that day.
func figuresOf(ctx context.Context, tx pgx.Tx, picked []pickedAccount, slot string, from, to, through time.Time) error {
	if len(picked) == 0 {
		return nil
	}
	if to.After(through) {
		to = through
	}
	appids := make([]string, len(picked))
	for i, a := range picked {
		appids[i] = a.appid
	}
	var rows pgx.Rows
	var err error
	if slot == allSlots {
		rows, err = tx.Query(ctx, `
			SELECT appid, sum(req), sum(exp), sum(clk) FROM (
			    SELECT appid, cum_req_succ req, cum_exposure exp, cum_clicks clk
			    FROM revenue_account_cumulative WHERE day = $2::date AND appid = ANY($1::text[])
			    UNION ALL
			    SELECT appid, -cum_req_succ, -cum_exposure, -cum_clicks
			    FROM revenue_account_cumulative WHERE day = $3::date AND appid = ANY($1::text[])) r
			GROUP BY appid`, appids, dateText(to), dateText(from.AddDate(0, 0, -1)))
	} else {
		var days []string
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			days = append(days, dateText(d))
		}
		rows, err = tx.Query(ctx, `
			SELECT appid, sum(req_succ), sum(exposure), sum(clicks) FROM revenue_slot_daily
			WHERE day = ANY($2::date[]) AND appid = ANY($1::text[]) AND slot = $3
			GROUP BY appid`, appids, days, slot)
	}
	if err != nil {
		return err
	}
	byApp := map[string]*pickedAccount{}
	for i := range picked {
		byApp[picked[i].appid] = &picked[i]
	}
	var appid string
	var req, exp, clk int64
	_, err = pgx.ForEachRow(rows, []any{&appid, &req, &exp, &clk}, func() error {
		if a := byApp[appid]; a != nil {
			a.req, a.exp, a.clk = req, exp, clk
		}
		return nil
	})
	return err
}

// inVectorsTx runs fn in a read-only transaction, so the vectors, the
// positions and the running totals it reads are of one moment.
func (s *RevenueStore) inVectorsTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`); err != nil {
			return err
		}
		// Generic plans over every partition's estimates would pass the
		// JIT thresholds (see inCumulativeTx) for queries of a few rows;
		// the positions of a filter join 100,000 rows in memory.
		if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SET LOCAL work_mem = '"+monthlyWorkMem+"'"); err != nil {
			return err
		}
		return fn(tx)
	})
}

// errNotBuilt tells the callers to rank the way before the vectors.
var errNotBuilt = errors.New("revenue rank vectors not built")

// ranksVectors ranks [from, to] from slot's vectors at the ranges' ends,
// in one transaction: its top when wantTop (the accounts with a day there:
// their count of days grew), with the other figures read for the ranked
// accounts only, and its movers against [prevFrom, prevTo] when
// wantMovers; only over the positions of f's accounts when scoped. It
// reads at most four vectors (the day before the range is usually the
// previous range's last) and, when scoped, the positions once for both.
func (s *RevenueStore) ranksVectors(ctx context.Context, slot string, scoped bool, f revenue.Filter, from, to, prevFrom, prevTo time.Time, limit int, wantTop, wantMovers bool) ([]revenue.AccountFigures, []revenue.Mover, error) {
	top, movers := []revenue.AccountFigures{}, []revenue.Mover{}
	err := s.inVectorsTx(ctx, func(tx pgx.Tx) error {
		days := []time.Time{to, from.AddDate(0, 0, -1)}
		idx := [4]int{0, 1, 0, 0}
		if wantMovers {
			for k, d := range []time.Time{prevTo, prevFrom.AddDate(0, 0, -1)} {
				idx[2+k] = len(days)
				for i, e := range days {
					if e.Equal(d) {
						idx[2+k] = i
					}
				}
				if idx[2+k] == len(days) {
					days = append(days, d)
				}
			}
		}
		ends, err := readVectors(ctx, tx, slot, days, wantTop)
		if err != nil {
			return err
		}
		hi, lo, phi, plo := ends.vecs[idx[0]], ends.vecs[idx[1]], ends.vecs[idx[2]], ends.vecs[idx[3]]
		n := 0
		for _, v := range ends.vecs {
			n = max(n, len(v.income))
		}
		var mask []bool
		if scoped {
			if mask, err = s.positionsIn(ctx, tx, f, n); err != nil {
				return err
			}
		}
		in := func(p int) bool { return !scoped || mask[p] } // mask: n positions
		cur := func(p int) int64 { return hi.incomeAt(p) - lo.incomeAt(p) }
		if wantTop {
			above, ties := pickTop(n, limit,
				func(p int) bool { return in(p) && hi.daysAt(p) > lo.daysAt(p) }, cur)
			picked, err := resolve(ctx, tx, above, ties, limit)
			if err != nil {
				return err
			}
			if err := figuresOf(ctx, tx, picked, slot, from, to, ends.through); err != nil {
				return err
			}
			for _, a := range picked {
				top = append(top, revenue.AccountFigures{AppID: a.appid, Name: a.name, Figures: revenue.Figures{
					ReqSucc: a.req, Exposure: a.exp, Clicks: a.clk, Income: wechat.Fen(a.key), PublisherIncome: wechat.Fen(a.key)}})
			}
		}
		if wantMovers {
			prev := func(p int) int64 { return phi.incomeAt(p) - plo.incomeAt(p) }
			above, ties := pickTop(n, limit,
				func(p int) bool { return in(p) && cur(p) != prev(p) },
				func(p int) int64 {
					if d := cur(p) - prev(p); d >= 0 {
						return d
					} else {
						return -d
					}
				})
			picked, err := resolve(ctx, tx, above, ties, limit)
			if err != nil {
				return err
			}
			for _, a := range picked {
				p := int(a.pos)
				movers = append(movers, revenue.Mover{AppID: a.appid, Name: a.name, Income: wechat.Fen(cur(p)), Previous: wechat.Fen(prev(p))})
			}
		}
		return nil
	})
	return top, movers, err
}

// TopAccountsVectors is TopAccountsOnDemand ranked from the running-total
// vectors at the range's ends (two rows whatever the number of accounts):
// the same rows, sums, order and ties. errNotBuilt before they are built.
func (s *RevenueStore) TopAccountsVectors(ctx context.Context, from, to time.Time, limit int) ([]revenue.AccountFigures, error) {
	top, _, err := s.ranksVectors(ctx, allSlots, false, revenue.Filter{}, from, to, time.Time{}, time.Time{}, limit, true, false)
	return top, err
}

// MoversVectors is MoversOnDemand ranked from the running-total vectors at
// the ranges' ends (at most four rows): the same rows, sums, order and
// ties. errNotBuilt before they are built.
func (s *RevenueStore) MoversVectors(ctx context.Context, from, to, prevFrom, prevTo time.Time, limit int) ([]revenue.Mover, error) {
	_, movers, err := s.ranksVectors(ctx, allSlots, false, revenue.Filter{}, from, to, prevFrom, prevTo, limit, false, true)
	return movers, err
}

// FilteredTopVectors is FilteredTopOnDemand ranked from the vectors of f's
// slot (every slot's when none) over the positions of f's accounts.
func (s *RevenueStore) FilteredTopVectors(ctx context.Context, f revenue.Filter, from, to time.Time, limit int) ([]revenue.AccountFigures, error) {
	top, _, err := s.ranksVectors(ctx, f.Slot, scoped(f), f, from, to, time.Time{}, time.Time{}, limit, true, false)
	return top, err
}

// FilteredMoversVectors is FilteredMoversOnDemand ranked from the vectors
// of f's slot (every slot's when none) over the positions of f's accounts.
func (s *RevenueStore) FilteredMoversVectors(ctx context.Context, f revenue.Filter, from, to, prevFrom, prevTo time.Time, limit int) ([]revenue.Mover, error) {
	_, movers, err := s.ranksVectors(ctx, f.Slot, scoped(f), f, from, to, prevFrom, prevTo, limit, false, true)
	return movers, err
}

// FilteredRanksVectors is FilteredTopVectors and FilteredMoversVectors
// at once: the positions and the vectors at the ranges' ends read once.
func (s *RevenueStore) FilteredRanksVectors(ctx context.Context, f revenue.Filter, from, to, prevFrom, prevTo time.Time, limit int) ([]revenue.AccountFigures, []revenue.Mover, error) {
	return s.ranksVectors(ctx, f.Slot, scoped(f), f, from, to, prevFrom, prevTo, limit, true, true)
}

// scoped reports whether f selects some of the accounts (a principal or a
// state), whose positions the ranking then reads; a slot alone ranks every
// position of its vectors, all of them the platform's accounts (see
// slotOnly), as the unfiltered ranking does.
func scoped(f revenue.Filter) bool { return f.Principal != "" || f.State != "" }
