package web

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
)

// TestEveryRouteIsAHandlerMethodListedInRoutesGo keeps the one shape: every
// route is registered in routes.go and served by a handleX method of Server.
func TestEveryRouteIsAHandlerMethodListedInRoutesGo(t *testing.T) {
	t.Parallel()
	s := New(Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	n := 0
	for _, r := range s.Echo.Routes() {
		if r.Method != http.MethodGet && r.Method != http.MethodPost || r.Path == "/static/*" {
			continue // echo's not-found catch-alls; the embedded file server
		}
		require.Containsf(t, r.Name, ".(*Server).handle", "%s %s is served by %s", r.Method, r.Path, r.Name)
		n++
	}
	require.Greater(t, n, 30)

	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	for _, name := range files {
		if name == "routes.go" || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			path, isLit := call.Args[0].(*ast.BasicLit)
			if !ok || !isLit || path.Kind != token.STRING {
				return true
			}
			switch sel.Sel.Name {
			case "GET", "POST", "PUT", "PATCH", "DELETE", "Any", "Match", "Add", "Group", "RouteNotFound":
				if v := strings.Trim(path.Value, "`\""); v == "" || strings.HasPrefix(v, "/") {
					t.Errorf("%s: %s(%s) registers a route: routes are registered in routes.go alone", name, sel.Sel.Name, path.Value)
				}
			}
			return true
		})
	}
}

// TestFlashOrFail checks the one way a form action reports on the next page.
func TestFlashOrFail(t *testing.T) {
	t.Parallel()
	s := New(Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	conflict := core.Errorf(core.ECONFLICT, "The run has finished.")
	internal := errors.New("connection reset")
	rule := flashRule{OK: "Done.", Shown: []string{core.ECONFLICT}}
	for _, tc := range []struct {
		name     string
		err      error
		rule     flashRule
		htmx     bool
		status   int
		location string
		fails    bool
	}{
		{name: "success redirects", rule: rule, status: http.StatusSeeOther, location: "/back"},
		{name: "a shown error redirects", err: conflict, rule: rule, status: http.StatusSeeOther, location: "/back"},
		{name: "another error fails", err: internal, rule: rule, fails: true},
		{name: "a code not shown fails", err: core.Errorf(core.ENOTFOUND, "Not found."), rule: rule, fails: true},
		{name: "otherwise flashes the rest", err: internal, rule: flashRule{Otherwise: "It failed."}, status: http.StatusSeeOther, location: "/back"},
		{name: "htmx loads the page whole", rule: rule, htmx: true, status: http.StatusNoContent},
	} {
		req := httptest.NewRequest(http.MethodPost, "/form", nil)
		if tc.htmx {
			req.Header.Set("HX-Request", "true")
		}
		rec := httptest.NewRecorder()
		c := s.Echo.NewContext(req, rec)
		err := s.flashOrFail(c, tc.err, "/back", tc.rule)
		if tc.fails {
			require.ErrorIs(t, err, tc.err, tc.name)
			continue
		}
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.status, rec.Code, tc.name)
		require.Equal(t, tc.location, rec.Header().Get(echo.HeaderLocation), tc.name)
		if tc.htmx {
			require.Equal(t, "/back", rec.Header().Get("HX-Redirect"), tc.name)
		}
	}
}
