package postgres_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
)

func TestStaffStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &postgres.StaffStore{Pool: pgtest.Pool(t)}

	a, err := s.CreateStaff(ctx, "Alice", "hash-a", core.RoleAdmin)
	require.NoError(t, err)
	require.NotZero(t, a.ID)
	_, err = s.CreateStaff(ctx, "alice", "hash-b", core.RoleViewer)
	require.Equal(t, core.EINVALID, core.ErrorCode(err), "usernames are unique ignoring case")

	got, hash, err := s.StaffByUsername(ctx, "ALICE")
	require.NoError(t, err)
	require.Equal(t, a.ID, got.ID)
	require.Equal(t, "hash-a", hash)

	_, err = s.StaffByID(ctx, 424242)
	require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))
	require.Equal(t, core.ENOTFOUND, core.ErrorCode(s.SetRole(ctx, 424242, core.RoleViewer)))

	require.NoError(t, s.SetRole(ctx, a.ID, core.RoleOperator))
	require.NoError(t, s.SetDisabled(ctx, a.ID, true))
	got, err = s.StaffByID(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, core.RoleOperator, got.Role)
	require.True(t, got.Disabled)
	n, err := s.CountStaff(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

func TestLoginAttemptsCountWithinTheWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &postgres.StaffStore{Pool: pgtest.Pool(t)}
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	keys := []string{"user-client:bob|10.0.0.1", "client:10.0.0.1", "user:bob"}
	for i := 1; i <= 3; i++ {
		n, err := s.CountLoginAttempt(ctx, keys, t0.Add(time.Duration(i)*time.Minute), t0.Add(-15*time.Minute))
		require.NoError(t, err)
		require.Equal(t, []int{i, i, i}, n)
	}
	n, err := s.CountLoginAttempt(ctx, []string{"client:10.0.0.1"}, t0.Add(15*time.Minute), t0.Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, []int{1}, n, "a window that started at or before the cutoff starts again")
	require.NoError(t, s.ForgetLoginAttempts(ctx, keys[0], keys[1:]))
	n, err = s.CountLoginAttempt(ctx, keys, t0.Add(16*time.Minute), t0.Add(-time.Minute))
	require.NoError(t, err)
	require.Equal(t, []int{1, 1, 3}, n, "a success clears its own counter and gives one attempt back")

	free, err := s.TakeLoginSlot(ctx, "user:bob", t0, t0.Add(10*time.Second))
	require.NoError(t, err)
	require.True(t, free)
	free, err = s.TakeLoginSlot(ctx, "user:bob", t0.Add(5*time.Second), t0.Add(15*time.Second))
	require.NoError(t, err)
	require.False(t, free, "one attempt per interval")

	for i := 0; i < 5; i++ {
		require.NoError(t, s.RecordSecurity(ctx, core.SecurityEvent{Event: "login", Username: "bob", ClientIP: "10.0.0.1"}))
	}
	list, err := s.ListSecurity(ctx, 0, 2)
	require.NoError(t, err)
	require.Len(t, list, 2)
	older, err := s.ListSecurity(ctx, list[1].ID, 10)
	require.NoError(t, err)
	require.Len(t, older, 3, "keyset paging continues below the last ID")
}

func TestSessionStoreLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	staff := &postgres.StaffStore{Pool: pool}
	st, err := staff.CreateStaff(ctx, "carol", "h", core.RoleViewer)
	require.NoError(t, err)
	now := time.Now()
	store := postgres.NewSessionStore(pool, []byte("0123456789abcdef0123456789abcdef"), &sessions.Options{Path: "/", MaxAge: 3600, HttpOnly: true}, 30*time.Minute, 12*time.Hour)
	store.Now = func() time.Time { return now }

	// An anonymous session with no values is not stored.
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	sess, err := store.New(r, "s")
	require.NoError(t, err)
	require.NoError(t, store.Save(r, w, sess))
	require.Empty(t, w.Result().Cookies())

	sess.Values[postgres.StaffIDKey] = st.ID
	w = httptest.NewRecorder()
	require.NoError(t, store.Save(r, w, sess))
	cookie := w.Result().Cookies()[0]
	require.NotContains(t, cookie.Value, sess.ID, "the token is signed and encoded, not raw")

	load := func() *sessions.Session {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(cookie)
		s, err := store.New(r, "s")
		require.NoError(t, err)
		return s
	}
	got := load()
	require.False(t, got.IsNew)
	require.Equal(t, st.ID, got.Values[postgres.StaffIDKey])

	// Only a hash of the token is stored.
	var stored int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM sessions WHERE token_hash = $1::text::bytea", sess.ID).Scan(&stored))
	require.Zero(t, stored)

	now = now.Add(31 * time.Minute)
	require.True(t, load().IsNew, "idle expiry")
	now = now.Add(-31 * time.Minute)

	require.NoError(t, staff.RevokeStaffSessions(ctx, st.ID))
	require.True(t, load().IsNew, "revoked")
	n, err := store.DeleteExpired(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestStaffChangeAndItsLogLineCommitTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &postgres.StaffStore{Pool: pool}
	auth := core.NewAuthService(s, s, s, s)
	st, err := s.CreateStaff(ctx, "dana", "h", core.RoleOperator)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "INSERT INTO sessions (token_hash, staff_id, expires_at) VALUES ('x', $1, now() + interval '1 hour')", st.ID)
	require.NoError(t, err)
	// The security log refuses the line: the change must not happen without it.
	_, err = pool.Exec(ctx, `CREATE FUNCTION refuse_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'log unavailable'; END $$;
		CREATE TRIGGER refuse_log BEFORE INSERT ON security_log FOR EACH ROW EXECUTE FUNCTION refuse_log()`)
	require.NoError(t, err)

	require.ErrorContains(t, auth.SetRole(ctx, nil, st.ID, core.RoleAdmin, core.Meta{}), "log unavailable")
	require.ErrorContains(t, auth.SetDisabled(ctx, nil, st.ID, true, core.Meta{}), "log unavailable")
	got, err := s.StaffByID(ctx, st.ID)
	require.NoError(t, err)
	require.Equal(t, core.RoleOperator, got.Role, "rolled back with its log line")
	require.False(t, got.Disabled)
	var sessions int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM sessions WHERE staff_id = $1", st.ID).Scan(&sessions))
	require.Equal(t, 1, sessions, "the session revocation rolled back too")
	_, err = auth.CreateStaff(ctx, nil, "erik", "a-long-enough-password", core.RoleViewer, core.Meta{})
	require.Error(t, err)
	_, _, err = s.StaffByUsername(ctx, "erik")
	require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))
}
