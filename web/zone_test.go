package web_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// Every time on the pages is shown in the configured zone (Asia/Shanghai by
// default), never in UTC: one instant near midnight UTC is read back from the
// audit list, the audit entry and the Mini Programs list.
func TestTimesAreShownInTheConfiguredZone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		zone, label, want string
	}{
		{"", "Asia/Shanghai (UTC+08:00)", "2026-03-05 07:30:15"},
		{"America/New_York", "America/New_York (UTC-05:00)", "2026-03-04 18:30:15"},
	} {
		t.Run(tc.label, func(t *testing.T) {
			t.Parallel()
			var opts webtest.Options
			if tc.zone != "" {
				opts.Env = map[string]string{"TIME_ZONE": tc.zone}
			}
			e := newTrafficEnv(t, opts)
			ctx := context.Background()
			app := e.addAccount(t, account{})
			at := time.Date(2026, 3, 4, 23, 30, 15, 0, time.UTC)
			var id int64
			require.NoError(t, e.App.Pool.QueryRow(ctx, `INSERT INTO attempts (appid, action, status, started_at, finished_at, outcome)
				VALUES ($1, 'check', 'completed', $2, $2, 'success') RETURNING id`, app, at).Scan(&id))
			_, err := e.App.Pool.Exec(ctx, `UPDATE authorizer_state SET state = 'eligible', last_attempt_id = $2, last_attempt_at = $3, last_outcome = 'success' WHERE appid = $1`, app, id, at)
			require.NoError(t, err)
			c, _ := e.Login(core.RoleViewer)

			shown := func(r *webtest.Response, sel string) {
				t.Helper()
				require.Equal(t, http.StatusOK, r.StatusCode)
				el := r.Doc.Find(sel)
				require.Equal(t, 1, el.Length(), sel)
				require.Equal(t, tc.want, el.Text(), sel)
				if iso, ok := el.Attr("datetime"); ok {
					require.Equal(t, "2026-03-04T23:30:15Z", iso, "machines get UTC")
				}
			}
			entry := c.Get("/audit/" + strconv.FormatInt(id, 10))
			require.Contains(t, entry.Text("footer"), tc.label)
			shown(entry, "dd time")
			shown(c.Get("/audit"), "#attempt-"+strconv.FormatInt(id, 10)+" time")
			shown(c.Get("/"), "#app-"+app+" time")
			// Every other time on the entry page follows the same zone.
			entry.Doc.Find("time").Each(func(_ int, s *goquery.Selection) {
				require.Equal(t, tc.want, s.Text())
			})
		})
	}
}
