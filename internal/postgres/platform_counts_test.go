package postgres_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/platform"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
)

// The platform page's counts are kept as accounts are added, changed and
// moved between platforms (nothing deletes one), by concurrent transactions
// that fold now and then; whatever the interleaving, they are what counting the accounts
// gives.
func TestPlatformCountsEqualTheAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, comps := twoPlatforms(t)
	_, err := pool.Exec(ctx, `INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, account_status)
		SELECT 'wx' || lpad(to_hex(g), 16, '0'), $1, true, 'n' || g, 1 FROM generate_series(1, 40) g`, comps[0])
	require.NoError(t, err)
	changes := []string{
		"UPDATE authorizers SET is_mini_program = NOT is_mini_program WHERE appid = $1",
		"UPDATE authorizers SET revoked_at = CASE WHEN revoked_at IS NULL THEN now() END WHERE appid = $1",
		"UPDATE authorizers SET info_synced_at = CASE WHEN info_synced_at IS NULL THEN now() END WHERE appid = $1",
		"UPDATE authorizers SET refresh_token_enc = CASE WHEN refresh_token_enc IS NULL THEN '\\x01'::bytea END WHERE appid = $1",
		"UPDATE authorizers SET component_appid = CASE component_appid WHEN '" + comps[0] + "' THEN '" + comps[1] + "' ELSE '" + comps[0] + "' END WHERE appid = $1",
		"UPDATE authorizers SET nick_name = nick_name || '.' WHERE appid = $1", // counts nothing
		"INSERT INTO authorizers (appid, component_appid) VALUES ($1, '" + comps[1] + "') ON CONFLICT DO NOTHING",
	}
	changeConcurrently(t, pool, 100, 48, "tm_fold_platform_counts", "trafficmaster:platform_account_counts",
		func(tx pgx.Tx, r *rand.Rand, appid string) error {
			_, err := tx.Exec(ctx, changes[r.IntN(len(changes))], appid)
			return err
		})
	for _, comp := range comps {
		requirePlatformCounts(t, pool, comp)
	}
}

// twoPlatforms gives a database with two platforms and their component appids.
func twoPlatforms(t *testing.T) (*pgxpool.Pool, []string) {
	pool := pgtest.Pool(t)
	comps := []string{"wxcomponent0000001", "wxcomponent0000002"}
	_, err := pool.Exec(context.Background(), `INSERT INTO platforms (component_appid) VALUES ($1), ($2)`, comps[0], comps[1])
	require.NoError(t, err)
	return pool, comps
}

// requirePlatformCounts checks the platform page's counts against counting
// the platform's accounts.
func requirePlatformCounts(t *testing.T, pool *pgxpool.Pool, comp string) {
	t.Helper()
	ctx := context.Background()
	var want platform.Status
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*),
		count(*) FILTER (WHERE is_mini_program AND revoked_at IS NULL),
		count(*) FILTER (WHERE NOT is_mini_program AND info_synced_at IS NOT NULL AND revoked_at IS NULL),
		count(*) FILTER (WHERE revoked_at IS NOT NULL),
		count(*) FILTER (WHERE refresh_token_enc IS NULL AND revoked_at IS NULL)
		FROM authorizers WHERE component_appid = $1`, comp).Scan(&want.Authorizers, &want.MiniPrograms, &want.OfficialAccount, &want.Revoked, &want.MissingRefresh))
	got, err := (&postgres.PlatformStore{Pool: pool}).Status(ctx, comp)
	require.NoError(t, err)
	require.Equal(t, [5]int{want.Authorizers, want.MiniPrograms, want.OfficialAccount, want.Revoked, want.MissingRefresh},
		[5]int{got.Authorizers, got.MiniPrograms, got.OfficialAccount, got.Revoked, got.MissingRefresh}, comp)
	require.Positive(t, want.Authorizers, comp)
}

// The count of pushes received is kept as pushes are stored (a retried
// push is stored once), moved between platforms and removed, by concurrent
// transactions that fold now and then; it is what counting them gives.
func TestPlatformEventCountsEqualThePushes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, comps := twoPlatforms(t)
	store := `INSERT INTO wechat_events (component_appid, info_type, authorizer_appid, dedupe_key, raw_body, decrypted_xml, decoded)
		VALUES ($2, 'authorized', $1, $1 || $3::int, '<xml/>', '<xml/>', '{}') ON CONFLICT (dedupe_key) DO NOTHING`
	changes := []func(tx pgx.Tx, r *rand.Rand, appid string) error{
		func(tx pgx.Tx, r *rand.Rand, appid string) error { // a push, or its retry
			_, err := tx.Exec(ctx, store, appid, comps[r.IntN(2)], r.IntN(4))
			return err
		},
		func(tx pgx.Tx, r *rand.Rand, appid string) error { // several pushes in one statement
			_, err := tx.Exec(ctx, `INSERT INTO wechat_events (component_appid, info_type, authorizer_appid, dedupe_key, raw_body, decrypted_xml, decoded)
				SELECT $2, 'updateauthorized', $1, $1 || 'u' || g, '', '', '{}' FROM generate_series(1, 3) g ON CONFLICT (dedupe_key) DO NOTHING`, appid, comps[r.IntN(2)])
			return err
		},
		func(tx pgx.Tx, _ *rand.Rand, appid string) error { // moved to the other platform
			_, err := tx.Exec(ctx, `UPDATE wechat_events SET component_appid = CASE component_appid WHEN $2 THEN $3 ELSE $2 END WHERE authorizer_appid = $1`, appid, comps[0], comps[1])
			return err
		},
		func(tx pgx.Tx, _ *rand.Rand, appid string) error { // changed, but not moved
			_, err := tx.Exec(ctx, `UPDATE wechat_events SET decoded = '{"seen": true}' WHERE authorizer_appid = $1`, appid)
			return err
		},
		func(tx pgx.Tx, r *rand.Rand, appid string) error { // removed
			_, err := tx.Exec(ctx, `DELETE FROM wechat_events WHERE dedupe_key = $1 || $2::int`, appid, r.IntN(4))
			return err
		},
	}
	changeConcurrently(t, pool, 100, 48, "tm_fold_platform_event_counts", "trafficmaster:platform_event_counts",
		func(tx pgx.Tx, r *rand.Rand, appid string) error {
			return changes[r.IntN(len(changes))](tx, r, appid)
		})
	for _, comp := range comps {
		var want int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM wechat_events WHERE component_appid = $1`, comp).Scan(&want))
		require.Positive(t, want, comp)
		got, err := (&postgres.PlatformStore{Pool: pool}).Status(ctx, comp)
		require.NoError(t, err)
		require.Equal(t, want, got.Events, comp)
	}
}
