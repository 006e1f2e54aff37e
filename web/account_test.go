package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// zhClient is a client whose browser asks for Chinese.
func zhClient(c *webtest.Client) *webtest.Client {
	z := *c
	z.Header = c.Header.Clone()
	z.Header.Set("Accept-Language", "zh-CN,zh;q=0.9")
	return &z
}

func TestAccountPage(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	ctx := context.Background()
	op, _ := e.Login(core.RoleOperator)
	viewer, _ := e.Login(core.RoleViewer)
	app := e.addAccount(t, account{Name: "花间茶舍", Principal: "杭州花间茶舍有限公司"})
	_, err := e.App.Pool.Exec(ctx, "UPDATE authorizers SET user_name = 'gh_0123456789ab' WHERE appid = $1", app)
	require.NoError(t, err)

	// The row's name on the list links to the page.
	r := viewer.Get("/")
	href, _ := r.Doc.Find("#app-" + app + " a.name").Attr("href")
	require.Equal(t, "/apps/"+app, href)

	// Never tried: the page says so and what to do.
	r = op.Get("/apps/" + app)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, "花间茶舍", r.Text("h1"))
	for _, id := range []string{"traffic-master", "profile", "history"} {
		require.Equal(t, 1, r.Doc.Find("section#"+id).Length(), id)
		require.Equal(t, 1, r.Doc.Find(`nav.subnav a[href="#`+id+`"]`).Length(), id)
	}
	require.Equal(t, "never", r.Doc.Find(".state-words").AttrOr("data-state", ""))
	require.Contains(t, r.Text("[data-next-step]"), "Check eligibility, then open")
	require.Contains(t, r.Text("#profile"), "gh_0123456789ab")
	require.Contains(t, r.Text("#profile"), "杭州花间茶舍有限公司")
	require.Contains(t, r.Text("#profile"), app)
	require.Equal(t, "Normal", r.Text("#profile [data-account-status]"))
	require.NotEqual(t, "—", r.Text("#profile [data-authorized]"))
	require.Equal(t, 1, r.Doc.Find("#traffic-master button[data-action=check]").Length(), "operators act from the page")
	require.Zero(t, r.Doc.Find("textarea#merchant-message").Length(), "nothing to ask of the merchant yet")
	require.Contains(t, r.Text("#history"), "Not part of any bulk run yet")
	require.Zero(t, viewer.Get("/apps/"+app).Doc.Find("#traffic-master button[data-action]").Length(), "viewers get no buttons")

	// 1735: the next step and a message for the merchant, in Chinese, in both interfaces.
	e.Sim.Script(app, wechatsim.ActionCreate, wechatsim.Behavior{Ret: 1735})
	res := resultOf(t, e, op.HTMXPost("/apps/"+app+"/open", confirmed))
	require.Equal(t, traffic.OutcomeNeedsMerchant, res.Outcome)
	r = op.Get("/apps/" + app)
	require.Equal(t, "needs_merchant", r.Doc.Find(".state-words").AttrOr("data-state", ""))
	require.Contains(t, r.Text("[data-next-step]"), "Send the merchant the message below")
	require.Contains(t, r.Text("[data-last-attempt]"), "1735")
	msg := r.Text("textarea#merchant-message")
	for _, want := range []string{"花间茶舍", app, "1735", "协议", "mp.weixin.qq.com", "流量主"} {
		require.Contains(t, msg, want)
	}
	require.Equal(t, "merchant-message", r.Doc.Find("button[data-copy]").AttrOr("data-copy", ""))
	require.Zero(t, r.Doc.Find("script:not([src])").Length(), "no inline script: the copy button is app.js's")
	zr := zhClient(viewer).Get("/apps/" + app)
	require.Equal(t, msg, zr.Text("textarea#merchant-message"), "the merchant reads Chinese whatever the staff's language")
	require.Contains(t, zr.Text("[data-next-step]"), "请把下面的消息发给商户")

	// 2009 (and 1807): the merchant's traffic master is not valid.
	other := e.addAccount(t, account{Name: "晨光书店"})
	e.Sim.Script(other, wechatsim.ActionCreate, wechatsim.Behavior{Ret: 2009})
	resultOf(t, e, op.HTMXPost("/apps/"+other+"/open", confirmed))
	msg = op.Get("/apps/" + other).Text("textarea#merchant-message")
	require.Contains(t, msg, "2009")
	require.Contains(t, msg, "流量主无效")
	require.Contains(t, msg, other)

	// History: attempts and bulk runs, each paged on its own.
	_, err = e.App.Pool.Exec(ctx, `INSERT INTO attempts (appid, action, status, outcome, started_at, finished_at)
		SELECT $1, 'check', 'completed', 'success', now(), now() FROM generate_series(1, 24)`, app)
	require.NoError(t, err)
	_, err = e.App.Pool.Exec(ctx, `WITH r AS (INSERT INTO runs (action, status, description, total, finished_at)
			SELECT 'check', 'finished', 'test', 1, now() FROM generate_series(1, 23) RETURNING id)
		INSERT INTO run_items (run_id, appid, state, outcome, code, finished_at) SELECT id, $1, 'done', 'needs_merchant', 1735, now() FROM r`, app)
	require.NoError(t, err)
	r = viewer.Get("/apps/" + app)
	require.Equal(t, 20, r.Doc.Find("#attempts tbody tr").Length())
	require.Equal(t, 20, r.Doc.Find("#account-runs tbody tr").Length())
	older, ok := r.Doc.Find("a[data-page=attempts-older]").Attr("href")
	require.True(t, ok)
	olderRuns, ok := r.Doc.Find("a[data-page=runs-older]").Attr("href")
	require.True(t, ok)
	r2 := viewer.Get(strings.Split(older, "#")[0])
	require.Equal(t, 5, r2.Doc.Find("#attempts tbody tr").Length(), "25 attempts: 20, then 5")
	require.Equal(t, 20, r2.Doc.Find("#account-runs tbody tr").Length(), "the runs stay where they were")
	require.Equal(t, 1, r2.Doc.Find("a[data-page=attempts-newest]").Length())
	r3 := viewer.Get(strings.Split(olderRuns, "#")[0])
	require.Equal(t, 3, r3.Doc.Find("#account-runs tbody tr").Length(), "23 runs: 20, then 3")
	require.Contains(t, r3.Text("#account-runs tbody tr"), "Needs merchant")
	first := r.Doc.Find("#account-runs tbody tr a").First().AttrOr("href", "")
	require.Regexp(t, `^/runs/\d+$`, first)

	// A revoked account says since when and why, and that nothing can be done.
	gone := e.addAccount(t, account{Name: "旧店", Revoked: true})
	_, err = e.App.Pool.Exec(ctx, "UPDATE authorizers SET revoked_reason = 'unauthorized push' WHERE appid = $1", gone)
	require.NoError(t, err)
	r = op.Get("/apps/" + gone)
	require.Contains(t, r.Text("#profile [data-revoked]"), "WeChat sent notice that the account revoked its authorization.")
	require.Contains(t, zhClient(op).Get("/apps/"+gone).Text("#profile [data-revoked]"), "已取消对本平台的授权")
	require.Contains(t, r.Text("[data-next-step]"), "revoked its authorization")
	require.Zero(t, r.Doc.Find("#traffic-master button[data-action]").Length())

	// Bad and unknown appids.
	require.Equal(t, http.StatusBadRequest, viewer.Get("/apps/not-an-appid").StatusCode)
	require.Equal(t, http.StatusNotFound, viewer.Get("/apps/wx00000000000000ff").StatusCode)
	require.Equal(t, "Page not found", viewer.Get("/apps/wx00000000000000ff").Text(".empty h3"))
}

