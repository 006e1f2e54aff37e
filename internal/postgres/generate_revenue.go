package postgres

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// genSlotWeights are the slots' shares of an account's figures in generated
// ad data (out of their sum).
var genSlotWeights = map[string]int{
	wechat.SlotBanner: 30, wechat.SlotRewardVideo: 25, wechat.SlotInterstitial: 15, wechat.SlotVideoFeeds: 8,
	wechat.SlotVideoBegin: 6, wechat.SlotBox: 5, wechat.SlotTemplate: 20, wechat.SlotCover: 10,
}

// GenerateRevenue fills the ad data tables for benchmarks: every one of the
// first accounts generated accounts (GenAppID) has figures on each of the
// days days ending yesterday in Beijing, in the per account rollup the
// pages read; the provider's days and the per slot rollup are their sums,
// and the per state rollup those of the accounts in each state now; the
// per slot rows (what the account page reads) are written for the last
// slotDays days, and the principals kept are chosen and summed from them.
// Figures follow a weekly rhythm with a seeded level and
// eCPM per account. It refuses a database that already has ad data.
func GenerateRevenue(ctx context.Context, timed *pgxpool.Pool, accounts, days, slotDays int, progress io.Writer) error {
	pool, err := Untimed(ctx, timed)
	if err != nil {
		return err
	}
	defer pool.Close()
	var n int64
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM (SELECT 1 FROM revenue_account_daily LIMIT 1) x").Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("the database already has ad data; generate into an empty one")
	}
	step := func(what string, sql string, args ...any) error {
		start := time.Now()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		fmt.Fprintf(progress, "%-40s %s\n", what, time.Since(start).Round(time.Millisecond))
		return nil
	}
	last := revenue.Day(time.Now()).AddDate(0, 0, -1)
	first := last.AddDate(0, 0, 1-days)
	slotKeys, weights := make([]string, 0, len(genSlotWeights)), make([]int32, 0, len(genSlotWeights))
	total := 0
	for _, s := range wechat.Slots() {
		slotKeys, weights = append(slotKeys, s), append(weights, int32(genSlotWeights[s]))
		total += genSlotWeights[s]
	}
	// The appid index is built once after the load (faster than kept row
	// by row); the months load three at a time, newest first (what the
	// pages read most is there soonest), days in order within each (the
	// primary key grows at its end).
	if err := step("drop index revenue_account_daily_appid", `DROP INDEX revenue_account_daily_appid`); err != nil {
		return err
	}
	var months []time.Time
	for m := time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, revenue.China); !m.AddDate(0, 1, -1).Before(first); m = m.AddDate(0, -1, 0) {
		if err := step("partition "+m.Format("2006-01"), `SELECT revenue_ensure_month($1::date)`, dateText(m)); err != nil {
			return err
		}
		months = append(months, m)
	}
	work, errs := make(chan time.Time), make(chan error, len(months))
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for m := range work {
				from, to := m, m.AddDate(0, 1, -1)
				if from.Before(first) {
					from = first
				}
				if to.After(last) {
					to = last
				}
				errs <- step(fmt.Sprintf("account days %s – %s", dateText(from), dateText(to)), `
					INSERT INTO revenue_account_daily (day, appid, req_succ, exposure, clicks, income_fen)
					SELECT d::date, 'wx' || lpad(to_hex(x'6e0000000000'::bigint + g), 16, '0'),
					       e * 112 / 100, e, e * (5 + abs(n % 15)) / 1000, e * (600 + abs(h % 2400)) / 1000
					FROM generate_series($1::date, $2::date, interval '1 day') d,
					     generate_series(0, $3 - 1) g,
					     LATERAL (SELECT hashint8(g) AS h, hashint8(g * 7919 + (d::date - date '2000-01-01')) AS n) x,
					     LATERAL (SELECT (3000 + abs(h % 40000)) * (ARRAY[125, 90, 95, 100, 100, 110, 130])[extract(dow FROM d)::int + 1] / 100
					                     * (85 + abs(n % 31)) / 100 AS e) y
					ORDER BY 1, 2`, dateText(from), dateText(to), accounts)
			}
		})
	}
	for _, m := range months {
		work <- m
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	if err := step("create index revenue_account_daily_appid", `CREATE INDEX revenue_account_daily_appid ON revenue_account_daily (appid, day)`); err != nil {
		return err
	}
	if err := step("provider days", `
		INSERT INTO revenue_provider_daily (day, req_succ, exposure, clicks, income_fen, publisher_income_fen, agency_income_fen)
		SELECT day, sum(req_succ), sum(exposure), sum(clicks), sum(income_fen), sum(income_fen) - sum(income_fen) * 3 / 10, sum(income_fen) * 3 / 10
		FROM revenue_account_daily GROUP BY day`); err != nil {
		return err
	}
	if err := step("slot rollup", `
		INSERT INTO revenue_slot_rollup (day, slot, req_succ, exposure, clicks, income_fen)
		SELECT day, s.slot, req_succ * s.w / $3, exposure * s.w / $3, clicks * s.w / $3, income_fen * s.w / $3
		FROM revenue_provider_daily, unnest($1::text[], $2::int[]) AS s(slot, w)`, slotKeys, weights, total); err != nil {
		return err
	}
	for i := range min(slotDays, days) {
		d := last.AddDate(0, 0, -i)
		if err := step("slot rows "+dateText(d), `
			INSERT INTO revenue_slot_daily (day, appid, slot, req_succ, exposure, clicks, income_fen)
			SELECT a.day, a.appid, s.slot, a.req_succ * s.w / $4, a.exposure * s.w / $4, a.clicks * s.w / $4, a.income_fen * s.w / $4
			FROM revenue_account_daily a, unnest($2::text[], $3::int[]) AS s(slot, w)
			WHERE a.day = $1::date
			ORDER BY a.appid, s.slot`, dateText(d), slotKeys, weights, total); err != nil {
			return err
		}
	}
	// Every account counted under its state now (no move left to fold),
	// and the per-state rollup of every day as the slot rows are made: each
	// account's share of a slot rounded down on its own.
	if err := step("state members", `
		INSERT INTO revenue_state_members (appid, state)
		SELECT a.appid, coalesce(st.state, 'never') FROM authorizers a LEFT JOIN authorizer_state st ON st.appid = a.appid
		ON CONFLICT (appid) DO UPDATE SET state = excluded.state`); err != nil {
		return err
	}
	if err := step("state moves folded", `DELETE FROM revenue_state_moves`); err != nil {
		return err
	}
	if err := step("state rollup", `
		INSERT INTO revenue_state_rollup (state, day, slot, slot_rows, req_succ, exposure, clicks, income_fen)
		SELECT coalesce(m.state, 'never'), a.day, s.slot, count(*), sum(a.req_succ * s.w / $3), sum(a.exposure * s.w / $3),
		       sum(a.clicks * s.w / $3), sum(a.income_fen * s.w / $3)
		FROM revenue_account_daily a LEFT JOIN revenue_state_members m ON m.appid = a.appid, unnest($1::text[], $2::int[]) AS s(slot, w)
		GROUP BY 1, a.day, s.slot`, slotKeys, weights, total); err != nil {
		return err
	}
	if err := step("analyze", `ANALYZE revenue_account_daily, revenue_slot_daily, revenue_provider_daily, revenue_slot_rollup,
		revenue_state_rollup, revenue_state_members, revenue_state_moves`); err != nil {
		return err
	}
	// The principals kept and their sums of the slot rows, as the daily
	// schedule chooses them.
	start := time.Now()
	if _, _, err := (&RevenueStore{Pool: pool}).ChoosePrincipals(ctx); err != nil {
		return err
	}
	fmt.Fprintf(progress, "%-40s %s\n", "choose the principals kept", time.Since(start).Round(time.Millisecond))
	// The months, the running totals per day, their vectors and the
	// dashboard's fixed periods are summed and ranked as a pull's finish
	// does it.
	start = time.Now()
	if err := inTx(ctx, pool, func(tx pgx.Tx) error { return rebuildMonths(ctx, tx, first, last) }); err != nil {
		return err
	}
	fmt.Fprintf(progress, "%-40s %s\n", "sum the accounts' months", time.Since(start).Round(time.Millisecond))
	if err := step("analyze months", `ANALYZE revenue_account_monthly`); err != nil {
		return err
	}
	start = time.Now()
	if err := inTx(ctx, pool, func(tx pgx.Tx) error { return rebuildCumulative(ctx, tx, first, last) }); err != nil {
		return err
	}
	fmt.Fprintf(progress, "%-40s %s\n", "carry the accounts' running totals", time.Since(start).Round(time.Millisecond))
	if err := step("analyze running totals", `ANALYZE revenue_account_cumulative`); err != nil {
		return err
	}
	start = time.Now()
	if err := inTx(ctx, pool, func(tx pgx.Tx) error { return rebuildRankVectors(ctx, tx, first, last) }); err != nil {
		return err
	}
	fmt.Fprintf(progress, "%-40s %s\n", "carry the running-total vectors", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if err := inTx(ctx, pool, func(tx pgx.Tx) error { return rebuildRanks(ctx, tx, revenue.RankRanges(last.AddDate(0, 0, 1))) }); err != nil {
		return err
	}
	fmt.Fprintf(progress, "%-40s %s\n", "rank the dashboard's periods", time.Since(start).Round(time.Millisecond))
	return nil
}
