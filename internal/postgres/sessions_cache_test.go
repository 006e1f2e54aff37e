package postgres_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
)

// Loading a session again decodes neither its cookie nor its data again (a
// gob decoder each, about 210 allocations together), yet each request gets
// values of its own, and a tampered cookie is still no session.
func TestLoadingASessionAgainDecodesNothing(t *testing.T) {
	pool := pgtest.Pool(t)
	st := postgres.NewSessionStore(pool, make([]byte, 32), &sessions.Options{Path: "/"}, 30*time.Minute, 12*time.Hour)
	sess, err := st.New(httptest.NewRequest("GET", "/", nil), "s")
	require.NoError(t, err)
	sess.Values["n"] = int64(7)
	sess.Values["flash"] = "ok\x00Saved."
	rec := httptest.NewRecorder()
	require.NoError(t, st.Save(httptest.NewRequest("GET", "/", nil), rec, sess))
	cookie := rec.Result().Cookies()[0]
	load := func() *sessions.Session {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(cookie)
		s, err := st.New(r, "s")
		require.NoError(t, err)
		require.False(t, s.IsNew)
		return s
	}

	first := load()
	require.Equal(t, map[any]any{"n": int64(7), "flash": "ok\x00Saved."}, first.Values)
	// The page that shows a flash removes it from its own copy only.
	delete(first.Values, "flash")
	first.Values["other"] = "x"
	require.Equal(t, map[any]any{"n": int64(7), "flash": "ok\x00Saved."}, load().Values)

	// What is left is the query and the session itself (about 40 allocations; 250 with the decodes).
	allocs := testing.AllocsPerRun(20, func() { load() })
	require.Less(t, allocs, 100.0, "allocations to load a session again")

	tampered := *cookie
	tampered.Value = cookie.Value[:len(cookie.Value)-2] + "AA"
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&tampered)
	s, err := st.New(r, "s")
	require.NoError(t, err)
	require.True(t, s.IsNew, "a tampered cookie is no session")

	// A remembered cookie still needs its row: once the session is ended,
	// the same cookie, decoded a moment ago, is no session either.
	ended := load()
	ended.Options.MaxAge = -1
	require.NoError(t, st.Save(httptest.NewRequest("GET", "/", nil), httptest.NewRecorder(), ended))
	r = httptest.NewRequest("GET", "/", nil)
	r.AddCookie(cookie)
	s, err = st.New(r, "s")
	require.NoError(t, err)
	require.True(t, s.IsNew, "the cookie of an ended session is no session")
}
