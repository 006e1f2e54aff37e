package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// RevenueStore keeps WeChat's ad data, settlement and the record of pulls.
// It implements revenue.Store and jobs.RevenuePulls.
type RevenueStore struct {
	Pool *pgxpool.Pool
	// ComponentAppID selects the platform's accounts.
	ComponentAppID string
	// FewAccounts is the most accounts a principal filter's figures are
	// read for one by one (fewSelected): 0 is defaultFewAccounts, below 0
	// none, and no principal's kept sums are read either: every principal
	// scans (what the others must equal, and the benchmarks' baseline).
	FewAccounts int
	// LookupShare: a principal filter's days are read one account at a
	// time too when it selects at most one in LookupShare of the accounts
	// with figures (lookupSelected): 0 is defaultLookupShare.
	LookupShare int
}

var (
	_ revenue.Store     = (*RevenueStore)(nil)
	_ jobs.RevenuePulls = (*RevenueStore)(nil)
)

func dateText(t time.Time) string { return t.Format(time.DateOnly) }

// chinaDate turns a date read from Postgres (midnight UTC) into the same
// calendar day at midnight in China.
func chinaDate(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, revenue.China)
}

// MiniPrograms lists the platform's authorized Mini Programs, in appid order.
func (s *RevenueStore) MiniPrograms(ctx context.Context) ([]string, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT appid FROM authorizers
		WHERE component_appid = $1 AND is_mini_program AND revoked_at IS NULL
		ORDER BY appid`, s.ComponentAppID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// ensureMonths creates the month partitions covering [from, to].
func ensureMonths(ctx context.Context, tx pgx.Tx, from, to time.Time) error {
	for m := monthStart(from); !m.After(to); m = m.AddDate(0, 1, 0) {
		if _, err := tx.Exec(ctx, `SELECT revenue_ensure_month($1::date)`, dateText(m)); err != nil {
			return fmt.Errorf("revenue partition %s: %w", m.Format("2006-01"), err)
		}
	}
	return nil
}

// ReplaceAccountDays replaces appID's figures for [from, to] in one
// transaction: the slot rows, then its daily rollup from them.
func (s *RevenueStore) ReplaceAccountDays(ctx context.Context, appID string, from, to time.Time, rows []revenue.SlotDay) error {
	return inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		// Two pulls of the same account (the daily one and a backfill) take
		// turns, so neither inserts beside rows the other just wrote.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('revenue_account'), hashtext($1))`, appID); err != nil {
			return err
		}
		if err := ensureMonths(ctx, tx, from, to); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM revenue_slot_daily WHERE appid = $1 AND day BETWEEN $2::date AND $3::date`, appID, dateText(from), dateText(to)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM revenue_account_daily WHERE appid = $1 AND day BETWEEN $2::date AND $3::date`, appID, dateText(from), dateText(to)); err != nil {
			return err
		}
		if len(rows) > 0 {
			n := len(rows)
			days, slots := make([]string, n), make([]string, n)
			req, exp, clk, inc := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
			for i, r := range rows {
				days[i], slots[i] = dateText(r.Day), r.Slot
				req[i], exp[i], clk[i], inc[i] = r.ReqSucc, r.Exposure, r.Clicks, int64(r.Income)
			}
			// A slot WeChat lists twice for one day is summed, not refused.
			if _, err := tx.Exec(ctx, `
				INSERT INTO revenue_slot_daily (day, appid, slot, req_succ, exposure, clicks, income_fen)
				SELECT d, $1, sl, sum(r), sum(e), sum(c), sum(i)
				FROM unnest($2::date[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[]) AS u(d, sl, r, e, c, i)
				WHERE d BETWEEN $8::date AND $9::date
				GROUP BY d, sl`, appID, days, slots, req, exp, clk, inc, dateText(from), dateText(to)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO revenue_account_daily (day, appid, req_succ, exposure, clicks, income_fen)
				SELECT day, appid, sum(req_succ), sum(exposure), sum(clicks), sum(income_fen)
				FROM revenue_slot_daily WHERE appid = $1 AND day BETWEEN $2::date AND $3::date
				GROUP BY day, appid`, appID, dateText(from), dateText(to)); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `DELETE FROM revenue_account_blocked WHERE appid = $1`, appID)
		return err
	})
}

// MarkBlocked records that appID's data calls are refused with code.
func (s *RevenueStore) MarkBlocked(ctx context.Context, appID string, code int, message string) error {
	_, err := s.Pool.Exec(ctx, `
		INSERT INTO revenue_account_blocked (appid, code, message) VALUES ($1, $2, $3)
		ON CONFLICT (appid) DO UPDATE SET code = excluded.code, message = excluded.message, checked_at = now()`, appID, code, message)
	return err
}

// AccountBlocked returns why appID's data is refused, or nil when it is not.
func (s *RevenueStore) AccountBlocked(ctx context.Context, appID string) (*revenue.Blocked, error) {
	b := revenue.Blocked{AppID: appID}
	err := s.Pool.QueryRow(ctx, `SELECT code, message, checked_at FROM revenue_account_blocked WHERE appid = $1`, appID).
		Scan(&b.Code, &b.Message, &b.CheckedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil //nolint:nilnil // not blocked is the usual answer, not an error
	}
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// ReplaceProviderDays replaces the provider's daily totals for [from, to].
func (s *RevenueStore) ReplaceProviderDays(ctx context.Context, from, to time.Time, days []revenue.ProviderDay) error {
	return inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('revenue_provider_daily'))`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM revenue_provider_daily WHERE day BETWEEN $1::date AND $2::date`, dateText(from), dateText(to)); err != nil {
			return err
		}
		for _, d := range days {
			if d.Day.Before(from) || d.Day.After(to) {
				continue
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO revenue_provider_daily (day, req_succ, exposure, clicks, income_fen, publisher_income_fen, agency_income_fen)
				VALUES ($1::date, $2, $3, $4, $5, $6, $7)
				ON CONFLICT (day) DO UPDATE SET req_succ = excluded.req_succ, exposure = excluded.exposure, clicks = excluded.clicks,
				  income_fen = excluded.income_fen, publisher_income_fen = excluded.publisher_income_fen,
				  agency_income_fen = excluded.agency_income_fen, pulled_at = now()`,
				dateText(d.Day), d.ReqSucc, d.Exposure, d.Clicks, int64(d.Income), int64(d.PublisherIncome), int64(d.AgencyIncome)); err != nil {
				return err
			}
		}
		return nil
	})
}

