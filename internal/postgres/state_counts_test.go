package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

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
	var g errgroup.Group
	for w := range 8 {
		g.Go(func() error {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range 150 {
				tx, err := pool.Begin(ctx)
				if err != nil {
					return err
				}
				// Two accounts per transaction (in appid order, as a deadlock
				// on the accounts' own rows is not what this tests); every
				// fifth transaction folds too.
				a, b := 1+r.IntN(40), 1+r.IntN(40)
				for _, n := range []int{min(a, b), max(a, b)} {
					appid := fmt.Sprintf("wx%016x", n)
					if _, err := tx.Exec(ctx, "UPDATE authorizer_state SET state = $2, status_class = $3 WHERE appid = $1",
						appid, states[r.IntN(len(states))], classes[r.IntN(len(classes))]); err != nil {
						_ = tx.Rollback(ctx)
						return err
					}
				}
				if r.IntN(5) == 0 {
					if _, err := tx.Exec(ctx, "SELECT tm_fold_state_counts() WHERE pg_try_advisory_xact_lock(hashtextextended('trafficmaster:account_state_counts', 0))"); err != nil {
						_ = tx.Rollback(ctx)
						return err
					}
				}
				if err := tx.Commit(ctx); err != nil {
					return err
				}
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())
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