func TestNamesSortInPinyinOrder(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	// Code-point order would be 北 花 茶 阿 鲜: pinyin is a, bei, cha, hua, xian.
	names := []string{"鲜果日记", "花间茶舍", "茶语轩", "阿福小铺", "北京书店"}
	byName := map[string]string{}
	for _, n := range names {
		byName[e.addAccount(t, account{Name: n})] = n
	}
	want := []string{"阿福小铺", "北京书店", "茶语轩", "花间茶舍", "鲜果日记"}
	c, _ := e.Login(core.RoleViewer)
	order := func(r *webtest.Response) []string {
		var out []string
		r.Doc.Find("#apps tbody tr").Each(func(_ int, s *goquerySel) { out = append(out, byName[s.AttrOr("data-appid", "")]) })
		return out
	}
	require.Equal(t, want, order(c.Get("/")), "English interface")
	require.Equal(t, want, order(zhClient(c).Get("/")), "Chinese interface")

	// Keyset pages walk the same order, forwards and back.
	var got []string
	f := postgres.AccountFilter{Limit: 2}
	var pages []*postgres.AccountPage
	for {
		p, err := e.App.Attempts.ListAccounts(context.Background(), f)
		require.NoError(t, err)
		pages = append(pages, p)
		for _, a := range p.Accounts {
			got = append(got, a.NickName)
		}
		if p.Next == "" {
			break
		}
		f.After = p.Next
	}
	require.Equal(t, want, got)
	back, err := e.App.Attempts.ListAccounts(context.Background(), postgres.AccountFilter{Limit: 2, Before: pages[2].Prev})
	require.NoError(t, err)
	require.Equal(t, []string{"茶语轩", "花间茶舍"}, []string{back.Accounts[0].NickName, back.Accounts[1].NickName})
}

