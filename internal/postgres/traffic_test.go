package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// An attempt is inserted pending (one per account at a time), completed
// once with everything WeChat said, and moves the account's state; a
// refusal is recorded finished.
func TestAttemptBeginAndComplete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	seed(t, pool, account{appid: "wx000000000000a001", name: "甲"}, account{appid: "wx000000000000a002", name: "乙"})
	store := &postgres.TrafficStore{Pool: pool}

	started := time.Now().Add(-time.Second).Truncate(time.Microsecond)
	a := &traffic.Attempt{AppID: "wx000000000000a001", Action: traffic.ActionOpen, RequestID: "req-1", ClientIP: "192.0.2.1", StartedAt: started}
	require.NoError(t, store.BeginAttempt(ctx, a, "instance-1"))
	require.NotZero(t, a.ID)
	require.Equal(t, traffic.AttemptPending, a.Status)
	second := &traffic.Attempt{AppID: a.AppID, Action: traffic.ActionCheck, StartedAt: time.Now()}
	require.ErrorIs(t, store.BeginAttempt(ctx, second, "instance-2"), traffic.ErrInFlight, "one attempt in flight per account")
	other := &traffic.Attempt{AppID: "wx000000000000a002", Action: traffic.ActionCheck, StartedAt: time.Now()}
	require.NoError(t, store.BeginAttempt(ctx, other, "instance-2"), "another account is not held up")

	got, err := store.Attempt(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, traffic.AttemptPending, got.Status)
	require.Equal(t, "req-1", got.RequestID)
	require.Equal(t, "甲", got.AccountName)

	finished := time.Now().Truncate(time.Microsecond)
	a.Status, a.Outcome, a.Code, a.Message, a.FinishedAt = traffic.AttemptCompleted, traffic.OutcomeSuccess, new(int), "ok", &finished
	a.Raw, a.LatencyMS = []byte(`{"errcode":0,"errmsg":"ok"}`), 120
	_, err = store.CompleteAttempt(ctx, a)
	require.NoError(t, err)
	got, err = store.Attempt(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, traffic.AttemptCompleted, got.Status)
	require.Equal(t, traffic.OutcomeSuccess, got.Outcome)
	require.Equal(t, 0, *got.Code)
	require.Equal(t, "ok", got.Message)
	require.JSONEq(t, `{"errcode":0,"errmsg":"ok"}`, string(got.Raw))
	require.Equal(t, 120, got.LatencyMS)
	require.True(t, finished.Equal(*got.FinishedAt))
	require.True(t, started.Equal(got.StartedAt))

	acct, err := store.Account(ctx, a.AppID)
	require.NoError(t, err)
	require.Equal(t, traffic.StateOpen, acct.State, "the completion moved the state in the same statement")
	require.Equal(t, a.ID, *acct.LastAttemptID)

	// Completing twice is refused: the row is no longer pending.
	_, err = store.CompleteAttempt(ctx, a)
	require.True(t, errors.Is(err, traffic.ErrNotPending), "%v", err)

	// Once completed, the account takes another attempt.
	again := &traffic.Attempt{AppID: a.AppID, Action: traffic.ActionCheck, StartedAt: time.Now()}
	require.NoError(t, store.BeginAttempt(ctx, again, "instance-1"))

	rejected := &traffic.Attempt{AppID: "wx000000000000a002", Action: traffic.ActionOpen, StartedAt: time.Now(), FinishedAt: &finished,
		Outcome: traffic.OutcomeNotAllowed, Message: "Your role does not allow this."}
	require.NoError(t, store.RecordRejected(ctx, rejected))
	got, err = store.Attempt(ctx, rejected.ID)
	require.NoError(t, err)
	require.Equal(t, traffic.AttemptRejected, got.Status)
	require.Equal(t, traffic.OutcomeNotAllowed, got.Outcome)

	_, err = store.Attempt(ctx, 1<<40)
	require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))
	_, err = store.Account(ctx, "wx000000000000a999")
	require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))
}

// The list's keyset pages walk every account once in name order (pinyin),
// both ways, with their positions, and the counts per state follow the
// filter's search and status but not its state.
func TestAccountPageAndCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	seed(t, pool, filterAccounts...)
	store := &postgres.TrafficStore{Pool: pool}

	var walked []string
	f := postgres.AccountFilter{Limit: 3}
	var pages []*postgres.AccountPage
	for {
		p, err := store.ListAccounts(ctx, f)
		require.NoError(t, err)
		require.Equal(t, len(walked)+1, p.Start)
		for _, a := range p.Accounts {
			walked = append(walked, a.NickName)
		}
		pages = append(pages, p)
		if p.Next == "" {
			break
		}
		f.After = p.Next
	}
	// Pinyin order: cha (茶), hua (花…), jian (间奏), then Latin letters last.
	require.Equal(t, []string{"茶", "花间茶舍", "花间茶舍 2", "花间茶舍 旧", "花间公众号", "花园小铺", "间奏咖啡", "Tea_Shop 100%"}, walked)
	require.Len(t, pages, 3)
	require.Empty(t, pages[0].Prev)
	back, err := store.ListAccounts(ctx, postgres.AccountFilter{Limit: 3, Before: pages[2].Prev})
	require.NoError(t, err)
	require.Equal(t, pages[1].Accounts, back.Accounts, "walking back finds the page before")
	require.Equal(t, 4, back.Start)

	require.Equal(t, map[traffic.State]int{traffic.StateNever: 3, traffic.StateNeedsMerchant: 2, traffic.StateOpen: 1,
		traffic.StateBelowThreshold: 1, traffic.StateUnknown: 1}, pages[0].Counts)
	require.Equal(t, 8, pages[0].Total)
	require.Equal(t, 8, pages[0].Matching)
	require.Equal(t, 6, pages[0].Runnable)

	sc, err := store.CountStates(ctx, postgres.AccountFilter{Q: "花间", State: traffic.StateNever})
	require.NoError(t, err)
	require.Equal(t, map[traffic.State]int{traffic.StateNever: 3, traffic.StateNeedsMerchant: 1}, sc.Counts, "the chips ignore the state")
	require.Equal(t, 4, sc.Total)
	require.Equal(t, 3, sc.Matching)
	require.Equal(t, 1, sc.Runnable)

	sc, err = store.CountStates(ctx, postgres.AccountFilter{Status: "abnormal"})
	require.NoError(t, err)
	require.Equal(t, map[traffic.State]int{traffic.StateNeedsMerchant: 1, traffic.StateUnknown: 1}, sc.Counts)
}