// RebuildSlotRollup sums every account's slots per day for [from, to],
// per state (revenue_state.go), every account's days per month for
// the months [from, to] touches, its running totals per day from from on
// (revenue_cumulative.go) and their vectors (revenue_vectors.go), and
// when ranks is not empty replaces the precomputed rankings with theirs.
// The days' sums per kept principal (revenue_principal.go) are left to the
// fold, which sums them a few seconds later.
func (s *RevenueStore) RebuildSlotRollup(ctx context.Context, from, to time.Time, ranks []revenue.RankRange) error {
	return inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('revenue_slot_rollup'))`); err != nil {
			return err
		}
		if err := rebuildStateRollup(ctx, tx, from, to); err != nil {
			return err
		}
		if err := stalePrincipalDays(ctx, tx, from, to); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM revenue_slot_rollup WHERE day BETWEEN $1::date AND $2::date`, dateText(from), dateText(to)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO revenue_slot_rollup (day, slot, req_succ, exposure, clicks, income_fen)
			SELECT day, slot, sum(req_succ), sum(exposure), sum(clicks), sum(income_fen)
			FROM revenue_slot_daily WHERE day BETWEEN $1::date AND $2::date
			GROUP BY day, slot`, dateText(from), dateText(to))
		if err != nil {
			return err
		}
		if err := rebuildMonths(ctx, tx, from, to); err != nil {
			return err
		}
		if err := rebuildCumulative(ctx, tx, from, to); err != nil {
			return err
		}
		if err := rebuildRankVectors(ctx, tx, from, to); err != nil {
			return err
		}
		if len(ranks) == 0 {
			return nil
		}
		return rebuildRanks(ctx, tx, ranks)
	})
}

// SaveSettlement stores appID's intervals, overwriting status and amounts.
func (s *RevenueStore) SaveSettlement(ctx context.Context, appID string, items []revenue.Interval) error {
	return inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		for _, it := range items {
			slots := map[string]int64{}
			for k, v := range it.Slots {
				slots[k] = int64(v)
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO revenue_settlements (appid, month, half, status, settled_revenue_fen, sett_no, slot_revenue,
				                                 revenue_fen, penalty_fen, reported_settled_fen)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
				ON CONFLICT (appid, month, half) DO UPDATE SET status = excluded.status,
				  settled_revenue_fen = excluded.settled_revenue_fen, sett_no = excluded.sett_no,
				  slot_revenue = excluded.slot_revenue, pulled_at = now(),
				  revenue_fen = coalesce(excluded.revenue_fen, revenue_settlements.revenue_fen),
				  penalty_fen = coalesce(excluded.penalty_fen, revenue_settlements.penalty_fen),
				  reported_settled_fen = coalesce(excluded.reported_settled_fen, revenue_settlements.reported_settled_fen)`,
				appID, it.Month, it.Half, it.Status, int64(it.SettledRevenue), it.SettNo, slots,
				reported(it, it.Revenue), reported(it, it.Penalty), reported(it, it.ReportedSettled)); err != nil {
				return err
			}
		}
		return nil
	})
}

