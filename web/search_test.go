package web_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// The search finds exactly the substrings of name, appid, principal and the
// original gh_ id (ASCII in any case), pages both ways in every order with
// its position, and bulk-run selection takes the same rows.
func TestSearchMatchesSubstringsAndPagesBothWays(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	ctx := context.Background()
	_, err := e.App.Pool.Exec(ctx, `INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, user_name, principal_name, account_status, revoked_at, authorized_at)
		SELECT 'wx' || lpad(to_hex(x'ab0000'::int + g), 16, '0'), $1, g % 13 <> 0,
			(ARRAY['花间','鲜果','晨光','Tea','花园'])[1 + g % 5] || (ARRAY['茶舍','日记','Shop','间奏'])[1 + (g / 5) % 4] || ' ' || g,
			'gh_' || lpad(to_hex(g), 12, '0'),
			(ARRAY['深圳花间科技','Dawn Ltd','上海晨光'])[1 + g % 3],
			CASE WHEN g % 11 = 0 THEN 16 ELSE 1 END, CASE WHEN g % 17 = 0 THEN now() END, now()
		FROM generate_series(1, 400) g`, webtest.ComponentAppID)
	require.NoError(t, err)
	_, err = e.App.Pool.Exec(ctx, `UPDATE authorizer_state SET state = (ARRAY['never','failed','open'])[1 + ascii(right(appid, 1)) % 3],
		last_attempt_at = CASE WHEN ascii(right(appid, 1)) % 4 <> 0 THEN timestamptz '2026-01-01 00:00:00+00' + (ascii(right(appid, 1)) % 5) * interval '1 hour' END`)
	require.NoError(t, err)

	type row struct {
		appid, text string
		runnable    bool
	}
	var all []row
	rows, err := e.App.Pool.Query(ctx, `SELECT appid, nick_name || ' ' || appid || ' ' || principal_name || ' ' || user_name,
		is_mini_program AND revoked_at IS NULL FROM authorizers`)
	require.NoError(t, err)
	for rows.Next() {
		var r row
		require.NoError(t, rows.Scan(&r.appid, &r.text, &r.runnable))
		all = append(all, r)
	}
	require.NoError(t, rows.Err())
	lowerASCII := func(s string) string {
		return strings.Map(func(r rune) rune {
			if 'A' <= r && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return r
		}, s)
	}

	runs := &jobs.Runs{Store: &postgres.RunStore{Pool: e.App.Pool}}
	for _, q := range []string{"花间", "花", "间", "间茶", "间奏 1", "tea", "TEASHOP 3", "shop 1", "dawn ltd", "gh_00000000012", "00000000ab0", "b00a",
		"e 3", "花间茶舍 12", "%", "_", "t_a", "u0082b1", "nothing-like-this"} {
		var want, wantRun []string
		for _, r := range all {
			if strings.Contains(lowerASCII(r.text), lowerASCII(q)) {
				want = append(want, r.appid)
				if r.runnable {
					wantRun = append(wantRun, r.appid)
				}
			}
		}
		for _, sortBy := range []string{"", "appid", "recent"} {
			f := postgres.AccountFilter{Q: q, Sort: sortBy, Limit: 7}
			var got []string
			var pages []*postgres.AccountPage
			for {
				p, err := e.App.Attempts.ListAccounts(ctx, f)
				require.NoError(t, err)
				require.Equal(t, len(got)+1, p.Start, "%q %q", q, sortBy)
				require.Equal(t, len(want), p.Matching, "%q", q)
				require.Equal(t, len(wantRun), p.Runnable, "%q", q)
				for _, a := range p.Accounts {
					got = append(got, a.AppID)
				}
				pages = append(pages, p)
				if p.Next == "" {
					break
				}
				f.After = p.Next
			}
			require.ElementsMatch(t, want, got, "search %q sort %q", q, sortBy)
			for i := len(pages) - 1; i > 0; i-- {
				p, err := e.App.Attempts.ListAccounts(ctx, postgres.AccountFilter{Q: q, Sort: sortBy, Limit: 7, Before: pages[i].Prev})
				require.NoError(t, err)
				require.Equal(t, pages[i-1].Accounts, p.Accounts, "%q %q back to page %d", q, sortBy, i)
				require.Equal(t, pages[i-1].Start, p.Start)
			}
		}
		// A state filter narrows the page, not the counts.
		p, err := e.App.Attempts.ListAccounts(ctx, postgres.AccountFilter{Q: q, State: "failed", Limit: 500})
		require.NoError(t, err)
		total := 0
		for _, n := range p.Counts {
			total += n
		}
		require.Equal(t, len(want), total)
		require.Equal(t, p.Counts["failed"], len(p.Accounts))

		ids, err := runs.MatchFilter(ctx, traffic.Filter{Q: q})
		require.NoError(t, err)
		sort.Strings(wantRun)
		require.Equal(t, len(wantRun), len(ids), "bulk-run selection for %q is the list's", q)
		if len(ids) > 0 {
			require.Equal(t, wantRun, ids, "bulk-run selection for %q is the list's", q)
		}
	}
}

var pgxSimple = pgx.QueryExecModeSimpleProtocol

// The search predicate reaches the bigram index, also in a generic plan (a
// prepared statement with the query as a parameter).
func TestSearchUsesTheBigramIndex(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	ctx := context.Background()
	conn, err := e.App.Pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	for _, s := range []string{"SET enable_seqscan = off", "SET plan_cache_mode = force_generic_plan",
		"PREPARE s(text) AS SELECT appid FROM authorizer_state WHERE tm_search_match(search_grams, search_text, $1)"} {
		_, err := conn.Exec(ctx, s)
		require.NoError(t, err)
	}
	for _, q := range []string{"花间", "花", "wx00ab"} {
		var plan []string
		rows, err := conn.Query(ctx, "EXPLAIN EXECUTE s('"+q+"')", pgxSimple)
		require.NoError(t, err)
		for rows.Next() {
			var line string
			require.NoError(t, rows.Scan(&line))
			plan = append(plan, line)
		}
		require.NoError(t, rows.Err())
		require.Contains(t, strings.Join(plan, "\n"), "authorizer_state_grams", q)
	}
	_, err = conn.Exec(ctx, "DEALLOCATE s; RESET enable_seqscan; RESET plan_cache_mode", pgxSimple)
	require.NoError(t, err)
}
