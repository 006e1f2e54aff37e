package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/platform"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/secretbox"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// An auto-open is recorded with the `authorized` push when the setting is
// on, and queued once, in the transaction that makes the account ready (its
// profile and its refresh token known, in either order); an Official
// Account is finished at once, and a change of permissions starts nothing.
func TestAutoOpenQueuedOnceWhenReady(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	box, err := secretbox.New(make([]byte, 32))
	require.NoError(t, err)
	var queued []string
	store := &postgres.PlatformStore{Pool: pool, Box: box, QueueAutoOpen: func(_ context.Context, tx pgx.Tx, appID string) error {
		var state string
		if err := tx.QueryRow(ctx, "SELECT state FROM auto_opens WHERE appid = $1", appID).Scan(&state); err != nil {
			return err
		}
		require.Equal(t, "queued", state, "queued inside the transaction that marks it")
		queued = append(queued, appID)
		return nil
	}}
	const component = "wxautoopencomp0001"
	require.NoError(t, store.EnsurePlatform(ctx, component))
	n := 0
	push := func(infoType, appID string) {
		n++
		_, err := store.RecordEvent(ctx, platform.Event{ComponentAppID: component, InfoType: infoType, AuthorizerAppID: appID,
			CreateTime: time.Now(), ReceivedAt: time.Now(), DedupeKey: appID + infoType + string(rune('a'+n)), Decoded: []byte("{}")})
		require.NoError(t, err)
	}
	state := func(appID string) (s, result string) {
		err := pool.QueryRow(ctx, "SELECT state, result FROM auto_opens WHERE appid = $1", appID).Scan(&s, &result)
		if errors.Is(err, pgx.ErrNoRows) {
			return "", ""
		}
		require.NoError(t, err)
		return s, result
	}

	// Off (the default): nothing.
	push("authorized", "wxautoopen00000001")
	s, _ := state("wxautoopen00000001")
	require.Empty(t, s)

	_, err = pool.Exec(ctx, "INSERT INTO platform_settings (component_appid, open_on_authorization) VALUES ($1, true)", component)
	require.NoError(t, err)

	// Profile first (without a refresh token), then the token from sync.
	a := "wxautoopen00000002"
	push("authorized", a)
	s, _ = state(a)
	require.Equal(t, "waiting", s)
	require.NoError(t, store.SaveAuthorizerInfo(ctx, component, wechat.AuthorizerInfo{AppID: a, IsMiniProgram: true}, time.Now()))
	s, _ = state(a)
	require.Equal(t, "waiting", s, "no refresh token yet")
	require.NoError(t, store.SaveAuthorization(ctx, component, a, "refresh@@@a", time.Now(), nil))
	require.Equal(t, []string{a}, queued)
	require.NoError(t, store.SaveAuthorization(ctx, component, a, "refresh@@@a2", time.Now(), nil))
	push("authorized", a)
	push("updateauthorized", a)
	require.Equal(t, []string{a}, queued, "once per authorization")

	// Token first (the redirect), then the profile with its token.
	b := "wxautoopen00000003"
	require.NoError(t, store.SaveAuthorization(ctx, component, b, "refresh@@@b", time.Now(), nil))
	push("authorized", b)
	require.Equal(t, []string{a}, queued, "profile unknown")
	require.NoError(t, store.SaveAuthorizerInfo(ctx, component, wechat.AuthorizerInfo{AppID: b, IsMiniProgram: true}, time.Now()))
	require.Equal(t, []string{a, b}, queued)

	// The push alone: the profile's reply brings the refresh token.
	c := "wxautoopen00000004"
	push("authorized", c)
	require.NoError(t, store.SaveAuthorizerInfo(ctx, component, wechat.AuthorizerInfo{AppID: c, IsMiniProgram: true, RefreshToken: "refresh@@@c"}, time.Now()))
	require.Equal(t, []string{a, b, c}, queued)
	var sealed []byte
	require.NoError(t, pool.QueryRow(ctx, "SELECT refresh_token_enc FROM authorizers WHERE appid = $1", c).Scan(&sealed))
	require.NotContains(t, string(sealed), "refresh@@@c", "sealed at rest")

	// An Official Account is finished without a job.
	oa := "wxautoopen00000005"
	push("authorized", oa)
	require.NoError(t, store.SaveAuthorizerInfo(ctx, component, wechat.AuthorizerInfo{AppID: oa}, time.Now()))
	s, result := state(oa)
	require.Equal(t, "done", s)
	require.Equal(t, "not_mini_program", result)

	// A change of permissions is not an authorization.
	d := "wxautoopen00000006"
	push("updateauthorized", d)
	s, _ = state(d)
	require.Empty(t, s)

	// A revocation ends the authorization; authorizing again starts anew.
	// Its refresh token died with it: the new authorization waits for the
	// new one.
	push("unauthorized", a)
	push("authorized", a)
	s, _ = state(a)
	require.Equal(t, "waiting", s)
	require.NoError(t, store.SaveAuthorizerInfo(ctx, component, wechat.AuthorizerInfo{AppID: a, IsMiniProgram: true, RefreshToken: "refresh@@@a3"}, time.Now()))
	require.Equal(t, []string{a, b, c, a}, queued)
}