// reported is one of WeChat's totals of the interval, or NULL when unknown.
func reported(it revenue.Interval, f wechat.Fen) *int64 {
	if !it.Reported {
		return nil
	}
	v := int64(f)
	return &v
}

// Settlement lists appID's intervals (the component appid: the provider's), newest first.
func (s *RevenueStore) Settlement(ctx context.Context, appID string) ([]revenue.Interval, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT month, half, status, settled_revenue_fen, sett_no, slot_revenue, revenue_fen, penalty_fen, reported_settled_fen
		FROM revenue_settlements WHERE appid = $1 ORDER BY month DESC, half DESC`, appID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.Interval, error) {
		iv := revenue.Interval{AppID: appID}
		var fen int64
		var slots map[string]int64
		var rev, pen, rep *int64
		if err := r.Scan(&iv.Month, &iv.Half, &iv.Status, &fen, &iv.SettNo, &slots, &rev, &pen, &rep); err != nil {
			return iv, err
		}
		if rev != nil && pen != nil && rep != nil {
			iv.Reported = true
			iv.Revenue, iv.Penalty, iv.ReportedSettled = wechat.Fen(*rev), wechat.Fen(*pen), wechat.Fen(*rep)
		}
		iv.SettledRevenue = wechat.Fen(fen)
		iv.Slots = map[string]wechat.Fen{}
		for k, v := range slots {
			iv.Slots[k] = wechat.Fen(v)
		}
		return iv, nil
	})
}

// ProviderTotals sums the provider's daily totals over [from, to].
func (s *RevenueStore) ProviderTotals(ctx context.Context, from, to time.Time) (revenue.Figures, error) {
	var f revenue.Figures
	var inc, pub, ag int64
	err := s.Pool.QueryRow(ctx, `
		SELECT coalesce(sum(req_succ), 0), coalesce(sum(exposure), 0), coalesce(sum(clicks), 0),
		       coalesce(sum(income_fen), 0), coalesce(sum(publisher_income_fen), 0), coalesce(sum(agency_income_fen), 0)
		FROM revenue_provider_daily WHERE day BETWEEN $1::date AND $2::date`, dateText(from), dateText(to)).
		Scan(&f.ReqSucc, &f.Exposure, &f.Clicks, &inc, &pub, &ag)
	f.Income, f.PublisherIncome, f.AgencyIncome = wechat.Fen(inc), wechat.Fen(pub), wechat.Fen(ag)
	return f, err
}

// LatestProviderDay is the last day with any exposure in the provider's totals.
func (s *RevenueStore) LatestProviderDay(ctx context.Context) (time.Time, error) {
	var d *time.Time
	if err := s.Pool.QueryRow(ctx, `SELECT max(day) FROM revenue_provider_daily WHERE exposure > 0`).Scan(&d); err != nil || d == nil {
		return time.Time{}, err
	}
	return chinaDate(*d), nil
}

// ProviderDays lists the provider's days in [from, to], oldest first.
func (s *RevenueStore) ProviderDays(ctx context.Context, from, to time.Time) ([]revenue.ProviderDay, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT day, req_succ, exposure, clicks, income_fen, publisher_income_fen, agency_income_fen
		FROM revenue_provider_daily WHERE day BETWEEN $1::date AND $2::date ORDER BY day`, dateText(from), dateText(to))
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

