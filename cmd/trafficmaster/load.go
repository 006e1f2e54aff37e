package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/postgres"
)

func cmdLoad(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "load", `load -url http://127.0.0.1:8080 -user NAME [flags] < password.txt

Measures the console under concurrent staff: signs in as many separate
sessions as the largest level asks (the password is read from the first line
of standard input), then requests each page from that many sessions at once,
for a bounded time and count per page and level, and prints p50, p99 and
throughput. With DATABASE_URL set, the same pages' queries are run bare (the
session and staff lookups and the page's store queries, without HTTP or
rendering) at the same concurrency, beside them. At each level it first
measures HTTP's floor: /healthz, which reads nothing and renders nothing, from
the same sessions; "least" is the ratio a page that added nothing to that
floor and its bare queries would reach, (floor p50 + bare p50) / bare p50.
Only a console on this machine (a loopback address) is accepted as a target.`)
	base := fs.String("url", "http://127.0.0.1:8080", "the console's address (loopback only)")
	user := fs.String("user", "", "a staff member's username (viewer is enough)")
	levels := fs.String("sessions", "1,8,32", "concurrent staff sessions, comma-separated levels")
	duration := fs.Duration("duration", 5*time.Second, "time per page and level")
	maxReq := fs.Int("max", 2000, "requests per page and level at most")
	only := fs.String("pages", "", "a regular expression choosing pages by name (default all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("-url: want http://127.0.0.1:PORT, got %q", *base)
	}
	if err := loopbackOnly(ctx, u.Hostname()); err != nil {
		return err
	}
	if *user == "" {
		return errors.New("-user is required")
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	password := strings.TrimRight(line, "\r\n")
	var ns []int
	for _, s := range strings.Split(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 256 {
			return fmt.Errorf("-sessions: want levels between 1 and 256, got %q", s)
		}
		ns = append(ns, n)
	}
	var pick *regexp.Regexp
	if *only != "" {
		if pick, err = regexp.Compile(*only); err != nil {
			return fmt.Errorf("-pages: %w", err)
		}
	}

	var pool *pgxpool.Pool
	if dsn := e.getenv("DATABASE_URL"); dsn != "" {
		if pool, err = postgres.Open(ctx, dsn); err != nil {
			return err
		}
		defer pool.Close()
	}
	pages, err := loadPages(ctx, pool)
	if err != nil {
		return err
	}

	// One transport (connections are cheap to share), one cookie jar per
	// session: each client is a separate signed-in staff member's browser.
	tr := &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	clients := make([]*http.Client, slices.Max(ns))
	for i := range clients {
		jar, _ := cookiejar.New(nil)
		clients[i] = &http.Client{Transport: tr, Jar: jar, Timeout: 60 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		if err := loadLogin(ctx, clients[i], u, *user, password); err != nil {
			return fmt.Errorf("sign in session %d: %w", i+1, err)
		}
	}
	var sessionHash []byte
	if pool != nil {
		// The bare figures read a real session row with its staff member, as
		// every signed-in page does.
		var err error
		if sessionHash, err = postgres.LatestSession(ctx, pool, *user); err != nil {
			return fmt.Errorf("find a session for the bare figures: %w", err)
		}
	}

	fmt.Fprintf(e.stdout, "load against %s: %d s or %d requests per page and level at most\n\n", u.Redacted(), int(duration.Seconds()), *maxReq)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "page\tsessions\trequests\terrors\tp50 ms\tp99 ms\treq/s\tbare p50\tbare p99\tbare q/s\tp50 ratio\tp99 ratio\tleast\t")
	// HTTP's floor at each level: the same clients, a page with no query and
	// no rendering. No page can be faster than it plus its bare queries.
	floors := make(map[int]time.Duration, len(ns))
	for _, n := range ns {
		floor := runLoad(ctx, n, *duration, *maxReq, func(ctx context.Context, i int) error {
			return loadGet(ctx, clients[i], u, "/healthz")
		})
		if floor.errors > 0 {
			return fmt.Errorf("floor (/healthz): %w", floor.firstErr)
		}
		floors[n] = floor.p50
		fmt.Fprintf(tw, "floor\t%d\t%d\t0\t%.2f\t%.2f\t%.0f\t\t\t\t\t\t\t\n", n, floor.count, ms(floor.p50), ms(floor.p99), floor.rate)
	}
	for _, p := range pages {
		if pick != nil && !pick.MatchString(p.name) {
			continue
		}
		for _, n := range ns {
			page := runLoad(ctx, n, *duration, *maxReq, func(ctx context.Context, i int) error {
				return loadGet(ctx, clients[i], u, p.path)
			})
			row := fmt.Sprintf("%s\t%d\t%d\t%d\t%.2f\t%.2f\t%.0f\t", p.name, n, page.count, page.errors, ms(page.p50), ms(page.p99), page.rate)
			if pool != nil && p.bare != nil {
				bare := runLoad(ctx, n, *duration, *maxReq, func(ctx context.Context, _ int) error {
					if _, err := postgres.ReadSession(ctx, pool, sessionHash); err != nil {
						return err
					}
					return p.bare(ctx)
				})
				if bare.errors > 0 {
					return fmt.Errorf("%s: bare queries failed: %w", p.name, bare.firstErr)
				}
				row += fmt.Sprintf("%.2f\t%.2f\t%.0f\t%.2f×\t%.2f×\t%.2f×\t", ms(bare.p50), ms(bare.p99), bare.rate,
					float64(page.p50)/float64(bare.p50), float64(page.p99)/float64(bare.p99),
					float64(floors[n]+bare.p50)/float64(bare.p50))
			} else {
				row += "\t\t\t\t\t\t"
			}
			fmt.Fprintln(tw, row)
			if page.errors > 0 {
				fmt.Fprintf(tw, "  first error: %v\t\t\t\t\t\t\t\t\t\t\t\t\t\n", page.firstErr)
			}
			fmt.Fprintf(e.stderr, "%s at %d: %d requests\n", p.name, n, page.count)
		}
	}
	return tw.Flush()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// loopbackOnly refuses a target that is not this machine: a load run sends
// traffic only to loopback addresses.
func loopbackOnly(ctx context.Context, host string) error {
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	for _, a := range addrs {
		if !a.IP.IsLoopback() {
			return fmt.Errorf("-url: %s is not a loopback address; load runs only against a console on this machine", a.IP)
		}
	}
	return nil
}

type loadPage struct {
	name, path string
	bare       func(ctx context.Context) error
}

// loadPages are the list, search and audit pages, with the store queries
// each runs: the list with and without filters, the searches, and the audit
// with every filter its form offers alone and in pairs (the pairs that never
// occur together in generated data among them: a staff member and an outcome
// they never had, a run and another staff member). Generated data
// (trafficmaster gen) names accounts, staff and runs that exist.
func loadPages(ctx context.Context, pool *pgxpool.Pool) ([]loadPage, error) {
	var st *postgres.TrafficStore
	appid, gh := postgres.GenAppID(0), "gh_000000000000"
	var staff0, run int64 = 1, 1
	now := time.Now()
	if pool != nil {
		st = &postgres.TrafficStore{Pool: pool}
		n, err := postgres.GeneratedAccounts(ctx, pool)
		if err != nil {
			return nil, err
		}
		appid, gh = postgres.GenAppID(n/3), fmt.Sprintf("gh_%012x", n/3)
		if staff0, run, err = postgres.GeneratedStaffAndRun(ctx, pool); err != nil {
			return nil, err
		}
	}
	// The second page of a broad search starts after its first page's last
	// row, in name order.
	broadCursor := ""
	if st != nil {
		p, err := st.ListAccounts(ctx, postgres.AccountFilter{Q: "花", Limit: 50})
		if err != nil {
			return nil, err
		}
		broadCursor = p.Next
	}
	// Each page's filter is set once, here: the returned functions run
	// from several goroutines at once and only read it.
	list := func(f postgres.AccountFilter) func(context.Context) error {
		f.Limit = 50
		return func(ctx context.Context) error {
			_, err := st.ListAccounts(ctx, f)
			return err
		}
	}
	audit := func(f postgres.AttemptFilter) func(context.Context) error {
		f.Limit = 50
		return func(ctx context.Context) error {
			if _, _, err := st.ListAttempts(ctx, f); err != nil {
				return err
			}
			_, err := st.StaffNames(ctx)
			return err
		}
	}
	pages := []loadPage{
		{"list", "/", list(postgres.AccountFilter{})},
		{"list/status", "/?status=abnormal", list(postgres.AccountFilter{Status: "abnormal"})},
		{"list/state", "/?state=retry_later&sort=recent", list(postgres.AccountFilter{State: "retry_later", Sort: "recent"})},
		{"list/appid", "/?sort=appid", list(postgres.AccountFilter{Sort: "appid"})},
		{"search/花间", "/?q=" + url.QueryEscape("花间") + "&status=normal", list(postgres.AccountFilter{Q: "花间", Status: "normal"})},
		{"search/花", "/?q=" + url.QueryEscape("花"), list(postgres.AccountFilter{Q: "花"})},
		{"search/花/2", "/?q=" + url.QueryEscape("花") + "&after=" + broadCursor + "&pos=51", list(postgres.AccountFilter{Q: "花", After: broadCursor, Pos: 51})},
		{"search/花/appid", "/?q=" + url.QueryEscape("花") + "&sort=appid", list(postgres.AccountFilter{Q: "花", Sort: "appid"})},
		{"search/鲜果", "/?q=" + url.QueryEscape("鲜果"), list(postgres.AccountFilter{Q: "鲜果"})},
		{"search/花间日记_1", "/?q=" + url.QueryEscape("花间日记 1"), list(postgres.AccountFilter{Q: "花间日记 1"})},
		{"search/花+state", "/?q=" + url.QueryEscape("花") + "&state=open", list(postgres.AccountFilter{Q: "花", State: "open"})},
		{"search/appid", "/?q=" + appid, list(postgres.AccountFilter{Q: appid})},
		{"search/appid-prefix", "/?q=" + appid[:16], list(postgres.AccountFilter{Q: appid[:16]})}, // 256 appids
		{"search/gh_", "/?q=" + gh, list(postgres.AccountFilter{Q: gh})},
		{"audit", "/audit", audit(postgres.AttemptFilter{})},
	}
	// The audit's filters, each with its query parameter and filter field.
	type filter struct {
		name, param string
		set         func(*postgres.AttemptFilter)
	}
	day := now.AddDate(0, 0, -60)
	from, to := day.Truncate(time.Minute), day.Add(24*time.Hour).Truncate(time.Minute)
	const local = "2006-01-02T15:04"
	loc, _ := time.LoadLocation("Asia/Shanghai")
	if loc == nil {
		loc = time.UTC
	}
	filters := []filter{
		{"account", "appid=" + appid, func(f *postgres.AttemptFilter) { f.AppID = appid }},
		{"staff", "staff=" + strconv.FormatInt(staff0, 10), func(f *postgres.AttemptFilter) { f.StaffID = staff0 }},
		{"action", "action=check", func(f *postgres.AttemptFilter) { f.Action = "check" }},
		{"outcome", "outcome=retryable", func(f *postgres.AttemptFilter) { f.Outcome = "retryable" }},
		{"group", "group=merchant", func(f *postgres.AttemptFilter) { f.Group = "merchant" }},
		{"run", "run=" + strconv.FormatInt(run, 10), func(f *postgres.AttemptFilter) { f.RunID = run }},
		{"code", "code=1735", func(f *postgres.AttemptFilter) { c := 1735; f.Code = &c }},
		{"dates", "from=" + from.In(loc).Format(local) + "&to=" + to.In(loc).Format(local), func(f *postgres.AttemptFilter) {
			a, b := from.In(loc), to.In(loc)
			f.From, f.To = &a, &b
		}},
	}
	for i, a := range filters {
		var f postgres.AttemptFilter
		a.set(&f)
		pages = append(pages, loadPage{"audit/" + a.name, "/audit?" + a.param, audit(f)})
		for _, b := range filters[i+1:] {
			if a.name == "outcome" && b.name == "group" {
				continue // an outcome and a group: the outcome alone, or nothing
			}
			var f postgres.AttemptFilter
			a.set(&f)
			b.set(&f)
			pages = append(pages, loadPage{"audit/" + a.name + "+" + b.name, "/audit?" + a.param + "&" + b.param, audit(f)})
		}
	}
	if st == nil {
		for i := range pages {
			pages[i].bare = nil
		}
	}
	return pages, nil
}

// csrfMeta finds the page's CSRF token in its csrf-token meta tag.
var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

func loadLogin(ctx context.Context, c *http.Client, base *url.URL, user, password string) error {
	// The sign-in form's CSRF token is on the page (bound to a pre-session cookie).
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base.JoinPath("/login").String(), nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	page, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return err
	}
	m := csrfMeta.FindSubmatch(page)
	if m == nil {
		return fmt.Errorf("the sign-in page (%s) has no CSRF token", resp.Status)
	}
	token := string(m[1])
	form := url.Values{"username": {user}, "password": {password}, "_csrf": {token}}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, base.JoinPath("/login").String(), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base.Scheme+"://"+base.Host)
	resp, err = c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("sign-in answered %s (wrong username or password?)", resp.Status)
	}
	return nil
}

func loadGet(ctx context.Context, c *http.Client, base *url.URL, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base.String()+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return nil
}

type loadResult struct {
	count, errors int
	p50, p99      time.Duration
	rate          float64
	firstErr      error
}

// runLoad runs fn from n workers (each its own session i) until d has
// passed or max calls were made, and summarises the latencies.
func runLoad(ctx context.Context, n int, d time.Duration, max int, fn func(ctx context.Context, i int) error) loadResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var res loadResult
	left := max
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for {
				mu.Lock()
				if left == 0 || ctx.Err() != nil {
					mu.Unlock()
					return
				}
				left--
				mu.Unlock()
				t := time.Now()
				err := fn(ctx, i)
				took := time.Since(t)
				if err != nil && ctx.Err() != nil {
					return // cut off by the time bound, not a failure
				}
				mu.Lock()
				if err != nil {
					res.errors++
					if res.firstErr == nil {
						res.firstErr = err
					}
				} else {
					lat = append(lat, took)
				}
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	res.count = len(lat) + res.errors
	if len(lat) > 0 {
		res.p50 = lat[len(lat)*50/100]
		res.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	res.rate = float64(len(lat)) / elapsed.Seconds()
	return res
}
