package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// rebuildRanks replaces the precomputed top accounts and movers with those
// of ranks, in one pass over revenue_account_daily: the same sums, order
// and ties (appid) as TopAccountsOnDemand and MoversOnDemand, so a ranked
// range reads exactly what summing on demand would give.
func rebuildRanks(ctx context.Context, tx pgx.Tx, ranks []revenue.RankRange) error {
	if _, err := tx.Exec(ctx, `DELETE FROM revenue_period_ranks`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM revenue_period_ranks_built`); err != nil {
		return err
	}
	var f, t, pf, pt []string
	for _, r := range ranks {
		f, t = append(f, dateText(r.From)), append(t, dateText(r.To))
		pf, pt = append(pf, dateText(r.PrevFrom)), append(pt, dateText(r.PrevTo))
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO revenue_period_ranks_built (from_day, to_day, prev_from, prev_to)
		SELECT * FROM unnest($1::date[], $2::date[], $3::date[], $4::date[])`, f, t, pf, pt); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `
		WITH p AS (
		    SELECT * FROM unnest($1::date[], $2::date[], $3::date[], $4::date[]) AS p(f, t, pf, pt)
		), s AS (
		    SELECT p.f, p.t, p.pf, p.pt, d.appid,
		           count(*) FILTER (WHERE d.day BETWEEN p.f AND p.t) n,
		           coalesce(sum(d.req_succ) FILTER (WHERE d.day BETWEEN p.f AND p.t), 0) req,
		           coalesce(sum(d.exposure) FILTER (WHERE d.day BETWEEN p.f AND p.t), 0) exp,
		           coalesce(sum(d.clicks) FILTER (WHERE d.day BETWEEN p.f AND p.t), 0) clk,
		           coalesce(sum(d.income_fen) FILTER (WHERE d.day BETWEEN p.f AND p.t), 0) cur,
		           coalesce(sum(d.income_fen) FILTER (WHERE d.day BETWEEN p.pf AND p.pt), 0) prev
		    FROM p JOIN revenue_account_daily d ON d.day BETWEEN least(p.f, p.pf) AND greatest(p.t, p.pt)
		    WHERE d.day BETWEEN p.f AND p.t OR d.day BETWEEN p.pf AND p.pt
		    GROUP BY p.f, p.t, p.pf, p.pt, d.appid
		), r AS (
		    SELECT s.*, 'top' kind, row_number() OVER (PARTITION BY f, t, pf, pt ORDER BY cur DESC, appid) rank
		    FROM s WHERE n > 0
		    UNION ALL
		    SELECT s.*, 'movers', row_number() OVER (PARTITION BY f, t, pf, pt ORDER BY abs(cur - prev) DESC, appid)
		    FROM s WHERE cur <> prev
		)
		INSERT INTO revenue_period_ranks (from_day, to_day, prev_from, prev_to, kind, rank, appid,
		                                  req_succ, exposure, clicks, income_fen, prev_income_fen)
		SELECT f, t, pf, pt, kind, rank, appid, req, exp, clk, cur, prev FROM r WHERE rank <= $5`,
		f, t, pf, pt, revenue.TopLimit)
	return err
}

// ranked reports whether the rankings of [from, to] against [prevFrom,
// prevTo] are precomputed and hold at least limit rows each.
func (s *RevenueStore) ranked(ctx context.Context, from, to, prevFrom, prevTo time.Time, limit int) (bool, error) {
	if limit > revenue.TopLimit {
		return false, nil
	}
	var ok bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM revenue_period_ranks_built
		WHERE from_day = $1::date AND to_day = $2::date AND prev_from = $3::date AND prev_to = $4::date)`,
		dateText(from), dateText(to), dateText(prevFrom), dateText(prevTo)).Scan(&ok)
	return ok, err
}

const rankedQuery = `
	SELECT r.appid, coalesce(a.nick_name, ''), r.req_succ, r.exposure, r.clicks, r.income_fen, r.prev_income_fen
	FROM revenue_period_ranks r LEFT JOIN authorizers a USING (appid)
	WHERE r.from_day = $1::date AND r.to_day = $2::date AND r.kind = $3
	  AND r.prev_from = $4::date AND r.prev_to = $5::date
	ORDER BY r.rank LIMIT $6`

func (s *RevenueStore) rankedTop(ctx context.Context, from, to, prevFrom, prevTo time.Time, limit int) ([]revenue.AccountFigures, error) {
	rows, err := s.Pool.Query(ctx, rankedQuery, dateText(from), dateText(to), "top", dateText(prevFrom), dateText(prevTo), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.AccountFigures, error) {
		var a revenue.AccountFigures
		var inc, prev int64
		err := r.Scan(&a.AppID, &a.Name, &a.ReqSucc, &a.Exposure, &a.Clicks, &inc, &prev)
		a.Income, a.PublisherIncome = wechat.Fen(inc), wechat.Fen(inc)
		return a, err
	})
}

func (s *RevenueStore) rankedMovers(ctx context.Context, from, to, prevFrom, prevTo time.Time, limit int) ([]revenue.Mover, error) {
	rows, err := s.Pool.Query(ctx, rankedQuery, dateText(from), dateText(to), "movers", dateText(prevFrom), dateText(prevTo), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.Mover, error) {
		var m revenue.Mover
		var req, exp, clk, cur, prev int64
		err := r.Scan(&m.AppID, &m.Name, &req, &exp, &clk, &cur, &prev)
		m.Income, m.Previous = wechat.Fen(cur), wechat.Fen(prev)
		return m, err
	})
}
