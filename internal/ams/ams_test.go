package ams_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/ams"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const component = "wxtestcomponent0001"

// newEnv builds the service over a real database and the simulator, with
// the given opened Mini Programs, and a clock the test moves.
func newEnv(t *testing.T, apps ...string) (*ams.Service, *wechatsim.Sim, *postgres.AMSStore, *time.Time) {
	t.Helper()
	sim, err := wechatsim.New(wechatsim.Config{ComponentAppID: component, ComponentAppSecret: "secret", Token: "tok", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"})
	require.NoError(t, err)
	require.NoError(t, sim.PushTicket(context.Background()))
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	wc := wechat.NewClient(wechat.Config{BaseURL: srv.URL, ComponentAppID: component, ComponentAppSecret: "secret"})
	pool, err := postgres.Open(context.Background(), pgtest.URL(t))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	ctx := context.Background()
	_, err = pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ($1)`, component)
	require.NoError(t, err)
	for _, id := range apps {
		sim.AddAuthorizer(wechatsim.Authorizer{AppID: id, NickName: "Mini " + id, MiniProgram: true, AccountStatus: 1})
		sim.MarkOpened(id, time.Now().AddDate(0, -1, 0))
		_, err = pool.Exec(ctx, `INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name) VALUES ($1, $2, true, $1)`, id, component)
		require.NoError(t, err)
	}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	clock := &now
	tokens := &wechatsim.Tokens{Sim: sim, Client: wc}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	writer := &traffic.Service{Store: &postgres.TrafficStore{Pool: pool}, WeChat: wc, Tokens: tokens, Component: tokens, InstanceID: "ams-test", Log: log}
	store := &postgres.AMSStore{Pool: pool}
	return &ams.Service{Store: store, WeChat: wc, Tokens: tokens, Writer: writer, Log: log, Now: func() time.Time { return *clock }}, sim, store, clock
}

// Reads are snapshots: fetched once, shown with their time, refetched on
// demand; a write WeChat took drops the snapshot it made stale.
func TestReadsAreSnapshotsThatWritesRefresh(t *testing.T) {
	t.Parallel()
	const app = "wx00000000000e0001"
	svc, _, _, clock := newEnv(t, app)
	ctx := context.Background()

	first, err := svc.Units(ctx, app, false)
	require.NoError(t, err)
	require.NoError(t, first.Err)
	require.Equal(t, *clock, first.FetchedAt)
	before := len(first.Value)

	*clock = clock.Add(time.Hour)
	cached, err := svc.Units(ctx, app, false)
	require.NoError(t, err)
	require.Equal(t, first.FetchedAt.UTC(), cached.FetchedAt.UTC(), "a stored snapshot is served as it was")

	a, id, err := svc.CreateUnit(ctx, ams.Request{AppID: app}, ams.NewUnit{Name: "Reward 1", Slot: wechat.SlotRewardVideo, VideoMin: 6, VideoMax: 30})
	require.NoError(t, err)
	require.Equal(t, traffic.OutcomeSuccess, a.Outcome, a.Message)
	require.NotEmpty(t, id)
	require.JSONEq(t, `{"ad_unit_id": "`+id+`"}`, string(a.Raw))

	after, err := svc.Units(ctx, app, false)
	require.NoError(t, err)
	require.Equal(t, *clock, after.FetchedAt, "the write dropped the stale snapshot")
	require.Len(t, after.Value, before+1)
	found := false
	for _, u := range after.Value {
		found = found || u.AdUnitID == id && u.Name == "Reward 1"
	}
	require.True(t, found, "the new unit is listed")

	_, _, err = svc.CreateUnit(ctx, ams.Request{AppID: app}, ams.NewUnit{Name: "", Slot: wechat.SlotBanner})
	require.Equal(t, core.EINVALID, core.ErrorCode(err), "a unit WeChat would refuse is refused before it is audited")
}

// A bulk operation applied to one account makes one audited write per unit
// it changes and none for units already so.
func TestApplySwitchSlotWritesOncePerUnitThatChanges(t *testing.T) {
	t.Parallel()
	const app = "wx00000000000e0002"
	svc, _, _, _ := newEnv(t, app)
	ctx := context.Background()
	r := ams.Request{AppID: app, Staff: nil}
	for _, name := range []string{"B1", "B2"} {
		a, _, err := svc.CreateUnit(ctx, r, ams.NewUnit{Name: name, Slot: wechat.SlotBanner})
		require.NoError(t, err)
		require.Equal(t, traffic.OutcomeSuccess, a.Outcome, a.Message)
	}
	units, err := svc.Units(ctx, app, true)
	require.NoError(t, err)
	on := 0
	for _, u := range units.Value {
		if u.AdSlot == wechat.SlotBanner && u.On() {
			on++
		}
	}
	require.GreaterOrEqual(t, on, 2)

	params, _ := json.Marshal(ams.SlotSwitch{Slot: wechat.SlotBanner, On: false})
	attempts, err := svc.Apply(ctx, r, ams.OpSwitchSlot, params)
	require.NoError(t, err)
	require.Len(t, attempts, on, "one write per banner unit that was on")
	for _, a := range attempts {
		require.Equal(t, traffic.ActionUnitUpdate, a.Action)
		require.Equal(t, traffic.OutcomeSuccess, a.Outcome, a.Message)
	}
	again, err := svc.Apply(ctx, r, ams.OpSwitchSlot, params)
	require.NoError(t, err)
	require.Empty(t, again, "units already off are not written again")

	_, err = svc.Apply(ctx, r, ams.Op("nonsense"), params)
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
}

// A custom share ratio is pending until the merchant confirms it.
func TestShareRatioIsPendingUntilConfirmed(t *testing.T) {
	t.Parallel()
	const app = "wx00000000000e0003"
	svc, sim, _, _ := newEnv(t, app)
	ctx := context.Background()
	_, err := svc.SetShareRatio(ctx, ams.Request{AppID: app}, ams.ShareRatio{Ratio: 101})
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
	a, err := svc.SetShareRatio(ctx, ams.Request{AppID: app}, ams.ShareRatio{Ratio: 35})
	require.NoError(t, err)
	require.Equal(t, traffic.OutcomeSuccess, a.Outcome, a.Message)
	r, err := svc.Ratio(ctx, app, false)
	require.NoError(t, err)
	require.NoError(t, r.Err)
	require.True(t, r.Value.Pending(), "%+v", r.Value)
	require.Equal(t, 35, r.Value.Custom)

	require.True(t, sim.ConfirmShareRatio(app))
	r, err = svc.Ratio(ctx, app, true)
	require.NoError(t, err)
	require.False(t, r.Value.Pending(), "%+v", r.Value)
	require.Equal(t, 35, r.Value.InEffect)
}