// SlotDays lists every account's figures per slot per day in [from, to].
func (s *RevenueStore) SlotDays(ctx context.Context, from, to time.Time) ([]revenue.SlotDay, error) {
	return s.slotRollup(ctx, "", from, to)
}

// slotRollup lists the per-slot rollup's rows in [from, to], of one slot
// (all when empty).
func (s *RevenueStore) slotRollup(ctx context.Context, slot string, from, to time.Time) ([]revenue.SlotDay, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT day, slot, req_succ, exposure, clicks, income_fen
		FROM revenue_slot_rollup WHERE ($1::text = '' OR slot = $1::text) AND day BETWEEN $2::date AND $3::date
		ORDER BY day, slot`, slot, dateText(from), dateText(to))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanSlotDay)
}

// AccountSlots sums appID's figures per slot over [from, to], in slot order.
func (s *RevenueStore) AccountSlots(ctx context.Context, appID string, from, to time.Time) ([]revenue.SlotDay, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT slot, sum(req_succ), sum(exposure), sum(clicks), sum(income_fen)
		FROM revenue_slot_daily WHERE appid = $1 AND day BETWEEN $2::date AND $3::date
		GROUP BY slot ORDER BY slot`, appID, dateText(from), dateText(to))
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.SlotDay, error) {
		var d revenue.SlotDay
		var inc int64
		err := r.Scan(&d.Slot, &d.ReqSucc, &d.Exposure, &d.Clicks, &inc)
		d.Income, d.PublisherIncome = wechat.Fen(inc), wechat.Fen(inc)
		return d, err
	})
	if err != nil {
		return nil, err
	}
	// In WeChat's slot order, as every page lists them.
	order := map[string]int{}
	for i, sl := range wechat.Slots() {
		order[sl] = i + 1
	}
	slices.SortStableFunc(out, func(a, b revenue.SlotDay) int { return order[a.Slot] - order[b.Slot] })
	return out, nil
}

// Movers lists the Mini Programs whose income changed most between the two
// ranges: precomputed for the dashboard's fixed periods (revenue_ranks.go),
// otherwise ranked from the running-total vectors at the ranges' ends
// (revenue_vectors.go), or every account's running totals there
// (revenue_cumulative.go) until the vectors are built.
func (s *RevenueStore) Movers(ctx context.Context, from, to, prevFrom, prevTo time.Time, limit int) ([]revenue.Mover, error) {
	if ok, err := s.ranked(ctx, from, to, prevFrom, prevTo, limit); err != nil || ok {
		if err != nil {
			return nil, err
		}
		return s.rankedMovers(ctx, from, to, prevFrom, prevTo, limit)
	}
	out, err := s.MoversVectors(ctx, from, to, prevFrom, prevTo, limit)
	if errors.Is(err, errNotBuilt) {
		return s.MoversCumulative(ctx, from, to, prevFrom, prevTo, limit)
	}
	return out, err
}

