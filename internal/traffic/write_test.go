package traffic_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// An ad-operation write takes the path opening takes: the pending row, with
// what was asked, is committed before WeChat is called and completed after;
// a second write of the same action for the account is refused while the
// first is in flight, other actions and opening are not; the account's
// traffic-master state is never moved by a write.
func TestWriteIsAuditedLikeOpening(t *testing.T) {
	t.Parallel()
	const app = "wx00000000000d0001"
	w := newWorld(t, pgtest.URL(t), app)
	w.sim.MarkOpened(app, time.Now().AddDate(0, -1, 0))
	s := w.service("instance-w", nil)
	ctx := context.Background()
	staff := &core.Staff{ID: w.staffID(core.RoleOperator), Username: "op", Role: core.RoleOperator}

	called, release := make(chan struct{}), make(chan struct{})
	var unitID string
	type result struct {
		a   *traffic.Attempt
		err error
	}
	done := make(chan result, 1)
	params := map[string]any{"name": "Reward 1", "slot": wechat.SlotRewardVideo}
	go func() {
		a, err := s.Write(ctx, traffic.WriteRequest{AppID: app, Action: traffic.ActionUnitCreate, Params: params, Staff: staff,
			Send: func(ctx context.Context, tok string) ([]byte, error) {
				close(called)
				<-release
				var err error
				unitID, err = w.wc.CreateAdUnit(ctx, tok, wechat.NewAdUnit{Name: "Reward 1", Slot: wechat.SlotRewardVideo, VideoDurationMin: 6, VideoDurationMax: 30})
				return nil, err
			}})
		done <- result{a, err}
	}()
	select {
	case <-called:
	case <-time.After(time.Minute):
		t.Fatal("the write never called WeChat")
	}
	// While WeChat is being called, the audit already holds the pending row and what it asks.
	var status, asked string
	require.NoError(t, w.pool.QueryRow(ctx, `SELECT status, params->>'name' FROM attempts WHERE appid = $1 AND action = 'unit_create'`, app).Scan(&status, &asked))
	require.Equal(t, "pending", status)
	require.Equal(t, "Reward 1", asked)

	// The same action is refused while in flight; another action, and opening, are not.
	second, err := s.Write(ctx, traffic.WriteRequest{AppID: app, Action: traffic.ActionUnitCreate, Staff: staff,
		Send: func(context.Context, string) ([]byte, error) {
			t.Error("a refused write called WeChat")
			return nil, nil
		}})
	require.NoError(t, err)
	require.Equal(t, traffic.AttemptRejected, second.Status)
	require.Equal(t, traffic.OutcomeInProgress, second.Outcome)
	cover, err := s.Write(ctx, traffic.WriteRequest{AppID: app, Action: traffic.ActionCoverStatus, Params: map[string]bool{"on": false}, Staff: staff,
		Send: func(ctx context.Context, tok string) ([]byte, error) {
			return nil, w.wc.SetCoverAdposStatus(ctx, tok, false)
		}})
	require.NoError(t, err)
	require.Equal(t, traffic.AttemptCompleted, cover.Status)
	require.Equal(t, traffic.OutcomeSuccess, cover.Outcome, cover.Message)
	check, _, err := s.Attempt(ctx, traffic.AttemptRequest{AppID: app, Action: traffic.ActionCheck, Staff: staff})
	require.NoError(t, err)
	require.Equal(t, traffic.AttemptCompleted, check.Status, "opening's lane is its own")

	close(release)
	r := <-done
	require.NoError(t, r.err)
	require.Equal(t, traffic.OutcomeSuccess, r.a.Outcome, r.a.Message)
	require.NotEmpty(t, unitID)
	require.JSONEq(t, `{"name": "Reward 1", "slot": "`+wechat.SlotRewardVideo+`"}`, string(r.a.Params))
	require.Equal(t, "Ad unit created.", traffic.Explain(r.a).Sentence)

	// Only the check moved the state: the writes' completions left it alone.
	var lastAttempt int64
	require.NoError(t, w.pool.QueryRow(ctx, `SELECT last_attempt_id FROM authorizer_state WHERE appid = $1`, app).Scan(&lastAttempt))
	require.Equal(t, check.ID, lastAttempt)
}

