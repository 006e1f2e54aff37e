package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trafficmaster/trafficmaster/internal/revenue"
)

// The dashboard narrowed to a traffic-master state reads the per-state
// rollup (migration 00100): revenue_state_rollup sums, per state, day and
// slot, the slot rows of the accounts revenue_state_members counts under
// that state (one without a member row: "never", as one without a state
// row is), as of the day's last rebuild. An attempt that changes an
// account's state only records it in revenue_state_moves (a trigger), so
// the read adds the rows of the few moved accounts to their new state's
// figures and takes them from their old one's; the fold carries the moves
// into the rollup, and is the first step of every rebuild.
//
// Like the per-slot rollup, it counts every row: the database holds one
// platform's accounts, and a pull writes only theirs (see slotOnly).

// stateOnly reports whether f selects a state of every principal, with or
// without a slot: its days are read from the per-state rollup.
func stateOnly(f revenue.Filter) bool {
	return f.State != "" && f.Principal == ""
}

// stateFigures are the figures of state $1 (slot $2, all when empty) on the
// days $4 ([$3, its last]) as a relation (day, slot, slot_rows, req_succ,
// exposure, clicks, income_fen) whose sums per day and slot are those of
// the rows of the accounts now in the state: the rollup's, less the rows of
// the accounts counted under the state that have moved out of it, plus
// those of the accounts that moved into it. The moved accounts' rows are
// looked up by the primary key (day, appid), a handful of rows a day each
// (revenue_slot_daily has no index by account); OFFSET 0 keeps the lookup
// a subquery run once per account and day, so the planner cannot trade it
// for a scan of the range's partitions, which it would where they are
// small. With canon, of the accounts of the kept principals' group $6 in
// the state, from their rollup (revenue_principal.go).
func stateFigures(canon bool) string {
	rollup, members := `revenue_state_rollup WHERE`, ``
	if canon {
		rollup = `revenue_principal_rollup WHERE canon = $6::text AND`
		members = ` AND mv.appid IN (SELECT appid FROM revenue_principal_members WHERE canon = $6::text)`
	}
	return `
	WITH moved AS MATERIALIZED (
		SELECT mv.appid, CASE WHEN coalesce(st.state, 'never') = $1::text THEN 1 ELSE -1 END AS sign
		FROM (SELECT DISTINCT appid FROM revenue_state_moves) mv
		LEFT JOIN revenue_state_members m ON m.appid = mv.appid
		LEFT JOIN authorizer_state st ON st.appid = mv.appid
		WHERE coalesce(m.state, 'never') <> coalesce(st.state, 'never')
		  AND $1::text IN (coalesce(m.state, 'never'), coalesce(st.state, 'never'))` + members + `),
	figures AS (
		SELECT day, slot, slot_rows, req_succ, exposure, clicks, income_fen
		FROM ` + rollup + ` state = $1::text AND ($2::text = '' OR slot = $2::text) AND day BETWEEN $3::date AND $4::date
		UNION ALL
		SELECT r.day, r.slot, mv.sign, mv.sign * r.req_succ, mv.sign * r.exposure, mv.sign * r.clicks, mv.sign * r.income_fen
		FROM moved mv CROSS JOIN unnest($5::date[]) AS d(day)
		CROSS JOIN LATERAL (
			SELECT day, slot, req_succ, exposure, clicks, income_fen FROM revenue_slot_daily
			WHERE day = d.day AND appid = mv.appid AND ($2::text = '' OR slot = $2::text)
			OFFSET 0) r)
	SELECT day, slot, sum(req_succ), sum(exposure), sum(clicks), sum(income_fen)
	FROM figures GROUP BY day, slot HAVING sum(slot_rows) > 0 ORDER BY day, slot`
}

// stateArgs are stateFigures' parameters, and then more.
func stateArgs(f revenue.Filter, from, to time.Time, more ...any) []any {
	var days []string
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		days = append(days, dateText(d))
	}
	return append([]any{f.State, f.Slot, dateText(from), dateText(to), days}, more...)
}

// stateRollupSlotDays is FilteredSlotDays for a state (and maybe a slot)
// of every principal.
func (s *RevenueStore) stateRollupSlotDays(ctx context.Context, f revenue.Filter, from, to time.Time) ([]revenue.SlotDay, error) {
	rows, err := s.Pool.Query(ctx, stateFigures(false), stateArgs(f, from, to)...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanSlotDay)
}

// FoldStateMoves carries the accounts whose state changed into the
// per-state rollup, unless a rebuild is doing it (it folds first): a
// periodic schedule keeps the moves, which every state-filtered read
// corrects for, few. It returns how many accounts it moved.
func (s *RevenueStore) FoldStateMoves(ctx context.Context) (int, error) {
	var pending bool
	if err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM revenue_state_moves)`).Scan(&pending); err != nil || !pending {
		return 0, err
	}
	var n int
	err := inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		var locked bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtext('revenue_slot_rollup'))`).Scan(&locked); err != nil || !locked {
			return err
		}
		var err error
		n, err = foldStateMoves(ctx, tx)
		return err
	})
	return n, err
}

// accountRows joins every slot row (r) of the account appid (a column of
// the query it joins): its days are its days in revenue_account_daily
// (written with them), found by its index by account; the rows, by the
// primary key (OFFSET 0: see stateFigures).
func accountRows(appid string) string {
	return `
		CROSS JOIN LATERAL (SELECT day FROM revenue_account_daily WHERE appid = ` + appid + ` OFFSET 0) a
		CROSS JOIN LATERAL (
			SELECT slot, req_succ, exposure, clicks, income_fen FROM revenue_slot_daily
			WHERE day = a.day AND appid = ` + appid + ` OFFSET 0) r`
}