// MoversOnDemand sums every account's days over both ranges: what
// MoversMonthly and MoversCumulative must equal, and the benchmarks'
// baseline.
func (s *RevenueStore) MoversOnDemand(ctx context.Context, from, to, prevFrom, prevTo time.Time, limit int) ([]revenue.Mover, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT m.appid, coalesce(a.nick_name, ''), m.cur, m.prev
		FROM (SELECT appid,
		             coalesce(sum(income_fen) FILTER (WHERE day BETWEEN $1::date AND $2::date), 0) cur,
		             coalesce(sum(income_fen) FILTER (WHERE day BETWEEN $3::date AND $4::date), 0) prev
		      FROM revenue_account_daily
		      WHERE day BETWEEN $1::date AND $2::date OR day BETWEEN $3::date AND $4::date
		      GROUP BY appid) m
		LEFT JOIN authorizers a USING (appid)
		WHERE m.cur <> m.prev
		ORDER BY abs(m.cur - m.prev) DESC, m.appid LIMIT $5`,
		dateText(from), dateText(to), dateText(prevFrom), dateText(prevTo), limit)
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

// TopAccounts lists the Mini Programs with the most income over [from, to]:
// precomputed for the dashboard's fixed periods (revenue_ranks.go),
// otherwise ranked from the running-total vectors at the range's ends
// (revenue_vectors.go), or every account's running totals there
// (revenue_cumulative.go) until the vectors are built.
func (s *RevenueStore) TopAccounts(ctx context.Context, from, to time.Time, limit int) ([]revenue.AccountFigures, error) {
	prevFrom, prevTo := revenue.PreviousRange(from, to)
	if ok, err := s.ranked(ctx, from, to, prevFrom, prevTo, limit); err != nil || ok {
		if err != nil {
			return nil, err
		}
		return s.rankedTop(ctx, from, to, prevFrom, prevTo, limit)
	}
	out, err := s.TopAccountsVectors(ctx, from, to, limit)
	if errors.Is(err, errNotBuilt) {
		return s.TopAccountsCumulative(ctx, from, to, limit)
	}
	return out, err
}

// TopAccountsOnDemand sums every account's days over [from, to]: what
// TopAccountsMonthly and TopAccountsCumulative must equal, and the
// benchmarks' baseline.
func (s *RevenueStore) TopAccountsOnDemand(ctx context.Context, from, to time.Time, limit int) ([]revenue.AccountFigures, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT t.appid, coalesce(a.nick_name, ''), t.req, t.exp, t.clk, t.inc
		FROM (SELECT appid, sum(req_succ) req, sum(exposure) exp, sum(clicks) clk, sum(income_fen) inc
		      FROM revenue_account_daily WHERE day BETWEEN $1::date AND $2::date
		      GROUP BY appid ORDER BY inc DESC, appid LIMIT $3) t
		LEFT JOIN authorizers a USING (appid)
		ORDER BY t.inc DESC, t.appid`, dateText(from), dateText(to), limit)
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

// CreatePull records a pull of [from, to] with its chunks: chunk 0 for the
// provider's own calls, then the platform's Mini Programs in appid order,
// chunkSize to a chunk. queue is called with the chunks in the same
// transaction (so a pull is recorded with its jobs or not at all).
func (s *RevenueStore) CreatePull(ctx context.Context, kind string, from, to time.Time, by *int64, chunkSize int, queue jobs.RevenueQueueFunc) (int64, error) {
	if chunkSize <= 0 {
		chunkSize = jobs.RevenueChunkAccounts
	}
	var id int64
	err := inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `
			INSERT INTO revenue_pulls (kind, from_day, to_day, next_day, created_by)
			VALUES ($1, $2::date, $3::date, $2::date, $4) RETURNING id`, kind, dateText(from), dateText(to), by).Scan(&id); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			WITH ids AS (
				SELECT appid, (row_number() OVER (ORDER BY appid) - 1) / $5 AS n
				FROM authorizers
				WHERE component_appid = $4 AND is_mini_program AND revoked_at IS NULL),
			chunks AS (
				SELECT 0 AS chunk, '{}'::text[] AS appids
				UNION ALL
				SELECT n + 1, array_agg(appid ORDER BY appid) FROM ids GROUP BY n)
			INSERT INTO revenue_pull_chunks (pull_id, chunk, from_day, to_day, appids)
			SELECT $1, chunk, $2::date, $3::date, appids FROM chunks
			RETURNING chunk, cardinality(appids)`, id, dateText(from), dateText(to), s.ComponentAppID, chunkSize)
		if err != nil {
			return err
		}
		var chunks []int
		var accounts int
		var n, size int
		if _, err := pgx.ForEachRow(rows, []any{&n, &size}, func() error {
			chunks = append(chunks, n)
			accounts += size
			return nil
		}); err != nil {
			return err
		}
		slices.Sort(chunks)
		if _, err := tx.Exec(ctx, `UPDATE revenue_pulls SET chunks_left = $2, accounts_total = $3 WHERE id = $1`, id, len(chunks), accounts); err != nil {
			return err
		}
		if queue == nil {
			return nil
		}
		return queue(ctx, tx, id, chunks)
	})
	return id, err
}

// A pull's figures are its own (the rollup's) and the sums of its chunks';
// its last error is its own or its chunks' latest.
const pullColumns = `p.id, p.kind, p.from_day, p.to_day, p.next_day, p.state,
	p.rows + coalesce(c.rows, 0), p.errors + coalesce(c.errors, 0),
	coalesce(nullif(p.last_error, ''), c.last_error, ''), p.created_at, p.finished_at,
	coalesce(c.done, 0), p.accounts_total`

const pullFrom = ` FROM revenue_pulls p LEFT JOIN LATERAL (
	SELECT sum(rows) AS rows, sum(errors) AS errors, sum(accounts_done) AS done,
	       (SELECT last_error FROM revenue_pull_chunks e WHERE e.pull_id = p.id AND e.last_error <> ''
	        ORDER BY e.updated_at DESC LIMIT 1) AS last_error
	FROM revenue_pull_chunks WHERE pull_id = p.id) c ON true`

func scanPull(r pgx.Row) (revenue.Pull, error) {
	var p revenue.Pull
	err := r.Scan(&p.ID, &p.Kind, &p.From, &p.To, &p.Next, &p.State, &p.Rows, &p.Errors, &p.LastError, &p.CreatedAt, &p.FinishedAt,
		&p.AccountsDone, &p.AccountsTotal)
	p.From, p.To, p.Next = chinaDate(p.From), chinaDate(p.To), chinaDate(p.Next)
	return p, err
}

// Pull reads one pull.
func (s *RevenueStore) Pull(ctx context.Context, id int64) (revenue.Pull, error) {
	return scanPull(s.Pool.QueryRow(ctx, `SELECT `+pullColumns+pullFrom+` WHERE p.id = $1`, id))
}

// Pulls lists the latest pulls, newest first.
func (s *RevenueStore) Pulls(ctx context.Context, limit int) ([]revenue.Pull, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+pullColumns+pullFrom+` ORDER BY p.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.Pull, error) { return scanPull(r) })
}

