package web_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/browsertest"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// A search matching more accounts than the list counts shows its lower
// bounds and the sentence that says so, in both languages and at both
// widths, without a console error.
func TestBrowserBroadSearch(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	ctx := context.Background()
	_, err := e.App.Pool.Exec(ctx, `INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, user_name, principal_name, account_status, authorized_at)
		SELECT 'wx' || lpad(to_hex(x'ce0000'::int + g), 16, '0'), $1, true, '花园' || lpad(g::text, 5, '0'), '', '深圳花园科技有限公司', 1, now()
		FROM generate_series(1, $2) g`, webtest.ComponentAppID, postgres.SearchCountCap+60)
	require.NoError(t, err)
	_, staff := e.Login(core.RoleOperator)
	for _, width := range []int64{1440, 390} {
		for _, lang := range []string{"en", "zh"} {
			where := fmt.Sprintf("broad-search-%d-%s", width, lang)
			b := browsertest.New(t)
			b.Viewport(width, map[int64]int64{1440: 900, 390: 844}[width])
			b.Navigate(e.URL + "/login")
			b.WaitVisible(`#username`)
			setLang(b, lang)
			b.Fill(`#username`, staff.Username)
			b.Fill(`#password`, webtest.Password)
			b.Click(`form[action="/login"] button[type=submit]`)
			b.WaitVisible(`#apps`)
			b.Navigate(e.URL + "/?q=" + url.QueryEscape("花"))
			b.WaitVisible(`[data-capped]`)
			b.Settle()
			b.Screenshot(where)
			if width == 390 {
				b.ScreenshotViewport(where + "-screen")
			}
			require.Equal(t, fmt.Sprintf("%d+", postgres.SearchCountCap), b.Text(`#state-counts [data-state=""] b`), where)
			require.Contains(t, b.Text(`[data-position]`), "1,000+", where)
			b.RequireClean(where)
		}
	}
}
