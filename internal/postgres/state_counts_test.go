package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
)

// Concurrent state changes append their deltas without waiting on each other
// and fold now and then; whatever the interleaving, the counts equal a recount.
func TestStateCountsUnderConcurrentChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	_, err := pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ('wxcomponent0000001');
		INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, account_status)
		SELECT 'wx' || lpad(to_hex(g), 16, '0'), 'wxcomponent0000001', true, 'n' || g, 1 FROM generate_series(1, 40) g`)
	require.NoError(t, err)
	states := []string{"never", "eligible", "not_eligible", "open", "retry_later", "needs_merchant", "unknown"}
	classes := []string{"normal", "abnormal", "revoked", "official"}
	changeConcurrently(t, pool, 150, 40, "tm_fold_state_counts", "trafficmaster:account_state_counts",
		func(tx pgx.Tx, r *rand.Rand, appid string) error {
			_, err := tx.Exec(ctx, "UPDATE authorizer_state SET state = $2, status_class = $3 WHERE appid = $1",
				appid, states[r.IntN(len(states))], classes[r.IntN(len(classes))])
			return err
		})
	var diff int
	require.NoError(t, pool.QueryRow(ctx, `
		SELECT count(*) FROM (
		    SELECT status_class, state, sum(n) AS n FROM account_state_counts GROUP BY 1, 2 HAVING sum(n) <> 0
		    EXCEPT SELECT status_class, state, count(*) FROM authorizer_state GROUP BY 1, 2) x`).Scan(&diff))
	require.Zero(t, diff)
	var total int64
	require.NoError(t, pool.QueryRow(ctx, "SELECT sum(n)::bigint FROM account_state_counts").Scan(&total))
	require.EqualValues(t, 40, total)
}

// changeConcurrently runs rounds transactions in each of 8 workers, each
// changing two of the accounts numbered 1 to accounts (in appid order, as a
// deadlock on the accounts' own rows is not what the count tests test)
// with change; every fifth transaction also calls the fold function when it
// can take its advisory lock, as the count triggers do now and then.
func changeConcurrently(t *testing.T, pool *pgxpool.Pool, rounds, accounts int, fold, lock string, change func(tx pgx.Tx, r *rand.Rand, appid string) error) {
	t.Helper()
	ctx := context.Background()
	var g errgroup.Group
	for w := range 8 {
		g.Go(func() error {
			r := rand.New(rand.NewPCG(uint64(w), uint64(rounds)))
			for range rounds {
				err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					a, b := 1+r.IntN(accounts), 1+r.IntN(accounts)
					for _, n := range []int{min(a, b), max(a, b)} {
						if err := change(tx, r, fmt.Sprintf("wx%016x", n)); err != nil {
							return err
						}
					}
					if r.IntN(5) == 0 {
						_, err := tx.Exec(ctx, "SELECT "+fold+"() WHERE pg_try_advisory_xact_lock(hashtextextended($1, 0))", lock)
						return err
					}
					return nil
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())
}