// StartChunk reads a chunk as its job finds it, and marks it and its pull
// running if they were queued.
func (s *RevenueStore) StartChunk(ctx context.Context, pullID int64, chunk int) (jobs.RevenueChunk, error) {
	c := jobs.RevenueChunk{PullID: pullID, Chunk: chunk}
	err := inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			UPDATE revenue_pull_chunks SET state = 'running', updated_at = now()
			WHERE pull_id = $1 AND chunk = $2 AND state = 'queued'`, pullID, chunk); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE revenue_pulls SET state = 'running' WHERE id = $1 AND state = 'queued'`, pullID); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `
			SELECT p.state, c.from_day, c.to_day, c.appids, c.pass, c.next_index, c.retry,
			       c.accounts_done, c.rows, c.errors, c.last_error, c.state
			FROM revenue_pull_chunks c JOIN revenue_pulls p ON p.id = c.pull_id
			WHERE c.pull_id = $1 AND c.chunk = $2`, pullID, chunk).
			Scan(&c.PullState, &c.From, &c.To, &c.AppIDs, &c.Pass, &c.Next, &c.Retry, &c.Done, &c.Rows, &c.Errors, &c.LastError, &c.State)
		if errors.Is(err, pgx.ErrNoRows) {
			c.State, c.PullState = "failed", "failed" // the pull was deleted: nothing to do
			return nil
		}
		return err
	})
	c.From, c.To = chinaDate(c.From), chinaDate(c.To)
	c.Provider = chunk == 0
	return c, err
}

// SaveChunk checkpoints c if the chunk is still at pass and next; false when
// another job has moved it on (that job carries the chunk).
func (s *RevenueStore) SaveChunk(ctx context.Context, c jobs.RevenueChunk, pass, next int) (bool, error) {
	retry := c.Retry
	if retry == nil {
		retry = []string{}
	}
	tag, err := s.Pool.Exec(ctx, `
		UPDATE revenue_pull_chunks SET appids = $5, pass = $6, next_index = $7, retry = $8,
		       accounts_done = $9, rows = $10, errors = $11, last_error = $12, updated_at = now()
		WHERE pull_id = $1 AND chunk = $2 AND pass = $3 AND next_index = $4 AND state = 'running'`,
		c.PullID, c.Chunk, pass, next, c.AppIDs, c.Pass, c.Next, retry, c.Done, c.Rows, c.Errors, c.LastError)
	return tag.RowsAffected() == 1, err
}

