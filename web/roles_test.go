package web_test

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// access says who may use a route: "public" (no session needed) or a minimum role.
type access struct {
	method  string
	pattern *regexp.Regexp
	min     string
}

// routeRules classifies every route. A route that matches no rule fails the
// test, so a new route cannot ship without a decision about who may use it.
var routeRules = []access{
	{"GET", re(`^/(healthz|readyz|static/\*)$`), "public"},
	{"*", re(`^/(login|logout|lang)$`), "public"},
	{"POST", re(`^/wechat/events$`), "public"},
	{"GET", re(`^/$`), "viewer"},
	{"*", re(`^/account(/|$)`), "viewer"},
	{"GET", re(`^/(apps|audit|runs)(/|\.csv|$)`), "viewer"},
	{"POST", re(`^/(apps|runs)(/|$)`), "operator"},
	{"*", re(`^/(jobs|platform|staff|security-log)(/|$)`), "admin"},
	{"GET", re(`^/revenue(\.csv|/settlement|$)`), "viewer"},
	{"POST", re(`^/revenue/pulls$`), "admin"},
	{"*", re(`^/settings/alerts(/|$)`), "admin"},
}

func re(s string) *regexp.Regexp { return regexp.MustCompile(s) }

func ruleFor(method, path string) (string, bool) {
	for _, r := range routeRules {
		if (r.method == "*" || r.method == method) && r.pattern.MatchString(path) {
			return r.min, true
		}
	}
	return "", false
}

// concrete fills route parameters with values that match no real row, so the
// check never changes data it did not create.
func concrete(path string) string {
	path = regexp.MustCompile(`:appid\b`).ReplaceAllString(path, "wx0000000000000000")
	path = regexp.MustCompile(`:[a-z_]+`).ReplaceAllString(path, "999999")
	return strings.ReplaceAll(path, "*", "app.css")
}

func TestEveryRouteAgainstEveryRole(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	clients := map[string]*webtest.Client{"none": e.Client()}
	for _, r := range core.Roles {
		clients[string(r)], _ = e.Login(r)
	}
	rank := map[string]int{"none": 0, "viewer": 1, "operator": 2, "admin": 3}

	routes := e.Server.Echo.Routes()
	sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })
	checked := 0
	for _, rt := range routes {
		if rt.Method != http.MethodGet && rt.Method != http.MethodPost {
			continue // echo's not-found catch-alls
		}
		min, ok := ruleFor(rt.Method, rt.Path)
		require.Truef(t, ok, "route %s %s has no access rule in routeRules: decide who may use it", rt.Method, rt.Path)
		if min == "public" {
			continue
		}
		path := concrete(rt.Path)
		for _, who := range []string{"none", "viewer", "operator", "admin"} {
			c := clients[who]
			var resp *webtest.Response
			if rt.Method == http.MethodGet {
				resp = c.Get(path)
			} else {
				resp = c.PostForm(path, nil)
			}
			where := rt.Method + " " + path + " as " + who
			switch {
			case who == "none":
				require.Equal(t, http.StatusSeeOther, resp.StatusCode, where)
				require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/login"), where)
			case rank[who] < rank[min]:
				require.Equal(t, http.StatusForbidden, resp.StatusCode, where)
				require.Equal(t, "Not allowed", resp.Text(".empty h3"), where)
			default:
				require.NotEqual(t, http.StatusForbidden, resp.StatusCode, where)
				require.Less(t, resp.StatusCode, 500, where+": "+resp.Text(".empty p"))
				require.False(t, strings.HasPrefix(resp.Header.Get("Location"), "/login"), where)
			}
			checked++
		}
	}
	require.Greater(t, checked, 20)
}