// addedSums adds the excluded row's sums to the rollup row s, for an
// INSERT … ON CONFLICT DO UPDATE SET of signed changes.
const addedSums = `slot_rows = s.slot_rows + excluded.slot_rows, req_succ = s.req_succ + excluded.req_succ,
		  exposure = s.exposure + excluded.exposure, clicks = s.clicks + excluded.clicks,
		  income_fen = s.income_fen + excluded.income_fen`

// foldStateMoves moves each moved account's rows (every day) from the
// rollup of the state it is counted under to that of its state now, and
// counts it there; the caller holds the rollups' lock. It returns how
// many accounts changed state.
//
// It takes (deletes) the moves its snapshot sees, then reads the states of
// those accounts in a later statement: a change whose move was taken was
// committed before, so its state is read; one committed since (or not yet)
// left a move of its own for the next fold. Neither waits for the other.
func foldStateMoves(ctx context.Context, tx pgx.Tx) (int, error) {
	rows, err := tx.Query(ctx, `
		WITH taken AS (DELETE FROM revenue_state_moves RETURNING appid)
		SELECT DISTINCT appid FROM taken`)
	if err != nil {
		return 0, err
	}
	taken, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(taken) == 0 {
		return 0, err
	}
	rows, err = tx.Query(ctx, `
		SELECT t.appid, coalesce(m.state, 'never'), coalesce(st.state, 'never')
		FROM unnest($1::text[]) AS t(appid)
		LEFT JOIN revenue_state_members m ON m.appid = t.appid
		LEFT JOIN authorizer_state st ON st.appid = t.appid
		WHERE coalesce(m.state, 'never') <> coalesce(st.state, 'never')`, taken)
	if err != nil {
		return 0, err
	}
	var apps, was, now []string
	var app, from, to string
	if _, err := pgx.ForEachRow(rows, []any{&app, &from, &to}, func() error {
		apps, was, now = append(apps, app), append(was, from), append(now, to)
		return nil
	}); err != nil {
		return 0, err
	}
	if len(apps) == 0 {
		return 0, nil
	}
	// Each moved account's rows, read once, taken from the state it was
	// counted under and added to its state now, in the per-state rollup
	// and in each kept principal's group it belongs to.
	if err := runSteps(ctx, tx, []sqlStep{
		{`WITH moved_rows AS MATERIALIZED (
			SELECT f.appid, x.state, a.day, r.slot, x.sign, x.sign * r.req_succ AS req_succ, x.sign * r.exposure AS exposure,
			       x.sign * r.clicks AS clicks, x.sign * r.income_fen AS income_fen
			FROM unnest($1::text[], $2::text[], $3::text[]) AS f(appid, was, now) ` + accountRows("f.appid") + `
			CROSS JOIN LATERAL (VALUES (f.was, -1), (f.now, 1)) AS x(state, sign)),
		states AS (
			INSERT INTO revenue_state_rollup AS s (state, day, slot, slot_rows, req_succ, exposure, clicks, income_fen)
			SELECT state, day, slot, sum(sign), sum(req_succ), sum(exposure), sum(clicks), sum(income_fen)
			FROM moved_rows GROUP BY state, day, slot
			ON CONFLICT (state, day, slot) DO UPDATE SET ` + addedSums + `)
		INSERT INTO revenue_principal_rollup AS s (canon, state, day, slot, slot_rows, req_succ, exposure, clicks, income_fen)
		SELECT pm.canon, m.state, m.day, m.slot, sum(m.sign), sum(m.req_succ), sum(m.exposure), sum(m.clicks), sum(m.income_fen)
		FROM moved_rows m JOIN revenue_principal_members pm ON pm.appid = m.appid
		GROUP BY 1, 2, 3, 4
		ON CONFLICT (canon, state, day, slot) DO UPDATE SET ` + addedSums, []any{apps, was, now}},
		{`DELETE FROM revenue_state_rollup WHERE state = ANY($1::text[]) AND slot_rows = 0`, []any{was}},
		{`DELETE FROM revenue_principal_rollup WHERE state = ANY($1::text[]) AND slot_rows = 0`, []any{was}},
	}); err != nil {
		return 0, err
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO revenue_state_members (appid, state) SELECT * FROM unnest($1::text[], $2::text[])
		ON CONFLICT (appid) DO UPDATE SET state = excluded.state`, apps, now)
	return len(apps), err
}

// rebuildStateRollup sums the per-state rollup again for [from, to], in
// the transaction (and under the lock) of RebuildSlotRollup, the moves
// folded first.
func rebuildStateRollup(ctx context.Context, tx pgx.Tx, from, to time.Time) error {
	if _, err := foldStateMoves(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM revenue_state_rollup WHERE day BETWEEN $1::date AND $2::date`, dateText(from), dateText(to)); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO revenue_state_rollup (state, day, slot, slot_rows, req_succ, exposure, clicks, income_fen)
		SELECT coalesce(m.state, 'never'), r.day, r.slot, count(*), sum(r.req_succ), sum(r.exposure), sum(r.clicks), sum(r.income_fen)
		FROM revenue_slot_daily r LEFT JOIN revenue_state_members m ON m.appid = r.appid
		WHERE r.day BETWEEN $1::date AND $2::date
		GROUP BY 1, r.day, r.slot`, dateText(from), dateText(to))
	return err
}
