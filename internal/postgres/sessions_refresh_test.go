package postgres_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
)

// A session's idle time is written at most once a minute, never waits on
// the row's lock, and idle expiry still ends a session left alone.
func TestSessionIdleRefreshAtMostOnceAMinute(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	st := postgres.NewSessionStore(pool, make([]byte, 32), &sessions.Options{Path: "/"}, 30*time.Minute, 12*time.Hour)
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	now := start
	st.Now = func() time.Time { return now }

	// Sign in: a stored session and its cookie.
	sess, err := st.New(httptest.NewRequest("GET", "/", nil), "s")
	require.NoError(t, err)
	sess.Values["k"] = "v"
	rec := httptest.NewRecorder()
	require.NoError(t, st.Save(httptest.NewRequest("GET", "/", nil), rec, sess))
	cookie := rec.Result().Cookies()[0]
	get := func() bool {
		t.Helper()
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(cookie)
		s, err := st.New(r, "s")
		require.NoError(t, err)
		return !s.IsNew && s.Values["k"] == "v"
	}
	row := func() (seen time.Time, version string) {
		t.Helper()
		require.NoError(t, pool.QueryRow(ctx, "SELECT last_seen_at, xmin::text FROM sessions").Scan(&seen, &version))
		return seen.UTC(), version
	}
	_, v0 := row()

	// Requests within the minute read and write nothing.
	for _, d := range []time.Duration{time.Second, 30 * time.Second, 59 * time.Second} {
		now = start.Add(d)
		require.True(t, get())
		seen, v := row()
		require.Equal(t, start, seen)
		require.Equal(t, v0, v, "no new row version: the request did not write")
	}

	// After a minute, the next request refreshes it, once.
	now = start.Add(90 * time.Second)
	require.True(t, get())
	seen, v1 := row()
	require.Equal(t, now, seen)
	require.NotEqual(t, v0, v1)
	now = now.Add(10 * time.Second)
	require.True(t, get())
	_, v := row()
	require.Equal(t, v1, v)

	// A request never waits for a stale row's lock: the holder refreshes it.
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "SELECT 1 FROM sessions FOR UPDATE")
	require.NoError(t, err)
	now = start.Add(10 * time.Minute)
	done := make(chan bool, 1)
	go func() { done <- get() }()
	select {
	case ok := <-done:
		require.True(t, ok)
	case <-time.After(30 * time.Second):
		t.Fatal("reading the session waited for the row lock")
	}
	require.NoError(t, tx.Rollback(ctx))
	seen, _ = row()
	require.Equal(t, start.Add(90*time.Second), seen, "the locked row was left as it was")

	// Idle expiry counts from the last write: a session left alone past the
	// idle timeout ends.
	require.True(t, get())
	last, _ := row()
	require.Equal(t, now, last)
	now = last.Add(29 * time.Minute)
	require.True(t, get())
	now = now.Add(29 * time.Minute)
	require.True(t, get(), "the request at 29 minutes refreshed the idle time")
	now = now.Add(30*time.Minute + time.Second)
	require.False(t, get(), "idle for longer than the timeout: ended")
}
