package web_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// A custom range whose top accounts run past the statement timeout says so
// (the page is too slow to answer), not "internal error". The per-account
// running totals are locked by another transaction so the query waits for
// certain.
func TestRevenueCustomRangePastTimeoutSaysSo(t *testing.T) {
	t.Parallel()
	c := viewerPastTimeout(t, "revenue_account_cumulative")
	r := c.Get("/revenue?from=2026-01-03&to=2026-02-17")
	require.Equal(t, http.StatusServiceUnavailable, r.StatusCode)
	require.Equal(t, "Too slow to answer", r.Text(".empty h3"))
	require.Contains(t, r.Text(".empty"), "choose a shorter one")
}

// A dashboard narrowed to a principal that runs past the statement timeout
// asks for more of the name or a shorter range, in the viewer's language:
// its fixed periods are as slow as a custom range, so pointing to them would
// be wrong. The slot rows are locked by another transaction so the query
// waits for certain.
func TestRevenuePrincipalPastTimeoutAsksForMoreOfTheName(t *testing.T) {
	t.Parallel()
	c := viewerPastTimeout(t, "revenue_slot_daily")
	for _, path := range []string{"/revenue?principal=%E5%85%AC%E5%8F%B8", "/revenue.csv?principal=%E5%85%AC%E5%8F%B8"} {
		r := c.Get(path)
		require.Equal(t, http.StatusServiceUnavailable, r.StatusCode, path)
		require.Equal(t, "Too slow to answer", r.Text(".empty h3"), path)
		require.Contains(t, r.Text(".empty"), "type more of its name, or choose a shorter range", path)
		require.NotContains(t, r.Text(".empty"), "fixed periods answer at once", path)
	}
	r := zhClient(c).Get("/revenue?principal=%E5%85%AC%E5%8F%B8")
	require.Equal(t, http.StatusServiceUnavailable, r.StatusCode)
	require.Contains(t, r.Text(".empty"), "请输入更完整的主体名称")
}

// viewerPastTimeout signs in a viewer on a console whose statement timeout
// is a second, with table locked by another transaction until the test
// ends, so any query reading it runs past the timeout.
func viewerPastTimeout(t *testing.T, table string) *webtest.Client {
	t.Helper()
	ctx := context.Background()
	e := webtest.New(t, webtest.Options{Env: map[string]string{"STATEMENT_TIMEOUT": "1s"}})
	c, _ := e.Login(core.RoleViewer)
	tx, err := e.App.Pool.Begin(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	_, err = tx.Exec(ctx, `LOCK TABLE `+table+` IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)
	return c
}
