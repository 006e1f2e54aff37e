package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/migrations"
)

// stateOfGroup is the list state an account takes after a finished attempt
// of each group (done depends on the action and is checked separately).
var stateOfGroup = map[traffic.Group]traffic.State{
	traffic.GroupRetry:     traffic.StateRetryLater,
	traffic.GroupMerchant:  traffic.StateNeedsMerchant,
	traffic.GroupPlatform:  traffic.StatePlatformSetup,
	traffic.GroupThreshold: traffic.StateBelowThreshold,
	traffic.GroupOurBug:    traffic.StateOurBug,
	traffic.GroupUnknown:   traffic.StateUnknown,
}

// The database derives states from the same outcome → group table the pages
// show: every outcome of a group leads to that group's state.
func TestStateDerivationFollowsTheOutcomeTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	for _, o := range traffic.Outcomes {
		want, ok := stateOfGroup[o.Group]
		if !ok {
			continue
		}
		for _, prev := range []traffic.State{traffic.StateNever, traffic.StateEligible, traffic.StateOpen} {
			var got string
			require.NoError(t, pool.QueryRow(ctx, `SELECT tm_next_state($1, 'open', $2, NULL)`, string(prev), string(o.Outcome)).Scan(&got))
			if prev == traffic.StateOpen {
				require.Equal(t, "open", got, "open is sticky (%s)", o.Outcome)
			} else {
				require.Equal(t, string(want), got, "%s after %s", o.Outcome, prev)
			}
		}
	}
	for _, tc := range []struct {
		action  string
		outcome traffic.Outcome
		check   *int
		want    traffic.State
	}{
		{"open", traffic.OutcomeSuccess, nil, traffic.StateOpen},
		{"check", traffic.OutcomeSuccess, ptr(1), traffic.StateEligible},
		{"check", traffic.OutcomeSuccess, ptr(0), traffic.StateNotEligible},
		{"check", traffic.OutcomeAlreadyDone, nil, traffic.StateOpen},
		{"open", traffic.OutcomeInProgress, nil, traffic.StateNever},
	} {
		var got string
		require.NoError(t, pool.QueryRow(ctx, `SELECT tm_next_state('never', $1, $2, $3)`, tc.action, string(tc.outcome), tc.check).Scan(&got))
		require.Equal(t, string(tc.want), got, "%s %s", tc.action, tc.outcome)
	}
	for _, s := range traffic.States {
		require.NotEqual(t, "failed", string(s))
	}
}

func ptr(n int) *int { return &n }

// An attempt that recovery marks interrupted leaves the account "outcome
// unknown", not the state it had before, so a run over "never tried"
// accounts does not call it again unawares.
func TestInterruptedAttemptLeavesTheAccountUnknown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := &postgres.TrafficStore{Pool: pool}
	_, err := pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ('wxcomponent0000001');
		INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, account_status) VALUES
		('wx00000000000000a1', 'wxcomponent0000001', true, 'a', 1), ('wx00000000000000a2', 'wxcomponent0000001', true, 'b', 1)`)
	require.NoError(t, err)

	dead := &traffic.Attempt{AppID: "wx00000000000000a1", Action: traffic.ActionOpen, StartedAt: time.Now()}
	require.NoError(t, store.BeginAttempt(ctx, dead, "dead-instance"))
	n, err := store.RecoverInterrupted(ctx, "live-instance")
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	acct, err := store.Account(ctx, dead.AppID)
	require.NoError(t, err)
	require.Equal(t, traffic.StateUnknown, acct.State)
	require.Equal(t, dead.ID, *acct.LastAttemptID)
	require.Equal(t, traffic.OutcomeInterrupted, acct.LastOutcome)

	timeout := &traffic.Attempt{AppID: "wx00000000000000a2", Action: traffic.ActionOpen, StartedAt: time.Now()}
	require.NoError(t, store.BeginAttempt(ctx, timeout, "live-instance"))
	now := time.Now()
	timeout.Status, timeout.Outcome, timeout.FinishedAt = traffic.AttemptCompleted, traffic.OutcomeUnknown, &now
	state, err := store.CompleteAttempt(ctx, timeout)
	require.NoError(t, err)
	acct, err = store.Account(ctx, timeout.AppID)
	require.NoError(t, err)
	require.Equal(t, acct.State, state, "the state returned is the state the trigger wrote")
	require.Equal(t, traffic.StateUnknown, acct.State)

	page, err := store.ListAccounts(ctx, postgres.AccountFilter{State: traffic.StateNever})
	require.NoError(t, err)
	require.Empty(t, page.Accounts, "neither account is \"never tried\" any more")
	require.Equal(t, 2, page.Counts[traffic.StateUnknown])
}

// Migration 00015 backfills the states the old derivation left behind: the
// catch-all "failed" is split by the outcome it recorded, and an account
// whose latest finished attempt was interrupted becomes "outcome unknown".
func TestStateBackfill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	db := stdlib.OpenDBFromPool(pool)
	defer func() { require.NoError(t, db.Close()) }()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	require.NoError(t, err)
	_, err = p.DownTo(ctx, 14)
	require.NoError(t, err)

	_, err = pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ('wxcomponent0000001');
		INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, account_status) VALUES
		('wx00000000000000b1', 'wxcomponent0000001', true, 'a', 1), ('wx00000000000000b2', 'wxcomponent0000001', true, 'b', 1),
		('wx00000000000000b3', 'wxcomponent0000001', true, 'c', 1), ('wx00000000000000b4', 'wxcomponent0000001', true, 'd', 1);
		UPDATE authorizer_state SET state = 'failed', last_outcome = 'retryable', last_code = -202 WHERE appid = 'wx00000000000000b1';
		UPDATE authorizer_state SET state = 'failed', last_outcome = 'provider_config', last_code = 48001 WHERE appid = 'wx00000000000000b2';
		UPDATE authorizer_state SET state = 'failed', last_outcome = 'unknown' WHERE appid = 'wx00000000000000b4'`)
	require.NoError(t, err)
	var checked, lost int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO attempts (appid, action, status, outcome, code, check_status, finished_at)
		VALUES ('wx00000000000000b3', 'check', 'completed', 'success', 0, 1, now()) RETURNING id`).Scan(&checked))
	_, err = pool.Exec(ctx, `UPDATE authorizer_state SET state = 'eligible', last_attempt_id = $1, last_outcome = 'success' WHERE appid = 'wx00000000000000b3'`, checked)
	require.NoError(t, err)
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO attempts (appid, action, status, outcome, finished_at)
		VALUES ('wx00000000000000b3', 'open', 'interrupted', 'interrupted', now()) RETURNING id`).Scan(&lost))

	require.NoError(t, postgres.Migrate(ctx, pool))
	store := &postgres.TrafficStore{Pool: pool}
	for appID, want := range map[string]traffic.State{
		"wx00000000000000b1": traffic.StateRetryLater,
		"wx00000000000000b2": traffic.StatePlatformSetup,
		"wx00000000000000b3": traffic.StateUnknown,
		"wx00000000000000b4": traffic.StateUnknown,
	} {
		acct, err := store.Account(ctx, appID)
		require.NoError(t, err)
		require.Equal(t, want, acct.State, appID)
	}
	acct, err := store.Account(ctx, "wx00000000000000b3")
	require.NoError(t, err)
	require.Equal(t, lost, *acct.LastAttemptID)
}
