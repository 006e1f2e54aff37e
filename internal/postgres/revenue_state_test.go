package postgres_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/migrations"
)

// stateSlotDaysOnDemand sums, day by day and slot by slot, the slot rows of
// the accounts now in f's state (one without a state row is "never"), of
// f's slot (every one when empty) over [from, to]: what the per-state
// rollup must equal.
func stateSlotDaysOnDemand(t *testing.T, pool *pgxpool.Pool, f revenue.Filter, from, to time.Time) []revenue.SlotDay {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT day, slot, sum(req_succ), sum(exposure), sum(clicks), sum(income_fen)
		FROM revenue_slot_daily
		WHERE ($2::text = '' OR slot = $2::text) AND day BETWEEN $3::date AND $4::date AND appid IN (
			SELECT a.appid FROM authorizers a LEFT JOIN authorizer_state st ON st.appid = a.appid
			WHERE coalesce(st.state, 'never') = $1::text)
		GROUP BY day, slot ORDER BY day, slot`, f.State, f.Slot, from.Format(time.DateOnly), to.Format(time.DateOnly))
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (revenue.SlotDay, error) {
		var d revenue.SlotDay
		var inc int64
		err := r.Scan(&d.Day, &d.Slot, &d.ReqSucc, &d.Exposure, &d.Clicks, &inc)
		d.Day = time.Date(d.Day.Year(), d.Day.Month(), d.Day.Day(), 0, 0, 0, 0, revenue.China)
		d.Income, d.PublisherIncome = wechat.Fen(inc), wechat.Fen(inc)
		return d, err
	})
	require.NoError(t, err)
	return out
}

// stateCases are the states the tests narrow to (one nobody is in) and
// the slots (every one, one with rows, one without).
var (
	stateCases     = []string{"never", "open", "failed", "eligible", "not_eligible"}
	stateSlotCases = []string{"", wechat.SlotBanner, wechat.SlotCover}
)

// requireStateDaysEqualOnDemand checks that every state's slot days over
// [from, to], with and without a slot, read through the dashboard's path
// (FilteredSlotDays) and from the rollup directly, equal the sums of the
// selected accounts' slot rows (stateSlotDaysOnDemand). It returns how
// many slot days it found.
func requireStateDaysEqualOnDemand(t *testing.T, s *postgres.RevenueStore, from, to time.Time) int {
	t.Helper()
	ctx := context.Background()
	name := from.Format(time.DateOnly) + " – " + to.Format(time.DateOnly)
	rollup := func(ctx context.Context, f revenue.Filter, from, to time.Time) ([]revenue.SlotDay, error) {
		return postgres.StateRollupSlotDays(s, ctx, f, from, to)
	}
	n := 0
	for _, state := range stateCases {
		for _, slot := range stateSlotCases {
			f := revenue.Filter{State: state, Slot: slot}
			want := stateSlotDaysOnDemand(t, s.Pool, f, from, to)
			for _, slots := range []func(context.Context, revenue.Filter, time.Time, time.Time) ([]revenue.SlotDay, error){s.FilteredSlotDays, rollup} {
				got, err := slots(ctx, f, from, to)
				require.NoError(t, err)
				require.Equal(t, want, got, "slot days %s %+v", name, f)
			}
			n += len(want)
		}
	}
	return n
}

// requireStateRollupIsItsRows checks the rollup against its definition
// once every move is folded: per state, day and slot, the sums of the slot
// rows of the accounts counted under the state (without a member row,
// "never"), where every account is counted under its state now.
func requireStateRollupIsItsRows(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	var moves, wrong int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM revenue_state_moves`).Scan(&moves))
	require.Zero(t, moves, "every move folded")
	require.NoError(t, pool.QueryRow(ctx, `
		SELECT count(*) FROM authorizers a LEFT JOIN authorizer_state st ON st.appid = a.appid
		LEFT JOIN revenue_state_members m ON m.appid = a.appid
		WHERE coalesce(m.state, 'never') <> coalesce(st.state, 'never')`).Scan(&wrong))
	require.Zero(t, wrong, "every account counted under its state")
	require.NoError(t, pool.QueryRow(ctx, `
		SELECT count(*) FROM (
			(SELECT * FROM revenue_state_rollup
			 EXCEPT ALL
			 SELECT coalesce(m.state, 'never'), r.day, r.slot, count(*), sum(r.req_succ), sum(r.exposure), sum(r.clicks), sum(r.income_fen)
			 FROM revenue_slot_daily r LEFT JOIN revenue_state_members m ON m.appid = r.appid GROUP BY 1, 2, 3)
			UNION ALL
			(SELECT coalesce(m.state, 'never'), r.day, r.slot, count(*), sum(r.req_succ), sum(r.exposure), sum(r.clicks), sum(r.income_fen)
			 FROM revenue_slot_daily r LEFT JOIN revenue_state_members m ON m.appid = r.appid GROUP BY 1, 2, 3
			 EXCEPT ALL
			 SELECT * FROM revenue_state_rollup)) x`).Scan(&wrong))
	require.Zero(t, wrong, "rollup rows differing from the sums of their accounts' rows")
}