// FinishChunk ends a running chunk as state, once. The pull's row lock
// orders chunks ending at the same time, so exactly one of them sees the
// count of chunks left reach zero and queues the pull's finish, in the same
// transaction.
func (s *RevenueStore) FinishChunk(ctx context.Context, pullID int64, chunk int, state, lastError string, queue func(ctx context.Context, tx pgx.Tx, pullID int64) error) (bool, error) {
	var last bool
	err := inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE revenue_pull_chunks SET state = $3, finished_at = now(), updated_at = now(),
			       last_error = CASE WHEN $4 = '' THEN last_error ELSE $4 END
			WHERE pull_id = $1 AND chunk = $2 AND state IN ('queued', 'running')`, pullID, chunk, state, lastError)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		var left int
		if err := tx.QueryRow(ctx, `UPDATE revenue_pulls SET chunks_left = chunks_left - 1 WHERE id = $1 RETURNING chunks_left`, pullID).Scan(&left); err != nil {
			return err
		}
		if left > 0 {
			return nil
		}
		last = true
		if queue == nil {
			return nil
		}
		return queue(ctx, tx, pullID)
	})
	return last, err
}

// ChunksFailed counts the pull's chunks that gave up.
func (s *RevenueStore) ChunksFailed(ctx context.Context, id int64) (int, error) {
	var n int
	err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM revenue_pull_chunks WHERE pull_id = $1 AND state = 'failed'`, id).Scan(&n)
	return n, err
}

// AdvancePull records that the pull stored every day before next.
func (s *RevenueStore) AdvancePull(ctx context.Context, id int64, next time.Time, res revenue.Result) error {
	_, err := s.Pool.Exec(ctx, `
		UPDATE revenue_pulls SET next_day = $2::date, state = 'running', rows = rows + $3, errors = errors + $4,
		       last_error = CASE WHEN $5 = '' THEN last_error ELSE $5 END
		WHERE id = $1`, id, dateText(next), res.Rows, res.Errors, res.LastError)
	return err
}

// FinishPull ends the pull as done or failed, unless it has ended already.
func (s *RevenueStore) FinishPull(ctx context.Context, id int64, state, lastError string) error {
	_, err := s.Pool.Exec(ctx, `
		UPDATE revenue_pulls SET state = $2, finished_at = now(),
		       last_error = CASE WHEN $3 = '' THEN last_error ELSE $3 END
		WHERE id = $1 AND state NOT IN ('done', 'failed')`, id, state, lastError)
	return err
}

// NotePullError counts a failed attempt at a part of the pull (it will be retried).
func (s *RevenueStore) NotePullError(ctx context.Context, id int64, lastError string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE revenue_pulls SET state = 'running', errors = errors + 1, last_error = $2 WHERE id = $1`, id, lastError)
	return err
}

// ReplaceUnitDay replaces every Mini Program's ad unit figures of day in one
// transaction, so a re-pulled day never doubles and a unit WeChat no longer
// lists for it goes.
func (s *RevenueStore) ReplaceUnitDay(ctx context.Context, day time.Time, rows []revenue.UnitDay) error {
	return inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		// Two pulls of the same day (the daily one and a backfill) take turns.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('revenue_unit_daily'), hashtext($1))`, dateText(day)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT revenue_ensure_unit_month($1::date)`, dateText(day)); err != nil {
			return fmt.Errorf("revenue unit partition %s: %w", day.Format("2006-01"), err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM revenue_unit_daily WHERE day = $1::date`, dateText(day)); err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		n := len(rows)
		apps, units, names := make([]string, n), make([]string, n), make([]string, n)
		req, exp, clk := make([]int64, n), make([]int64, n), make([]int64, n)
		inc, pub, ag := make([]int64, n), make([]int64, n), make([]int64, n)
		for i, r := range rows {
			apps[i], units[i], names[i] = r.AppID, r.AdUnitID, r.Name
			req[i], exp[i], clk[i] = r.ReqSucc, r.Exposure, r.Clicks
			inc[i], pub[i], ag[i] = int64(r.Income), int64(r.PublisherIncome), int64(r.AgencyIncome)
		}
		// A unit WeChat lists twice for the day is summed, not refused.
		_, err := tx.Exec(ctx, `
			INSERT INTO revenue_unit_daily (day, appid, ad_unit_id, ad_unit_name, req_succ, exposure, clicks,
			                                income_fen, publisher_income_fen, agency_income_fen)
			SELECT $1::date, a, u, max(nm), sum(r), sum(e), sum(c), sum(i), sum(p), sum(g)
			FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[],
			            $8::bigint[], $9::bigint[], $10::bigint[]) AS x(a, u, nm, r, e, c, i, p, g)
			GROUP BY a, u`, dateText(day), apps, units, names, req, exp, clk, inc, pub, ag)
		return err
	})
}

