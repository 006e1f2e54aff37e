package web_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/browsertest"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

func TestBrowserLoginHomeLogout(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	e.CreateStaff("browser-admin", core.RoleAdmin)
	b := browsertest.New(t)

	b.Navigate(e.URL + "/")
	b.WaitVisible(`#username`)
	b.Fill(`#username`, "browser-admin")
	b.Fill(`#password`, webtest.Password)
	b.Click(`form[action="/login"] button[type=submit]`)
	b.WaitVisible(`header.top .who`)
	b.Screenshot("home")
	require.Contains(t, b.Text(`header.top .who span`), "browser-admin")
	require.Equal(t, e.URL+"/", b.Location())
	require.NotEmpty(t, strings.TrimSpace(b.Text(`main h1`)))

	b.Click(`header.top form[action="/logout"] button`)
	b.WaitVisible(`#username`)
	require.Equal(t, "You have signed out.", strings.TrimSpace(b.Text(`.flash`)))
	require.Contains(t, b.Location(), "/login")
}
