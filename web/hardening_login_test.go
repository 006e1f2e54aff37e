package web_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// countingHasher wraps the password check, counting calls and the most that
// ran at once.
type countingHasher struct {
	calls, running, peak atomic.Int64
	check                func(p, h string) (bool, error)
}

func (c *countingHasher) Check(p, h string) (bool, error) {
	c.calls.Add(1)
	n := c.running.Add(1)
	defer c.running.Add(-1)
	for {
		old := c.peak.Load()
		if n <= old || c.peak.CompareAndSwap(old, n) {
			break
		}
	}
	return c.check(p, h)
}

func TestConcurrentWrongPasswordsHashAtMostFive(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	e.CreateStaff("burst", core.RoleViewer)
	h := &countingHasher{check: e.App.Auth.CheckHash}
	e.App.Auth.CheckHash = h.Check

	const n = 24
	var wg sync.WaitGroup
	codes := make([]string, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, err := e.App.Auth.Login(context.Background(), "burst", "wrong-password", core.Meta{ClientIP: "198.51.100.9"})
			codes[i] = core.ErrorCode(err)
		})
	}
	close(start)
	wg.Wait()

	require.LessOrEqual(t, h.calls.Load(), int64(5), "only the first five attempts reach the hash")
	require.LessOrEqual(t, h.peak.Load(), int64(e.App.Auth.HashSlots()), "hashes run at most HashSlots at once: memory stays bounded")
	require.LessOrEqual(t, e.App.Auth.HashSlots(), core.MaxHashes)
	tooMany := 0
	for _, c := range codes {
		require.Contains(t, []string{core.EUNAUTHORIZED, core.ETOOMANY}, c)
		if c == core.ETOOMANY {
			tooMany++
		}
	}
	require.GreaterOrEqual(t, tooMany, n-5)
}

func TestHashSlotsFollowTheMemoryEachHashNeeds(t *testing.T) {
	t.Parallel()
	a := core.NewAuthService(nil, nil, nil, nil)
	require.Equal(t, 4, a.HashSlots(), "argon2id's default 64 MiB: four at once")
	a.Params.Memory = 128 * 1024
	require.Equal(t, 2, a.HashSlots())
}

func TestLoginThrottleSlowsButDoesNotLockOutOtherAddresses(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	e := webtest.New(t)
	e.App.Auth.Now = clock
	e.CreateStaff("hana", core.RoleViewer)
	ctx := context.Background()
	login := func(pw, ip string) string {
		_, err := e.App.Auth.Login(ctx, "hana", pw, core.Meta{ClientIP: ip})
		return core.ErrorCode(err)
	}
	for range 5 {
		require.Equal(t, core.EUNAUTHORIZED, login("wrong-password", "203.0.113.1"))
	}
	require.Equal(t, core.ETOOMANY, login(webtest.Password, "203.0.113.1"), "that address is throttled")
	require.Empty(t, login(webtest.Password, "203.0.113.2"), "the real user elsewhere still signs in")

	// Throttled tries do not extend the window: it ends 15 minutes after the first try.
	advance(10 * time.Minute)
	for range 3 {
		require.Equal(t, core.ETOOMANY, login("wrong-password", "203.0.113.1"))
	}
	advance(5*time.Minute + time.Second)
	require.Empty(t, login(webtest.Password, "203.0.113.1"), "the window ran out despite the throttled tries")

	// Guessing from many addresses slows the username, it does not lock it.
	for i := range 12 {
		login("wrong-password", "192.0.2."+itoa(int64(i+10)))
	}
	require.Equal(t, core.ETOOMANY, login(webtest.Password, "203.0.113.3"), "slowed: one try per interval")
	advance(11 * time.Second)
	require.Empty(t, login(webtest.Password, "203.0.113.3"), "after the interval the real user gets in")
}

func TestLoginThrottleOverHTTPAnswers429(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	e.CreateStaff("ines", core.RoleViewer)
	c := e.Client()
	c.Get("/login")
	for range 5 {
		require.Equal(t, http.StatusUnauthorized, c.PostForm("/login", url.Values{"username": {"ines"}, "password": {"nope-nope"}}).StatusCode)
	}
	require.Equal(t, http.StatusTooManyRequests, c.PostForm("/login", url.Values{"username": {"ines"}, "password": {webtest.Password}}).StatusCode)
}

