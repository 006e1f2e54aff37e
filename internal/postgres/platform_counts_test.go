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
	pool := pgtest.Pool(t)
	comps := []string{"wxcomponent0000001", "wxcomponent0000002"}
	_, err := pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ($1), ($2)`, comps[0], comps[1])
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, account_status)
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
