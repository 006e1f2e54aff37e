package web_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/browsertest"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

func TestBrowserSearchOpenAndAudit(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	app := "wx00000000000c0001"
	syncAccount(t, e, wechatsim.Authorizer{AppID: app, NickName: "鲜果日记", PrincipalName: "深圳鲜果科技有限公司", MiniProgram: true})
	syncAccount(t, e, wechatsim.Authorizer{AppID: "wx00000000000c0002", NickName: "晨光书店", MiniProgram: true})
	e.CreateStaff("browser-operator", core.RoleOperator)
	b := browsertest.New(t)

	b.Navigate(e.URL + "/")
	b.WaitVisible(`#username`)
	b.Fill(`#username`, "browser-operator")
	b.Fill(`#password`, webtest.Password)
	b.Click(`form[action="/login"] button[type=submit]`)
	b.WaitVisible(`form.toolbar input[name=q]`)

	b.Fill(`form.toolbar input[name=q]`, "鲜果")
	b.Click(`form.toolbar button[type=submit]`)
	// The results page, not the page the search was typed on.
	b.WaitVisible(`form.toolbar input[name=q][value="鲜果"]`)
	b.WaitVisible(`#app-` + app)
	require.Contains(t, b.Location(), "q=")
	b.Screenshot("apps-search")

	// The confirmation dialog is accepted by the harness, as a person would.
	b.Click(`#app-` + app + ` button[data-action=open]`)
	b.WaitVisible(`#result-` + app + ` .result`)
	b.Screenshot("apps-opened")
	require.Contains(t, b.Text(`#result-`+app+` .result strong`), "Traffic master opened")
	require.Equal(t, "Open", strings.TrimSpace(b.Text(`#state-`+app)), "the state badge follows")
	require.True(t, e.Sim.Opened(app))
	require.Equal(t, 1, e.Sim.Calls(wechatsim.ActionCreate, app))

	b.Click(`#result-` + app + ` a[data-audit-link]`)
	b.WaitVisible(`#raw`)
	require.Contains(t, b.Location(), "/audit/")
	require.Equal(t, "Success", strings.TrimSpace(b.Text(`dd span[data-outcome]`)))

	b.Navigate(e.URL + "/audit?appid=" + app)
	b.WaitVisible(`#attempts`)
	b.Screenshot("audit")
	require.Contains(t, b.Text(`#attempts tbody tr`), app)
	require.Contains(t, b.Text(`#attempts tbody tr`), "browser-operator")
}