// setState sets each account's state.
func setState(t *testing.T, pool *pgxpool.Pool, states map[string]string) {
	t.Helper()
	for appid, state := range states {
		_, err := pool.Exec(context.Background(), `UPDATE authorizer_state SET state = $2 WHERE appid = $1`, appid, state)
		require.NoError(t, err)
	}
}

// moved lists the accounts recorded as moved, in appid order.
func moved(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT DISTINCT appid FROM revenue_state_moves ORDER BY appid`)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return out
}

// The dashboard narrowed to a state (and a slot) reads the per-state
// rollup, corrected by the accounts whose state changed since it was last
// folded, and equals the sums of the selected accounts' slot rows to the
// fen, for every state, over the data's edges: before any fold (every
// account counted as never), right after a rebuild, after moves not yet
// folded (one there and back, a new account given a state, one whose
// state row is gone), after the fold, and after a revision rebuilt over
// part of the range.
func TestRevenueStateFilterEqualsOnDemand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	first, last := day(t, "2025-09-14"), day(t, "2026-03-10")
	fillRandomDays(t, s, first, last)
	// The accounts come after the rebuild, so every one is counted as
	// never: a new list row (never) is no move, a state given to it is.
	addAuthorizers(t, pool)
	setState(t, pool, map[string]string{"wxm04": "failed", "wxm05": "failed", "wxm07": "eligible", "wxm_single": "open"})
	var open int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM authorizer_state WHERE state = 'open'`).Scan(&open))
	require.Len(t, moved(t, pool), open+3)
	check := func(stage string) {
		t.Helper()
		t.Log(stage)
		requireRanges(t, edgeRanges, func(from, to time.Time) int { return requireStateDaysEqualOnDemand(t, s, from, to) })
	}
	check("before any fold")

	require.NoError(t, s.RebuildSlotRollup(ctx, first, last, nil))
	requireStateRollupIsItsRows(t, pool)
	check("after a rebuild")

	// A new account, with days pulled (and rebuilt, as a pull's finish
	// does): counted as never, with no move.
	_, err := pool.Exec(ctx, `INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, principal_name)
		VALUES ('wxm_late', 'wxcomp', true, 'MP late', '花间有限公司')`)
	require.NoError(t, err)
	var rows []revenue.SlotDay
	for d := day(t, "2025-12-30"); !d.After(day(t, "2026-01-02")); d = d.AddDate(0, 0, 1) {
		rows = append(rows, revenue.SlotDay{Day: d, Slot: wechat.SlotBanner, Figures: revenue.Figures{ReqSucc: 7, Exposure: 5, Clicks: 2, Income: 13}})
	}
	require.NoError(t, s.ReplaceAccountDays(ctx, "wxm_late", day(t, "2025-12-30"), day(t, "2026-01-02"), rows))
	require.NoError(t, s.RebuildSlotRollup(ctx, day(t, "2025-12-30"), day(t, "2026-01-02"), nil))
	require.Empty(t, moved(t, pool))
	check("a new account")

	// Moves: open → failed, never → open, failed → never, open → failed →
	// open (no change in the end), a state row deleted (never), and the
	// new account given a state.
	setState(t, pool, map[string]string{"wxm01": "failed", "wxm10": "open", "wxm04": "never", "wxm02": "failed"})
	setState(t, pool, map[string]string{"wxm02": "open"})
	_, err = pool.Exec(ctx, `DELETE FROM authorizer_state WHERE appid = 'wxm07'`)
	require.NoError(t, err)
	setState(t, pool, map[string]string{"wxm_late": "open"})
	require.Equal(t, []string{"wxm01", "wxm02", "wxm04", "wxm07", "wxm10", "wxm_late"}, moved(t, pool))
	check("moves not folded")

	n, err := s.FoldStateMoves(ctx)
	require.NoError(t, err)
	require.Equal(t, 5, n, "wxm02 is back where it was counted")
	requireStateRollupIsItsRows(t, pool)
	check("after the fold")
	n, err = s.FoldStateMoves(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left to fold")

	// A revision of January, moves, and the pull's finish over January.
	setState(t, pool, map[string]string{"wxm13": "failed", "wxm_late": "eligible"})
	rows = nil
	for d := day(t, "2026-01-01"); !d.After(day(t, "2026-01-31")); d = d.AddDate(0, 0, 1) {
		rows = append(rows, revenue.SlotDay{Day: d, Slot: wechat.SlotRewardVideo, Figures: revenue.Figures{ReqSucc: 9, Exposure: 8, Clicks: 1, Income: wechat.Fen(d.Day())}})
	}
	require.NoError(t, s.ReplaceAccountDays(ctx, "wxm03", day(t, "2026-01-01"), day(t, "2026-01-31"), rows))
	require.NoError(t, s.RebuildSlotRollup(ctx, day(t, "2026-01-01"), day(t, "2026-01-31"), nil))
	requireStateRollupIsItsRows(t, pool)
	check("after a rebuild of January")
}

