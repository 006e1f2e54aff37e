package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// A principal that selects more accounts than are looked up reads the sums
// kept for it: the same dashboard as scanning every account's rows, without
// reading them. An authorizer renamed, added or given rows is folded in; in
// between, the principal scans; a text that no longer selects its group's
// accounts is no longer kept.
func TestRevenueBroadPrincipalReadsItsKeptSums(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := pgtest.Pool(t)
	tracer := &allQueries{}
	pool := tracedPool(t, base.Config().ConnString(), tracer, 1)
	// More than one account is more than are looked up.
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp", FewAccounts: 1, LookupShare: 1000}
	fillVectorDays(t, pool, s, day(t, "2025-12-01"), day(t, "2026-03-10"), day(t, "2026-02-20"))
	choose := func() {
		t.Helper()
		_, _, err := s.ChoosePrincipals(ctx)
		require.NoError(t, err)
	}
	// fold folds until nothing is left, and returns the authorizers and
	// days it folded.
	fold := func() (moved, days int) {
		t.Helper()
		for {
			m, d, err := s.FoldPrincipalMoves(ctx)
			require.NoError(t, err)
			require.LessOrEqual(t, d, 7, "a week's days at most at once")
			if m+d == 0 {
				return moved, days
			}
			moved, days = moved+m, days+d
		}
	}
	choose()
	// The pulls' days wait for the fold (fillVectorDays rebuilt
	// 2025-12-01 – 2026-03-10).
	_, days := fold()
	require.Equal(t, 100, days)
	// The fixtures' states, folded.
	_, err := s.FoldStateMoves(ctx)
	require.NoError(t, err)
	now := func() time.Time { return day(t, "2026-03-11").Add(10 * time.Hour) }
	svc := &revenue.Service{Store: s, ComponentAppID: "wxcomp", Now: now}
	scan := &revenue.Service{Store: &postgres.RevenueStore{Pool: base, ComponentAppID: "wxcomp", FewAccounts: -1}, ComponentAppID: "wxcomp", Now: now}

	canon := func(term string) string {
		t.Helper()
		var c string
		require.NoError(t, base.QueryRow(ctx, `SELECT coalesce((SELECT canon FROM revenue_principal_terms WHERE term = $1), '')`, term).Scan(&c))
		return c
	}
	// 花间有限公司 and 山川有限公司: the parts of one name alone select its
	// accounts, the shared parts every account.
	require.Equal(t, "花", canon("花间"))
	require.Equal(t, "花", canon("花间有限公司"))
	require.Equal(t, "山", canon("川有"))
	require.Equal(t, "公", canon("有限公司"))

	// check compares the dashboard of each filter with the scan's, over the
	// default range and one across a year's end, and reports whether the
	// chart's days were read from the kept sums (no slot row read for them).
	check := func(step string, filters []revenue.Filter, kept bool) {
		t.Helper()
		for _, f := range filters {
			for _, r := range [][2]time.Time{{}, {day(t, "2025-12-20"), day(t, "2026-03-05")}} {
				name := step + " " + f.Principal + " " + f.State + " " + f.Slot + " " + r[0].Format(time.DateOnly)
				want, err := scan.DashboardFor(ctx, r[0], r[1], f)
				require.NoError(t, err)
				require.NotZero(t, want.Totals.Income, name)
				tracer.take()
				got, err := svc.DashboardFor(ctx, r[0], r[1], f)
				require.NoError(t, err)
				require.Equal(t, want, got, name)
				sqls, _ := tracer.take()
				// The chart's and the periods' days: from the sums (and,
				// with a state, the rows of the accounts moved since the
				// states' fold), or from every selected account's rows.
				var rollup, rows bool
				for _, sql := range sqls {
					switch {
					case strings.Contains(sql, "revenue_principal_rollup"):
						rollup = true
					case strings.Contains(sql, "GROUP BY day, slot") && strings.Contains(sql, "revenue_slot_daily"):
						rows = true
					}
				}
				if f.Principal == "有限公司" && f.State == "" {
					// Every name holds it: the ranking reads no position.
					require.NotContains(t, strings.Join(sqls, "\n"), "coalesce(array_agg(p.pos)", name)
				}
				require.Equal(t, kept, rollup, "%s: read the kept sums\n%s", name, strings.Join(sqls, "\n"))
				require.Equal(t, !kept, rows, "%s: scanned the rows\n%s", name, strings.Join(sqls, "\n"))
			}
		}
	}
	flower := []revenue.Filter{{Principal: "花间"}, {Principal: "花间", Slot: wechat.SlotRewardVideo}, {Principal: "有限公司"}}
	check("chosen", flower, true)
	// A principal of a few accounts (at most FewAccounts, looked up by a
	// store that did not choose) whose part is kept reads its sums, and
	// ranks from the vectors rather than from its accounts' rows.
	few := &revenue.Service{Store: &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}, ComponentAppID: "wxcomp", Now: now}
	for _, f := range flower[:2] {
		want, err := scan.DashboardFor(ctx, time.Time{}, time.Time{}, f)
		require.NoError(t, err)
		tracer.take()
		got, err := few.DashboardFor(ctx, time.Time{}, time.Time{}, f)
		require.NoError(t, err)
		require.Equal(t, want, got, "few %+v", f)
		sqls, _ := tracer.take()
		read := strings.Join(sqls, "\n")
		require.Contains(t, read, "revenue_principal_rollup", "few %+v", f)
		require.Contains(t, read, "revenue_rank_vectors", "few %+v", f)
		if f.Slot == "" {
			// (With a slot, the ranked accounts' days of the slot give
			// their other figures, as for every ranking of a slot.)
			require.NotContains(t, read, "revenue_slot_daily", "few %+v", f)
		}
	}
	// With a state: the group's accounts in the state, corrected for those
	// whose state changed since the states' fold, until it.
	withState := []revenue.Filter{{Principal: "花间", State: "open"}, {Principal: "花间", State: "never", Slot: wechat.SlotBanner}, {Principal: "有限公司", State: "open"}}
	check("with a state", withState, true)
	_, err = base.Exec(ctx, `UPDATE authorizer_state SET state = CASE WHEN state = 'open' THEN 'never' ELSE 'open' END
		WHERE appid IN ('wxm08', 'wxm12', 'wxm13')`)
	require.NoError(t, err)
	check("states changed, not folded", withState, true)
	n, err := s.FoldStateMoves(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	check("states changed, folded", append(withState, flower...), true)

	// wxm02 (花间) is renamed 山川: until the fold, 花间 scans.
	_, err = base.Exec(ctx, `UPDATE authorizers SET principal_name = '山川有限公司' WHERE appid = 'wxm02'`)
	require.NoError(t, err)
	check("renamed, not folded", flower, false)
	moved, _ := fold()
	require.Equal(t, 1, moved)
	check("renamed, folded", append(flower, revenue.Filter{Principal: "山川"}), true)

	// wxm04 is renamed 花园有限公司: it holds 花 but not 花间, which no
	// longer selects 花's accounts and scans from then on.
	_, err = base.Exec(ctx, `UPDATE authorizers SET principal_name = '花园有限公司' WHERE appid = 'wxm04'`)
	require.NoError(t, err)
	fold()
	require.Empty(t, canon("花间"))
	require.Equal(t, "花", canon("花"))
	check("split", []revenue.Filter{{Principal: "花"}, {Principal: "有限公司", Slot: wechat.SlotBanner}}, true)
	check("split", []revenue.Filter{{Principal: "花间"}}, false)

	// A new authorizer of 花间, folded in before it has figures, is
	// pulled: until the fold has summed its days again, 花 scans.
	_, err = base.Exec(ctx, `INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, principal_name)
		VALUES ('wxa_later', 'wxcomp', true, 'MP later', '花间有限公司')`)
	require.NoError(t, err)
	moved, _ = fold()
	require.Equal(t, 1, moved)
	from := day(t, "2026-02-01")
	var rows []revenue.SlotDay
	for d := from; !d.After(day(t, "2026-03-10")); d = d.AddDate(0, 0, 1) {
		rows = append(rows, revenue.SlotDay{Day: d, Slot: wechat.SlotBanner, Figures: revenue.Figures{ReqSucc: 9, Exposure: 8, Clicks: 2, Income: 700}})
	}
	require.NoError(t, s.ReplaceAccountDays(ctx, "wxa_later", from, day(t, "2026-03-10"), rows))
	require.NoError(t, s.RebuildSlotRollup(ctx, from, day(t, "2026-03-10"), nil))
	added := []revenue.Filter{{Principal: "花"}, {Principal: "有限公司"}, {Principal: "花", State: "open"}, {Principal: "有限公司", State: "never"}}
	check("added, not summed", added, false)
	moved, days = fold()
	require.Equal(t, [2]int{0, 38}, [2]int{moved, days})
	check("added", added, true)

	// Chosen again, as the daily schedule does: 花间 is kept again.
	choose()
	require.NotEmpty(t, canon("花间"))
	check("chosen again", flower, true)

	// A store that looks up nothing reads no kept sums either.
	_, err = (&postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp", FewAccounts: -1}).FilteredSlotDays(ctx, revenue.Filter{Principal: "花间"}, from, from)
	require.NoError(t, err)
	sqls, _ := tracer.take()
	require.NotContains(t, strings.Join(sqls, "\n"), "revenue_principal_rollup")
}

// Choosing the principals kept reads every name's parts, longer than the
// console's statement timeout at a million accounts (about 12 s): it runs
// with none, bounded by its caller's context (the schedule's timeout). Here
// the console's timeout is 200 ms and one of its statements takes longer.
func TestChoosingPrincipalsOutlastsTheStatementTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := pgtest.Pool(t)
	seed(t, base, account{appid: "wx00000000000e0001", principal: "花间有限公司"}, account{appid: "wx00000000000e0002", principal: "花间有限公司"})
	_, err := base.Exec(ctx, `CREATE FUNCTION slow_terms() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.6); RETURN NULL; END $$;
		CREATE TRIGGER slow_terms AFTER INSERT ON revenue_principal_terms FOR EACH STATEMENT EXECUTE FUNCTION slow_terms()`)
	require.NoError(t, err)
	pool, err := postgres.OpenTimeout(ctx, base.Config().ConnString(), 200*time.Millisecond)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	terms, groups, err := (&postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomponent0000001", FewAccounts: 1}).ChoosePrincipals(ctx)
	require.NoError(t, err)
	require.Positive(t, terms)
	require.Equal(t, 1, groups, "both accounts hold every part of the one name")
	var members int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM revenue_principal_members`).Scan(&members))
	require.Equal(t, 2, members)
	// The console's own statements still stop at its timeout.
	_, err = pool.Exec(ctx, `SELECT pg_sleep(0.6)`)
	require.ErrorContains(t, err, "statement timeout")
}
