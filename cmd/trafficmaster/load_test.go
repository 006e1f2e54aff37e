package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

func TestLoadRefusesAnAddressOffThisMachine(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://192.0.2.1:8080", "http://10.0.0.1", "http://[2001:db8::1]:80"} {
		_, _, err := runCmd(t, nil, "pw\n", "load", "-url", u, "-user", "x")
		require.ErrorContains(t, err, "not a loopback address", u)
	}
}

// The load client signs in separate sessions, requests the pages and runs
// their bare queries beside them, bounded in count.
func TestLoadMeasuresPagesBesideTheirBareQueries(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	e.CreateStaff("loader", core.RoleViewer)
	out, _, err := runCmd(t, map[string]string{"DATABASE_URL": e.App.Config.DatabaseURL}, webtest.Password+"\n",
		"load", "-url", e.URL, "-user", "loader", "-sessions", "1,3", "-duration", "20s", "-max", "6", "-pages", "^(list|search/花间|audit)$")
	require.NoError(t, err)
	require.NotContains(t, out, "first error")
	var rows, floors []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 0 && f[0] == "floor":
			// HTTP's floor at each level, before any page, with no bare figures.
			require.Empty(t, rows, "the floor comes first: %s", out)
			floors = append(floors, line)
			require.Equal(t, []string{"6", "0"}, f[2:4], "requests and errors: %s", line)
			require.Len(t, f, 7, "no bare figures: %s", line)
		case len(f) > 0 && (f[0] == "list" || f[0] == "search/花间" || f[0] == "audit"):
			rows = append(rows, line)
			require.Equal(t, "6", f[2], "requests: %s", line)
			require.Equal(t, "0", f[3], "errors: %s", line)
			require.Len(t, f, 13, "with the bare figures: %s", line)
			// The least ratio adds the floor of the row's level to its bare p50.
			// Each page's rows follow the levels' order, as the floors do;
			// the figures are printed to two decimals.
			floor, bare := loadField(t, floors[(len(rows)-1)%2], 4), loadField(t, line, 7)
			require.InDelta(t, (floor+bare)/bare, loadField(t, line, 12), 0.005+0.005/bare+0.005*floor/(bare*bare), line)
		}
	}
	require.Len(t, floors, 2, out)
	require.Len(t, rows, 6, out)
}

// loadField is the number in field i of a load table's line.
func loadField(t *testing.T, line string, i int) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.Fields(line)[i], "×"), 64)
	require.NoError(t, err, line)
	return v
}