// A state change records the account as moved; an update that keeps the
// state (or changes other columns) records nothing, nor does a new
// account's list row (never, as no row is) or the deletion of one that
// is never.
func TestRevenueStateChangeRecordsAMove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	_, err := pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ('wxcomp');
		INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, principal_name)
		VALUES ('wxa1', 'wxcomp', true, 'A', 'P'), ('wxa2', 'wxcomp', true, 'B', 'P'), ('wxa3', 'wxcomp', true, 'C', 'P')`)
	require.NoError(t, err)
	require.Empty(t, moved(t, pool), "new accounts are never, as before")

	setState(t, pool, map[string]string{"wxa1": "never"})
	_, err = pool.Exec(ctx, `UPDATE authorizer_state SET last_outcome = 'success', nick_name = 'A2' WHERE appid = 'wxa1'`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `DELETE FROM authorizer_state WHERE appid = 'wxa2'`)
	require.NoError(t, err)
	require.Empty(t, moved(t, pool), "the same state")

	setState(t, pool, map[string]string{"wxa1": "open", "wxa3": "open"})
	setState(t, pool, map[string]string{"wxa1": "failed"})
	_, err = pool.Exec(ctx, `DELETE FROM authorizer_state WHERE appid = 'wxa3';
		INSERT INTO authorizer_state (appid, state) VALUES ('wxa2', 'eligible')`)
	require.NoError(t, err)
	require.Equal(t, []string{"wxa1", "wxa2", "wxa3"}, moved(t, pool))
}

// A fold neither waits for a state change not committed yet nor reads the
// state before it as the latest: the change's move stays for the next fold,
// which counts the account under its new state.
func TestRevenueStateFoldKeepsUncommittedMoves(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	_, err := pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ('wxcomp');
		INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, principal_name)
		VALUES ('wxa1', 'wxcomp', true, 'A', 'P'), ('wxa2', 'wxcomp', true, 'B', 'P')`)
	require.NoError(t, err)
	require.NoError(t, s.RebuildSlotRollup(ctx, day(t, "2026-01-01"), day(t, "2026-01-01"), nil))
	setState(t, pool, map[string]string{"wxa1": "open"})

	// wxa1's move to open is committed; wxa1 and wxa2 change again in a
	// transaction still open while the fold runs.
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx) //nolint:errcheck // committed below
	_, err = tx.Exec(ctx, `UPDATE authorizer_state SET state = 'failed' WHERE appid IN ('wxa1', 'wxa2')`)
	require.NoError(t, err)
	n, err := s.FoldStateMoves(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "wxa1's committed move")
	var state string
	require.NoError(t, pool.QueryRow(ctx, `SELECT state FROM revenue_state_members WHERE appid = 'wxa1'`).Scan(&state))
	require.Equal(t, "open", state)
	require.NoError(t, tx.Commit(ctx))

	n, err = s.FoldStateMoves(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n, "both moves to failed")
	requireStateRollupIsItsRows(t, pool)
}

// examined sums the rows a plan looked at in the partitions of the tables
// whose names begin with prefix, kept or removed by a filter.
func examined(n planNode, prefix string) (rows float64) {
	if len(n.Relation) >= len(prefix) && n.Relation[:len(prefix)] == prefix {
		rows += (n.ActualRows + n.RemovedFilter + n.RemovedRecheck) * n.Loops
	}
	for _, c := range n.Plans {
		rows += examined(c, prefix)
	}
	return rows
}