// AccountUnits sums appID's figures per ad unit over [from, to], most income
// first; a unit's name is the latest WeChat gave it.
func (s *RevenueStore) AccountUnits(ctx context.Context, appID string, from, to time.Time) ([]revenue.UnitFigures, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT ad_unit_id, (array_agg(ad_unit_name ORDER BY day DESC))[1],
		       sum(req_succ), sum(exposure), sum(clicks), sum(income_fen), sum(publisher_income_fen), sum(agency_income_fen)
		FROM revenue_unit_daily WHERE appid = $1 AND day BETWEEN $2::date AND $3::date
		GROUP BY ad_unit_id ORDER BY sum(income_fen) DESC, ad_unit_id`, appID, dateText(from), dateText(to))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.UnitFigures, error) {
		var u revenue.UnitFigures
		var inc, pub, ag int64
		err := r.Scan(&u.AdUnitID, &u.Name, &u.ReqSucc, &u.Exposure, &u.Clicks, &inc, &pub, &ag)
		u.Income, u.PublisherIncome, u.AgencyIncome = wechat.Fen(inc), wechat.Fen(pub), wechat.Fen(ag)
		return u, err
	})
}

// EachAccountSlotDay calls fn with appID's figures per day per slot in
// [from, to], oldest first, as the rows arrive (a CSV streams them).
func (s *RevenueStore) EachAccountSlotDay(ctx context.Context, appID string, from, to time.Time, fn func(revenue.SlotDay) error) error {
	rows, err := s.Pool.Query(ctx, `
		SELECT day, slot, req_succ, exposure, clicks, income_fen
		FROM revenue_slot_daily WHERE appid = $1 AND day BETWEEN $2::date AND $3::date
		ORDER BY day, slot`, appID, dateText(from), dateText(to))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var d revenue.SlotDay
		var inc int64
		if err := rows.Scan(&d.Day, &d.Slot, &d.ReqSucc, &d.Exposure, &d.Clicks, &inc); err != nil {
			return err
		}
		d.Day = chinaDate(d.Day)
		d.Income, d.PublisherIncome = wechat.Fen(inc), wechat.Fen(inc)
		if err := fn(d); err != nil {
			return err
		}
	}
	return rows.Err()
}

// EachAccountUnitDay calls fn with appID's figures per day per ad unit in
// [from, to], oldest first, as the rows arrive.
func (s *RevenueStore) EachAccountUnitDay(ctx context.Context, appID string, from, to time.Time, fn func(revenue.UnitDay) error) error {
	rows, err := s.Pool.Query(ctx, `
		SELECT day, ad_unit_id, ad_unit_name, req_succ, exposure, clicks, income_fen, publisher_income_fen, agency_income_fen
		FROM revenue_unit_daily WHERE appid = $1 AND day BETWEEN $2::date AND $3::date
		ORDER BY day, ad_unit_id`, appID, dateText(from), dateText(to))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		d := revenue.UnitDay{AppID: appID}
		var inc, pub, ag int64
		if err := rows.Scan(&d.Day, &d.AdUnitID, &d.Name, &d.ReqSucc, &d.Exposure, &d.Clicks, &inc, &pub, &ag); err != nil {
			return err
		}
		d.Day = chinaDate(d.Day)
		d.Income, d.PublisherIncome, d.AgencyIncome = wechat.Fen(inc), wechat.Fen(pub), wechat.Fen(ag)
		if err := fn(d); err != nil {
			return err
		}
	}
	return rows.Err()
}