// addMany stores n Mini Programs named in order, as a sync would.
func addMany(t *testing.T, e *trafficEnv, n int, prefix string) {
	t.Helper()
	_, err := e.App.Pool.Exec(context.Background(), `INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, principal_name, account_status, authorized_at)
		SELECT 'wx' || lpad(to_hex(g), 16, '0'), $1, true, $2 || lpad(g::text, 4, '0'), 'Test Ltd', 1, now() FROM generate_series(1, $3) g`,
		webtest.ComponentAppID, prefix, n)
	require.NoError(t, err)
}

func TestListPagingShowsPositionAndGoesBack(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	addMany(t, e, 120, "Shop ")
	c, _ := e.Login(core.RoleViewer)
	ids := func(r *webtest.Response) []string {
		var out []string
		r.Doc.Find("#apps tbody tr").Each(func(_ int, s *goquerySel) { out = append(out, s.AttrOr("data-appid", "")) })
		return out
	}
	link := func(r *webtest.Response, which string) string {
		href, ok := r.Doc.Find("a[data-page=" + which + "]").Attr("href")
		require.True(t, ok, which)
		return href
	}
	p1 := c.Get("/")
	require.Equal(t, "1–50 of 120", p1.Text("[data-position]"))
	require.Zero(t, p1.Doc.Find("a[data-page=prev]").Length(), "no previous page on the first")
	p2 := c.Get(link(p1, "next"))
	require.Equal(t, "51–100 of 120", p2.Text("[data-position]"))
	p3 := c.Get(link(p2, "next"))
	require.Equal(t, "101–120 of 120", p3.Text("[data-position]"))
	require.Len(t, ids(p3), 20)
	require.Zero(t, p2.Doc.Find("a[data-page=first]").Length(), "the previous page is the first: one link")
	require.Equal(t, "/", link(p3, "first"))
	require.Zero(t, p3.Doc.Find("a[data-page=next]").Length())
	back2 := c.Get(link(p3, "prev"))
	require.Equal(t, ids(p2), ids(back2), "previous page of the third is the second")
	require.Equal(t, "51–100 of 120", back2.Text("[data-position]"))
	back1 := c.Get(link(back2, "prev"))
	require.Equal(t, ids(p1), ids(back1))
	require.Equal(t, "1–50 of 120", back1.Text("[data-position]"))
	require.Zero(t, back1.Doc.Find("a[data-page=prev]").Length())

	// Localised, and counted within the filter.
	require.Equal(t, "第 51–100 个，共 120 个", zhClient(c).Get(link(p1, "next")).Text("[data-position]"))
	q := c.Get("/?q=" + url.QueryEscape("Shop 00"))
	require.Equal(t, "1–50 of 99", q.Text("[data-position]"))

	// Every order walks back to the same pages, through the store.
	// Some accounts tried, two of them at the same moment, for the recent-first order.
	_, err := e.App.Pool.Exec(context.Background(), `UPDATE authorizer_state SET last_attempt_at = timestamptz '2026-01-01 00:00:00+00' - (appid::text < 'wx0000000000000005')::int * interval '1 minute' - (ascii(right(appid, 1)) % 3) * interval '1 hour'
		WHERE appid <= 'wx0000000000000020'`)
	require.NoError(t, err)
	for _, sort := range []string{"", "appid", "recent"} {
		var forward [][]string
		var cursors []*postgres.AccountPage
		f := postgres.AccountFilter{Sort: sort, Limit: 7}
		for {
			p, err := e.App.Attempts.ListAccounts(context.Background(), f)
			require.NoError(t, err)
			var page []string
			for _, a := range p.Accounts {
				page = append(page, a.AppID)
			}
			require.Equal(t, len(forward)*7+1, p.Start, sort)
			forward, cursors = append(forward, page), append(cursors, p)
			if p.Next == "" {
				break
			}
			// The position hint only picks the end to count from: a wrong one changes nothing.
			f.After, f.Pos = p.Next, []int{0, 1_000_000, p.Start + 7}[len(forward)%3]
		}
		require.Len(t, forward, 18, sort)
		for i := len(cursors) - 1; i > 0; i-- {
			p, err := e.App.Attempts.ListAccounts(context.Background(), postgres.AccountFilter{Sort: sort, Limit: 7, Before: cursors[i].Prev})
			require.NoError(t, err)
			var page []string
			for _, a := range p.Accounts {
				page = append(page, a.AppID)
			}
			require.Equal(t, forward[i-1], page, "sort %q page %d", sort, i)
			require.Equal(t, (i-1)*7+1, p.Start)
		}
	}
}

