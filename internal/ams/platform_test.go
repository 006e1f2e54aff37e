package ams_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/ams"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// securityLog keeps what would be recorded.
type securityLog struct{ events []core.SecurityEvent }

func (l *securityLog) RecordSecurity(_ context.Context, ev core.SecurityEvent) error {
	l.events = append(l.events, ev)
	return nil
}

func (l *securityLog) ListSecurity(context.Context, int64, int) ([]core.SecurityEvent, error) {
	return l.events, nil
}

// The platform's default ratio is set by admins only, and each change is
// recorded with the ratio before and after; a viewer's write is refused
// (and audited) before its settings are even looked at.
func TestDefaultRatioAndViewerRefusals(t *testing.T) {
	t.Parallel()
	const app = "wx00000000000e0011"
	svc, sim, store, _ := newEnv(t, app)
	log := &securityLog{}
	svc.ComponentAppID, svc.Security = component, log
	ctx := context.Background()
	admin := &core.Staff{ID: 1, Username: "ada", Role: core.RoleAdmin}
	operator := &core.Staff{ID: 2, Username: "otto", Role: core.RoleOperator}
	viewer := &core.Staff{Username: "vera", Role: core.RoleViewer}
	require.NoError(t, store.Pool.QueryRow(context.Background(), `INSERT INTO staff (username, password_hash, role) VALUES ($1, 'x', $2) RETURNING id`,
		viewer.Username, viewer.Role).Scan(&viewer.ID), "the audit names staff who exist")

	r, err := svc.DefaultRatio(ctx)
	require.NoError(t, err)
	require.Equal(t, 30, r)
	_, err = svc.SetDefaultRatio(ctx, operator, 40, core.Meta{})
	require.Equal(t, core.EFORBIDDEN, core.ErrorCode(err))
	_, err = svc.SetDefaultRatio(ctx, admin, 140, core.Meta{})
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
	require.Empty(t, log.events)
	old, err := svc.SetDefaultRatio(ctx, admin, 40, core.Meta{RequestID: "req-1"})
	require.NoError(t, err)
	require.Equal(t, 30, old)
	require.Len(t, log.events, 1)
	ev := log.events[0]
	require.Equal(t, core.EventShareRatioDefault, ev.Event)
	require.True(t, ev.Success)
	require.Equal(t, "default share ratio 30 -> 40", ev.Detail)
	require.Equal(t, int64(1), *ev.ActorID)
	r, err = svc.DefaultRatio(ctx)
	require.NoError(t, err)
	require.Equal(t, 40, r)
	_, _, pending := sim.ShareRatio(app)
	require.True(t, pending, "a new default waits for each merchant")

	for _, write := range []func() (*traffic.Attempt, error){
		func() (*traffic.Attempt, error) {
			return svc.SetCoverScenes(ctx, ams.Request{AppID: app, Staff: viewer}, ams.CoverScenes{})
		},
		func() (*traffic.Attempt, error) {
			return svc.ChangeBlocklist(ctx, ams.Request{AppID: app, Staff: viewer}, ams.BlockChange{})
		},
		func() (*traffic.Attempt, error) {
			return svc.SetShareRatio(ctx, ams.Request{AppID: app, Staff: viewer}, ams.ShareRatio{Ratio: -5})
		},
	} {
		a, err := write()
		require.Equal(t, core.EFORBIDDEN, core.ErrorCode(err))
		require.NotNil(t, a)
		require.Equal(t, traffic.OutcomeNotAllowed, a.Outcome)
	}
}
