package postgres_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
)

// Loading a session again decodes neither its cookie nor its data again (a
// gob decoder each, about 210 allocations together), yet each request gets
// values of its own, and a tampered cookie is still no session.
func TestLoadingASessionAgainDecodesNothing(t *testing.T) {
	pool := pgtest.Pool(t)
	st, cookie, load := savedSession(t, pool, map[any]any{"n": int64(7), "flash": "ok\x00Saved."})

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

// A signed-in request reads its session and its staff member in one query,
// as the staff member is now (disabled, a new role); the staff member is
// never stored among the session's values, and a session whose values name
// someone other than its row does has nobody signed in.
func TestASessionIsReadWithItsStaffInOneQuery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var q allQueries
	pool := tracedPool(t, pgtest.URL(t), &q, 0)
	staff, err := (&postgres.StaffStore{Pool: pool}).CreateStaff(ctx, "ming", "x", core.RoleOperator)
	require.NoError(t, err)
	st, _, load := savedSession(t, pool, map[any]any{postgres.StaffIDKey: staff.ID})

	q.take()
	got := load()
	sqls, _ := q.take()
	require.Len(t, sqls, 1, "one query for the session and its staff member")
	require.NotNil(t, st.Staff(got))
	require.Equal(t, [3]any{staff.ID, "ming", core.RoleOperator}, [3]any{st.Staff(got).ID, st.Staff(got).Username, st.Staff(got).Role})
	require.False(t, st.Staff(got).Disabled)

	// Saved again (with a flash, say), what is stored is the values alone:
	// the staff member read with the session is not among them.
	got.Values["flash"] = "ok\x00Saved."
	require.NoError(t, st.Save(httptest.NewRequest("GET", "/", nil), httptest.NewRecorder(), got))
	var data []byte
	require.NoError(t, pool.QueryRow(ctx, `SELECT data FROM sessions WHERE staff_id = $1`, staff.ID).Scan(&data))
	stored := map[any]any{}
	require.NoError(t, gob.NewDecoder(bytes.NewReader(data)).Decode(&stored))
	require.Equal(t, map[any]any{postgres.StaffIDKey: staff.ID, "flash": "ok\x00Saved."}, stored)

	_, err = pool.Exec(ctx, `UPDATE staff SET disabled = true, role = 'admin' WHERE id = $1`, staff.ID)
	require.NoError(t, err)
	now := st.Staff(load())
	require.True(t, now.Disabled, "read on this request, not remembered")
	require.Equal(t, core.RoleAdmin, now.Role)

	other := load()
	other.Values[postgres.StaffIDKey] = staff.ID + 1
	require.Nil(t, st.Staff(other), "values naming another staff member than the row")
	anon, err := st.New(httptest.NewRequest("GET", "/", nil), "s")
	require.NoError(t, err)
	require.Nil(t, st.Staff(anon))
}

// savedSession stores a session with values and returns its store, its
// cookie, and a function that loads it as a request bearing the cookie does.
func savedSession(t *testing.T, pool *pgxpool.Pool, values map[any]any) (*postgres.SessionStore, *http.Cookie, func() *sessions.Session) {
	st := postgres.NewSessionStore(pool, make([]byte, 32), &sessions.Options{Path: "/"}, 30*time.Minute, 12*time.Hour)
	sess, err := st.New(httptest.NewRequest("GET", "/", nil), "s")
	require.NoError(t, err)
	maps.Copy(sess.Values, values)
	rec := httptest.NewRecorder()
	require.NoError(t, st.Save(httptest.NewRequest("GET", "/", nil), rec, sess))
	cookie := rec.Result().Cookies()[0]
	return st, cookie, func() *sessions.Session {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(cookie)
		s, err := st.New(r, "s")
		require.NoError(t, err)
		require.False(t, s.IsNew)
		return s
	}
}