func TestSelectAllMatchingRunsOverTheFilter(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	addMany(t, e, 60, "Tea ")
	e.addAccount(t, account{Name: "Tea revoked", Revoked: true})
	e.addAccount(t, account{Name: "Coffee"})
	c, _ := e.Login(core.RoleOperator)

	r := c.Get("/?q=tea")
	box := r.Doc.Find(`form#bulk input[type=checkbox][name=all][value="1"]`)
	require.Equal(t, 1, box.Length())
	require.Contains(t, box.Parent().Text(), "all 60 matching", "the revoked account is not counted: a run would not take it")
	require.Equal(t, 1, r.Doc.Find("form#bulk [data-left-out]").Length(), "and the bar says so")
	require.Zero(t, c.Get("/?q=coffee").Doc.Find("form#bulk [data-left-out]").Length())
	require.Equal(t, "tea", r.Doc.Find(`form#bulk input[name=q]`).AttrOr("value", ""))
	require.Equal(t, 50, r.Doc.Find(`input[name=appid][form=bulk]`).Length(), "one page of rows")

	// Ticked rows plus "all matching": the run takes the whole filter.
	vals := url.Values{"action": {"check"}, "q": {"tea"}, "all": {"1"}}
	r.Doc.Find(`input[name=appid][form=bulk]`).Slice(0, 2).Each(func(_ int, s *goquerySel) { vals.Add("appid", s.AttrOr("value", "")) })
	r = c.PostForm("/runs", vals)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Contains(t, r.Text("#confirm-count"), "for 60 Mini Programs")
	require.Zero(t, r.Doc.Find(`input[type=hidden][name=appid]`).Length())
	// A search term with LIKE's metacharacters is taken literally, as the list does.
	r = c.PostForm("/runs", url.Values{"action": {"check"}, "q": {"t_a"}, "all": {"1"}})
	require.Contains(t, r.Text("#confirm-count"), "for 0 Mini Programs")
	require.Zero(t, c.Get("/?q=t_a").Doc.Find("#apps tbody tr").Length())
}

func TestAuditShowsNamesAndCSVSpeaksTheConsole(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	op, _ := e.Login(core.RoleOperator)
	app := e.addAccount(t, account{Name: "花间茶舍"})
	e.Sim.Script(app, wechatsim.ActionCreate, wechatsim.Behavior{Ret: 1735})
	a := resultOf(t, e, op.HTMXPost("/apps/"+app+"/open", confirmed))

	r := op.Get("/audit")
	cell := r.Doc.Find("#attempt-" + strconv.FormatInt(a.ID, 10) + " td[data-app]")
	require.Contains(t, cell.Text(), "花间茶舍")
	require.Contains(t, cell.Text(), app)
	d := op.Get("/audit/" + strconv.FormatInt(a.ID, 10))
	require.Contains(t, d.Text("dd[data-app]"), "花间茶舍")

	read := func(c *webtest.Client) []map[string]string {
		resp := c.Get("/audit.csv?appid=" + app)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(resp.Body, "\uFEFF"))).ReadAll()
		require.NoError(t, err)
		var out []map[string]string
		for _, rec := range recs[1:] {
			m := map[string]string{}
			for i, h := range recs[0] {
				m[h] = rec[i]
			}
			out = append(out, m)
		}
		return out
	}
	rows := read(op)
	require.Len(t, rows, 1)
	row := rows[0]
	require.Equal(t, app, row["appid"])
	require.Equal(t, "花间茶舍", row["name"])
	require.True(t, strings.HasSuffix(row["started_at"], "+08:00"), row["started_at"])
	started, err := time.Parse(time.RFC3339, row["started_at"])
	require.NoError(t, err)
	require.WithinDuration(t, a.StartedAt, started, time.Second)
	require.True(t, strings.HasSuffix(row["finished_at"], "+08:00"), row["finished_at"])
	require.Equal(t, "Needs merchant", row["outcome"], "the words of the pages")
	require.Equal(t, "needs_merchant", row["outcome_key"], "a stable key for programs")
	require.Equal(t, "Open traffic master", row["action"])
	require.Equal(t, "open", row["action_key"])
	require.Equal(t, "1735", row["code"])

	zh := read(zhClient(op))[0]
	require.Equal(t, "需商户处理", zh["outcome"])
	require.Equal(t, "needs_merchant", zh["outcome_key"])
	require.Equal(t, row["started_at"], zh["started_at"])
}
