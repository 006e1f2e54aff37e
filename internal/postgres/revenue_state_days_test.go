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

// everyPrincipal is part of the principal of every account addAuthorizers
// makes: narrowed to it too, a state filter takes the per-account path.
const everyPrincipal = "有限公司"

// requireStateDayTotalsEqualOnDemand checks that f's days (f narrows to a
// state) equal the sums of the selected accounts' slot rows day by day.
func requireStateDayTotalsEqualOnDemand(t *testing.T, s *postgres.RevenueStore, f revenue.Filter, from, to time.Time) {
	t.Helper()
	ctx := context.Background()
	all := f
	all.Principal = everyPrincipal
	want, err := s.FilteredDays(ctx, all, from, to)
	require.NoError(t, err)
	got, err := s.FilteredDays(ctx, f, from, to)
	require.NoError(t, err)
	require.Equal(t, want, got, "days %s – %s %+v", from.Format(time.DateOnly), to.Format(time.DateOnly), f)
}

// The days of the dashboard narrowed to a state, with or without a slot,
// are read from the per-state rollup, as its slot days are.
func TestRevenueStateFilterDaysReadTheRollup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := pgtest.Pool(t)
	tracer := &allQueries{}
	pool := tracedPool(t, base.Config().ConnString(), tracer, 1)
	s := &postgres.RevenueStore{Pool: pool, ComponentAppID: "wxcomp"}
	fillRandomDays(t, s, day(t, "2025-12-01"), day(t, "2026-02-10"))
	addAuthorizers(t, pool)
	for _, f := range []revenue.Filter{{State: "open"}, {State: "never", Slot: wechat.SlotBanner}} {
		tracer.take()
		_, err := s.FilteredDays(ctx, f, day(t, "2025-12-20"), day(t, "2026-01-31"))
		require.NoError(t, err)
		sqls, _ := tracer.take()
		require.Len(t, sqls, 1, "%+v", f)
		require.Contains(t, sqls[0], "FROM revenue_state_rollup", "%+v", f)
		require.False(t, strings.Contains(sqls[0], "authorizers a"), "%+v: not the accounts' own rows", f)
	}
}
