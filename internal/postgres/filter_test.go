package postgres_test

import (
	"context"
	"net/url"
	"sort"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// account is a row for seed: an authorized account and its state.
type account struct {
	appid, name, principal string
	official, revoked      bool
	status                 int // WeChat's account_status; 0 means 1 (normal)
	state                  traffic.State
}

// seed inserts a platform and the accounts, with their states.
func seed(t *testing.T, pool *pgxpool.Pool, accounts ...account) {
	t.Helper()
	ctx := context.Background()
	_, err := pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ('wxcomponent0000001') ON CONFLICT DO NOTHING`)
	require.NoError(t, err)
	for _, a := range accounts {
		if a.status == 0 {
			a.status = 1
		}
		_, err := pool.Exec(ctx, `INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, principal_name, user_name, account_status, revoked_at)
			VALUES ($1, 'wxcomponent0000001', $2, $3, $4, 'gh_' || right($1, 8), $5, CASE WHEN $6 THEN now() END)`,
			a.appid, !a.official, a.name, a.principal, a.status, a.revoked)
		require.NoError(t, err)
		if a.state != "" {
			_, err = pool.Exec(ctx, `UPDATE authorizer_state SET state = $2 WHERE appid = $1`, a.appid, string(a.state))
			require.NoError(t, err)
		}
	}
}

// filterAccounts are accounts that tell the filters apart: Chinese names
// sharing characters, every status class, and several states.
var filterAccounts = []account{
	{appid: "wx000000000000f001", name: "花间茶舍", principal: "花间有限公司", state: traffic.StateNever},
	{appid: "wx000000000000f002", name: "花间茶舍 2", principal: "花间有限公司", state: traffic.StateNeedsMerchant},
	{appid: "wx000000000000f003", name: "花园小铺", principal: "Dawn Ltd", state: traffic.StateNeedsMerchant, status: 14},
	{appid: "wx000000000000f004", name: "间奏咖啡", principal: "Dawn Ltd", state: traffic.StateOpen},
	{appid: "wx000000000000f005", name: "花间茶舍 旧", principal: "花间有限公司", state: traffic.StateNever, revoked: true},
	{appid: "wx000000000000f006", name: "花间公众号", principal: "花间有限公司", official: true},
	{appid: "wx000000000000f007", name: "Tea_Shop 100%", principal: "Dawn Ltd", state: traffic.StateBelowThreshold},
	{appid: "wx000000000000f008", name: "茶", principal: "", state: traffic.StateUnknown, status: 19},
}

// The Mini Programs page and a bulk run over the same filter take the same
// accounts: the run takes exactly the rows the page lists that are neither
// revoked nor Official Accounts, as many as the page's Runnable count says,
// for searches in Chinese and ASCII (LIKE's metacharacters taken
// literally), states and account statuses alike. Each filter is read from
// a query by ParseFilter, as the page and the run form are.
func TestPageAndRunSelectTheSameAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	seed(t, pool, filterAccounts...)
	pages := &postgres.TrafficStore{Pool: pool}
	runs := &postgres.RunStore{Pool: pool}

	for _, tc := range []struct {
		query url.Values
		// page and run are the suffixes of the appids each must take.
		page, run []string
	}{
		{url.Values{}, []string{"001", "002", "003", "004", "005", "006", "007", "008"}, []string{"001", "002", "003", "004", "007", "008"}},
		{url.Values{"q": {"花间"}}, []string{"001", "002", "005", "006"}, []string{"001", "002"}},
		{url.Values{"q": {" 花 "}}, []string{"001", "002", "003", "005", "006"}, []string{"001", "002", "003"}},
		{url.Values{"q": {"间"}}, []string{"001", "002", "004", "005", "006"}, []string{"001", "002", "004"}},
		{url.Values{"q": {"茶舍 2"}}, []string{"002"}, []string{"002"}},
		{url.Values{"q": {"dawn"}}, []string{"003", "004", "007"}, []string{"003", "004", "007"}},
		{url.Values{"q": {"100%"}}, []string{"007"}, []string{"007"}},
		{url.Values{"q": {"a_s"}}, []string{"007"}, []string{"007"}},
		{url.Values{"q": {"%"}}, []string{"007"}, []string{"007"}},
		{url.Values{"q": {"gh_0000f008"}}, []string{"008"}, []string{"008"}},
		{url.Values{"state": {"needs_merchant"}}, []string{"002", "003"}, []string{"002", "003"}},
		{url.Values{"state": {"never"}}, []string{"001", "005", "006"}, []string{"001"}},
		{url.Values{"status": {"normal"}}, []string{"001", "002", "004", "007"}, []string{"001", "002", "004", "007"}},
		{url.Values{"status": {"abnormal"}}, []string{"003", "008"}, []string{"003", "008"}},
		{url.Values{"status": {"revoked"}}, []string{"005"}, nil},
		{url.Values{"status": {"official"}}, []string{"006"}, nil},
		{url.Values{"q": {"花"}, "state": {"needs_merchant"}, "status": {"abnormal"}}, []string{"003"}, []string{"003"}},
		{url.Values{"q": {"花间"}, "state": {"never"}, "status": {"normal"}, "sort": {"recent"}}, []string{"001"}, []string{"001"}},
		{url.Values{"q": {"nothing-like-this"}}, nil, nil},
	} {
		name := tc.query.Encode()
		f, err := traffic.ParseFilter(tc.query)
		require.NoError(t, err, name)
		f.Limit = 100

		page, err := pages.ListAccounts(ctx, postgres.AccountFilter(f))
		require.NoError(t, err, name)
		var listed, runnable []string
		for _, a := range page.Accounts {
			listed = append(listed, a.AppID)
			if a.Refusal() == "" {
				runnable = append(runnable, a.AppID)
			}
		}
		sort.Strings(listed)
		sort.Strings(runnable)
		require.Equal(t, appids(tc.page), listed, "page for %s", name)
		require.Equal(t, page.Matching, len(page.Accounts), "matching for %s", name)

		ids, err := runs.MatchFilter(ctx, f)
		require.NoError(t, err, name)
		require.Equal(t, appids(tc.run), nilIfEmpty(ids), "run for %s", name)
		require.Equal(t, nilIfEmpty(runnable), nilIfEmpty(ids), "the run takes the page's runnable rows for %s", name)
		require.Equal(t, page.Runnable, len(ids), "the page's runnable count for %s", name)

		counts, err := pages.CountStates(ctx, postgres.AccountFilter(f))
		require.NoError(t, err, name)
		require.Equal(t, len(ids), counts.Runnable, "the counts' runnable for %s", name)
		require.Equal(t, page.Matching, counts.Matching, "the counts' matching for %s", name)
	}
}

func appids(suffixes []string) []string {
	var out []string
	for _, s := range suffixes {
		out = append(out, "wx000000000000f"+s)
	}
	return out
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
