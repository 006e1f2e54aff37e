package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

func TestLoginAndLogout(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	st := e.CreateStaff("alice", core.RoleOperator)
	c := e.Client()

	r := c.Get("/")
	require.Equal(t, http.StatusSeeOther, r.StatusCode, "no session: to the login page")
	require.Contains(t, r.Header.Get("Location"), "/login")

	c.LoginAs("alice", webtest.Password)
	r = c.Get("/")
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Contains(t, r.Text("header .who"), "alice")

	r = c.PostForm("/logout", nil)
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	r = c.Get("/")
	require.Equal(t, http.StatusSeeOther, r.StatusCode, "after logout the session is gone")

	ev, err := e.App.Staff.ListSecurity(t.Context(), 0, 10)
	require.NoError(t, err)
	require.Equal(t, core.EventLogout, ev[0].Event)
	require.Equal(t, core.EventLogin, ev[1].Event)
	require.True(t, ev[1].Success)
	require.Equal(t, st.ID, *ev[1].TargetID)
}

func TestWrongPasswordIsRefusedAndLogged(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	e.CreateStaff("bob", core.RoleViewer)
	c := e.Client()
	c.Get("/login")
	r := c.PostForm("/login", url.Values{"username": {"bob"}, "password": {"wrong-password"}})
	require.Equal(t, http.StatusUnauthorized, r.StatusCode)
	require.Equal(t, "Wrong username or password.", r.Text(".flash.error"))
	require.Equal(t, "bob", r.Doc.Find("input[name=username]").AttrOr("value", ""), "the username is kept")
	ev, err := e.App.Staff.ListSecurity(t.Context(), 0, 10)
	require.NoError(t, err)
	require.False(t, ev[0].Success)
	require.Equal(t, "wrong password", ev[0].Detail)
}

func strconvFormat(n int64) string { return strconv.FormatInt(n, 10) }