func TestCSRFTokenIsBoundToTheSessionAndRotatedAtLogin(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	e.CreateStaff("jade", core.RoleAdmin)
	c := e.Client()
	c.Get("/login")
	before := c.CSRF()
	require.NotEmpty(t, before)
	c.LoginAs("jade", webtest.Password)
	after := c.CSRF()
	require.NotEmpty(t, after)
	require.NotEqual(t, before, after, "login rotates the token")

	// The pre-login token no longer works.
	form := url.Values{"username": {"kim"}, "password": {"long-enough-password"}, "role": {"viewer"}, "_csrf": {before}}
	require.Equal(t, http.StatusForbidden, c.PostForm("/staff", form).StatusCode)

	// Nor does the token of another staff member's session.
	other, _ := e.Login(core.RoleAdmin)
	form.Set("_csrf", other.CSRF())
	require.NotEqual(t, after, other.CSRF())
	require.Equal(t, http.StatusForbidden, c.PostForm("/staff", form).StatusCode)

	// The token of a session that ended is refused by the next one.
	c.PostForm("/logout", nil)
	c.LoginAs("jade", webtest.Password)
	require.NotEqual(t, after, c.CSRF())
	form.Set("_csrf", after)
	require.Equal(t, http.StatusForbidden, c.PostForm("/staff", form).StatusCode)

	form.Set("_csrf", c.CSRF())
	require.Equal(t, http.StatusSeeOther, c.PostForm("/staff", form).StatusCode, "this session's own token works")
}

func TestChangingOwnPasswordAsksForTheCurrentOne(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	me := e.CreateStaff("lena", core.RoleAdmin)
	c := e.Client()
	c.LoginAs("lena", webtest.Password)

	// The admin reset route refuses one's own account: it asks for nothing.
	r := c.PostForm("/staff/"+itoa(me.ID)+"/password", url.Values{"password": {"hijacked-password"}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	require.Contains(t, c.Get("/staff").Text(".flash.error"), "asks for the current one")

	r = c.Get("/account")
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, 1, r.Doc.Find("input[name=current_password]").Length())
	r = c.PostForm("/account/password", url.Values{"password": {"hijacked-password"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, "no current password")
	r = c.PostForm("/account/password", url.Values{"current_password": {"not-my-password"}, "password": {"hijacked-password"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	require.Contains(t, r.Text(".field.invalid .error"), "current password is wrong")

	other := e.Client()
	other.LoginAs("lena", webtest.Password)
	r = c.PostForm("/account/password", url.Values{"current_password": {webtest.Password}, "password": {"a-brand-new-password"}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	require.Equal(t, http.StatusSeeOther, other.Get("/").StatusCode, "every session ended")
	_, err := e.App.Auth.Login(context.Background(), "lena", "hijacked-password", core.Meta{ClientIP: "192.0.2.1"})
	require.Error(t, err)
	_, err = e.App.Auth.Login(context.Background(), "lena", "a-brand-new-password", core.Meta{ClientIP: "192.0.2.1"})
	require.NoError(t, err)
}

func TestBusyHashSlotsAnswerTooManyInsteadOfTakingMemory(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	e.CreateStaff("mona", core.RoleViewer)
	slots := e.App.Auth.HashSlots()
	var inside atomic.Int64
	release := make(chan struct{})
	check := e.App.Auth.CheckHash
	e.App.Auth.CheckHash = func(p, h string) (bool, error) {
		inside.Add(1)
		<-release
		return check(p, h)
	}
	e.App.Auth.HashWait = 50 * time.Millisecond
	var wg sync.WaitGroup
	for i := range slots {
		wg.Go(func() {
			_, _ = e.App.Auth.Login(context.Background(), "mona", "wrong-password", core.Meta{ClientIP: "198.51.100." + itoa(int64(i+1))})
		})
	}
	require.Eventually(t, func() bool { return inside.Load() == int64(slots) }, 30*time.Second, 5*time.Millisecond, "every slot is taken")
	_, err := e.App.Auth.Login(context.Background(), "mona", "wrong-password", core.Meta{ClientIP: "198.51.100.200"})
	require.Equal(t, core.ETOOMANY, core.ErrorCode(err), "no slot: the request is told to come back")
	require.Equal(t, "The server is busy. Try again in a moment.", core.ErrorMessage(err))
	require.Equal(t, int64(slots), inside.Load(), "and no extra hash ran")
	close(release)
	wg.Wait()
}