// A viewer's write is refused before anything is sent, and the refusal is audited.
func TestWriteRefusesAViewer(t *testing.T) {
	t.Parallel()
	const app = "wx00000000000d0002"
	w := newWorld(t, pgtest.URL(t), app)
	s := w.service("instance-v", nil)
	viewer := &core.Staff{ID: w.staffID(core.RoleViewer), Username: "viewer", Role: core.RoleViewer}
	a, err := s.Write(context.Background(), traffic.WriteRequest{AppID: app, Action: traffic.ActionBlockIndustry, Params: []string{"games"}, Staff: viewer,
		Send: func(context.Context, string) ([]byte, error) {
			t.Error("a viewer's write called WeChat")
			return nil, nil
		}})
	require.Equal(t, core.EFORBIDDEN, core.ErrorCode(err))
	require.Equal(t, traffic.AttemptRejected, a.Status)
	require.Equal(t, traffic.OutcomeNotAllowed, a.Outcome)
	status, outcome := w.row(a.ID)
	require.Equal(t, "rejected", status)
	require.Equal(t, "not_allowed", outcome)

	_, err = s.Write(context.Background(), traffic.WriteRequest{AppID: app, Action: traffic.ActionOpen, Staff: viewer,
		Send: func(context.Context, string) ([]byte, error) { return nil, nil }})
	require.Equal(t, core.EINVALID, core.ErrorCode(err), "opening is not a write")
}

// A write WeChat may have received (a timeout) is unknown, never failed; one
// WeChat refused carries its code; the share ratio goes with the component
// token (WeChat refuses an authorizer token there).
func TestWriteOutcomes(t *testing.T) {
	t.Parallel()
	const app = "wx00000000000d0003"
	w := newWorld(t, pgtest.URL(t), app)
	w.sim.MarkOpened(app, time.Now().AddDate(0, -1, 0))
	s := w.service("instance-o", nil)
	ctx := context.Background()

	timeout, err := s.Write(ctx, traffic.WriteRequest{AppID: app, Action: traffic.ActionCoverScene, Params: []int{1001},
		Send: func(context.Context, string) ([]byte, error) {
			return nil, &wechat.TransportError{Op: "post", Err: context.DeadlineExceeded, Timeout: true}
		}})
	require.NoError(t, err)
	require.Equal(t, traffic.OutcomeUnknown, timeout.Outcome)

	refused, err := s.Write(ctx, traffic.WriteRequest{AppID: app, Action: traffic.ActionBlocklist,
		Send: func(context.Context, string) ([]byte, error) {
			return nil, &wechat.Error{Code: 2035, Message: "too many"}
		}})
	require.NoError(t, err)
	require.NotNil(t, refused.Code)
	require.Equal(t, 2035, *refused.Code)
	require.Equal(t, traffic.OutcomeOfCode(2035), refused.Outcome)

	var sawToken string
	ratio, err := s.Write(ctx, traffic.WriteRequest{AppID: app, Action: traffic.ActionShareRatio, Params: map[string]int{"ratio": 35},
		Send: func(ctx context.Context, tok string) ([]byte, error) {
			sawToken = tok
			return nil, w.wc.SetCustomShareRatio(ctx, tok, app, 35)
		}})
	require.NoError(t, err)
	require.Equal(t, traffic.OutcomeSuccess, ratio.Outcome, ratio.Message)
	authTok, err := s.Tokens.AuthorizerAccessToken(ctx, app)
	require.NoError(t, err)
	require.NotEqual(t, authTok, sawToken, "the share ratio is set with the component token")
	_, pending, isPending := w.sim.ShareRatio(app)
	require.True(t, isPending, "WeChat holds the ratio until the merchant confirms it")
	require.Equal(t, 35, pending)
	var we *wechat.Error
	require.False(t, errors.As(err, &we))
}

// staffID inserts a staff member with role and returns its id (the audit row refers to it).
func (w *world) staffID(role core.Role) int64 {
	var id int64
	require.NoError(w.t, w.pool.QueryRow(context.Background(), `INSERT INTO staff (username, password_hash, role) VALUES ($1, 'x', $2) RETURNING id`,
		"staff-"+string(role), role).Scan(&id))
	return id
}