// The dashboard narrowed to a state, with or without a slot, reads the
// per-state rollup and, of revenue_slot_daily, only the rows of the
// accounts that moved since the last fold, by their primary key.
func TestRevenueStateFilterReadsTheRollup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := pgtest.Pool(t)
	tracer := &allQueries{}
	pool := tracedPool(t, base.Config().ConnString(), tracer, 1)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	first, last := day(t, "2025-09-14"), day(t, "2026-03-10")
	fillRandomDays(t, s, first, last)
	addAuthorizers(t, pool)
	_, err := pool.Exec(ctx, `UPDATE authorizer_state SET state = 'failed' WHERE right(appid, 1) IN ('5', '6')`)
	require.NoError(t, err)
	require.NoError(t, s.RebuildSlotRollup(ctx, first, last, nil))
	setState(t, pool, map[string]string{"wxm01": "failed", "wxm10": "open"})
	_, err = pool.Exec(ctx, `ANALYZE`)
	require.NoError(t, err)
	from, to := day(t, "2025-12-20"), day(t, "2026-03-05")

	for _, f := range []revenue.Filter{{State: "open"}, {State: "failed", Slot: wechat.SlotBanner}, {State: "never"}} {
		var movedRows, allRows float64
		require.NoError(t, pool.QueryRow(ctx, `
			SELECT count(*) FILTER (WHERE appid IN ('wxm01', 'wxm10')), count(*)
			FROM revenue_slot_daily WHERE day BETWEEN $1 AND $2 AND ($3 = '' OR slot = $3)`, from, to, f.Slot).Scan(&movedRows, &allRows))
		require.Positive(t, movedRows)
		require.Less(t, 10*movedRows, allRows, "%+v: the moved accounts' rows are a few of all", f)
		tracer.take()
		_, err := s.FilteredSlotDays(ctx, f, from, to)
		require.NoError(t, err)
		sqls, args := tracer.take()
		require.Len(t, sqls, 1)
		plan := explainPlan[planNode](t, pool, "ANALYZE", sqls[0], args[0], sqls[0])
		require.Positive(t, rowsRead(plan, "revenue_state_rollup"), "%+v\n%s", f, outline(plan, 0))
		// EXPLAIN rounds the rows per loop (an account and a day).
		require.LessOrEqual(t, examined(plan, "revenue_slot_daily"), 2*movedRows, "%+v: the moved accounts' rows only\n%s", f, outline(plan, 0))
	}
}

// The benchmark's generated ad data has its per-state rollup: on the days
// with slot rows, each state's slot days equal the sums of its accounts'
// rows, and after a state change too.
func TestGeneratedStateRollupEqualsOnDemand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: postgres.GenComponentAppID}
	require.NoError(t, postgres.Generate(ctx, pool, 300, 0, io.Discard))
	_, err := pool.Exec(ctx, `UPDATE authorizer_state SET state = 'open' WHERE appid IN (SELECT appid FROM authorizers ORDER BY appid LIMIT 100)`)
	require.NoError(t, err)
	require.NoError(t, postgres.GenerateRevenue(ctx, pool, 300, 20, 4, io.Discard))
	require.Empty(t, moved(t, pool))
	last := revenue.Day(time.Now()).AddDate(0, 0, -1)
	from := last.AddDate(0, 0, -3)
	check := func() {
		t.Helper()
		for _, state := range []string{"never", "open"} {
			for _, slot := range []string{"", wechat.SlotBanner} {
				f := revenue.Filter{State: state, Slot: slot}
				want := stateSlotDaysOnDemand(t, pool, f, from, last)
				require.NotEmpty(t, want)
				got, err := s.FilteredSlotDays(ctx, f, from, last)
				require.NoError(t, err)
				require.Equal(t, want, got, "%+v", f)
			}
		}
	}
	check()
	setState(t, pool, map[string]string{postgres.GenAppID(150): "open", postgres.GenAppID(3): "never"})
	check()
}

// Migration 00100 comes down without a trace and, going up on a database
// with ad data and accounts in every state, counts every account under its
// state and sums the rollup of every day stored.
func TestMigration00100BackfillsStateRollup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	first, last := day(t, "2025-09-14"), day(t, "2026-03-10")
	fillRandomDays(t, s, first, last)
	addAuthorizers(t, pool)
	db := stdlib.OpenDBFromPool(pool)
	defer func() { require.NoError(t, db.Close()) }()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	require.NoError(t, err)
	_, err = p.DownTo(ctx, 99)
	require.NoError(t, err)
	var left int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relname LIKE 'revenue_state%'`).Scan(&left))
	require.Zero(t, left)
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_proc WHERE proname = 'revenue_state_moved'`).Scan(&left))
	require.Zero(t, left)

	setState(t, pool, map[string]string{"wxm04": "failed", "wxm01": "eligible"})
	_, err = pool.Exec(ctx, `DELETE FROM authorizer_state WHERE appid = 'wxm02'`)
	require.NoError(t, err)
	_, err = p.Up(ctx)
	require.NoError(t, err)
	requireStateRollupIsItsRows(t, pool)
	requireRanges(t, edgeRanges[:4], func(from, to time.Time) int { return requireStateDaysEqualOnDemand(t, s, from, to) })
}
