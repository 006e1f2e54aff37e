package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
)

// A query shaped like an appid or a gh_ id is a prefix lookup in the ids'
// btree indexes, not a bigram search; any other text still finds substrings
// of name, principal and ids through the bigrams, and the list page's counts
// come from the same matches.
func TestSearchFindsIdsByPrefixLookup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	_, err := pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ('wxcomponent0000001');
		INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, principal_name, user_name, account_status)
		SELECT 'wx' || lpad(to_hex(x'6e0000000000'::bigint + g), 16, '0'), 'wxcomponent0000001', true,
			'花间日记 ' || g, '深圳科技有限公司', 'gh_' || lpad(to_hex(g), 12, '0'), 1
		FROM generate_series(1, 300) g;
		ANALYZE authorizer_state`)
	require.NoError(t, err)
	store := &postgres.TrafficStore{Pool: pool}
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	// Any index over a scan of 300 rows: what matters is which index the
	// predicate can use.
	_, err = conn.Exec(ctx, "SET enable_seqscan = off")
	require.NoError(t, err)
	for _, tc := range []struct {
		q     string
		want  int
		index string
	}{
		{"wx00006e000000012c", 1, "authorizer_state_search_appid"}, // a whole appid (account 300)
		{" WX00006E00000001", 45, "authorizer_state_search_appid"}, // a prefix, any case: accounts 0x100-0x12c
		{"gh_00000000012c", 1, "authorizer_state_search_gh"},       // a whole original id
		{"gh_0000000001", 45, "authorizer_state_search_gh"},        // a prefix
		{"花间", 300, "authorizer_state_grams"},
		{"12c", 1, "authorizer_state_grams"},    // hex inside both ids of account 300, by bigrams
		{"wx00", 300, "authorizer_state_grams"}, // too short to be an id: a substring like any other
		{"日记 30", 2, "authorizer_state_grams"},  // 30 and 300
	} {
		page, err := store.ListAccounts(ctx, postgres.AccountFilter{Q: tc.q})
		require.NoError(t, err, tc.q)
		require.Equal(t, tc.want, page.Total, tc.q)
		require.Equal(t, tc.want, page.Matching, tc.q)
		require.Len(t, page.Accounts, min(tc.want, 50), tc.q)
		var plan string
		require.NoError(t, conn.QueryRow(ctx, "EXPLAIN (FORMAT JSON) SELECT appid FROM authorizer_state WHERE tm_search_match(search_grams, search_text, '"+tc.q+"')").Scan(&plan))
		require.Contains(t, plan, tc.index, tc.q)
		if tc.index == "authorizer_state_grams" {
			require.NotContains(t, plan, "authorizer_state_search_", "%s: no id lookup for other text", tc.q)
		}
	}
}
