package platform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/platform"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/secretbox"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const (
	appID  = "wxplatformtest0001"
	secret = "platform-test-secret"
	token  = "platform-test-token"
	aesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

type bundle struct {
	pool    *pgxpool.Pool
	sim     *wechatsim.Sim
	wc      *wechat.Client
	crypter *wechat.Crypter
	store   *postgres.PlatformStore
	svc     *platform.Service
	simURL  string
}

// newService builds a token manager and service over pool, as a second instance would.
func newService(t testing.TB, pool *pgxpool.Pool, wc *wechat.Client, cr *wechat.Crypter) (*postgres.PlatformStore, *platform.Service) {
	t.Helper()
	box, err := secretbox.New(make([]byte, 32))
	require.NoError(t, err)
	store := &postgres.PlatformStore{Pool: pool, Box: box}
	tm := platform.NewTokenManager(store, wc, nil)
	return store, platform.New(platform.Config{Store: store, WeChat: wc, Crypter: cr, Tokens: tm, LoginPageBase: "http://login.invalid"})
}

func setup(t testing.TB) *bundle {
	t.Helper()
	sim, err := wechatsim.New(wechatsim.Config{ComponentAppID: appID, ComponentAppSecret: secret, Token: token, EncodingAESKey: aesKey})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	cr, err := wechat.NewCrypter(token, aesKey, "", appID)
	require.NoError(t, err)
	wc := wechat.NewClient(wechat.Config{BaseURL: srv.URL, ComponentAppID: appID, ComponentAppSecret: secret})
	b := &bundle{pool: pgtest.Pool(t), sim: sim, wc: wc, crypter: cr, simURL: srv.URL}
	b.store, b.svc = newService(t, b.pool, wc, cr)
	return b
}

// pushTicket has the simulator issue a ticket and delivers it as WeChat would.
func (b *bundle) pushTicket(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, b.sim.PushTicket(ctx)) // no event URL: only issues it
	xml := fmt.Sprintf("<xml><AppId><![CDATA[%s]]></AppId><CreateTime>%d</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket><![CDATA[%s]]></ComponentVerifyTicket></xml>",
		appID, time.Now().Unix(), b.sim.CurrentTicket())
	q, body, err := b.crypter.Seal([]byte(xml), strconv.FormatInt(time.Now().Unix(), 10), "nonce1")
	require.NoError(t, err)
	require.NoError(t, b.svc.HandlePush(ctx, q, body))
}

func (b *bundle) addAccounts(n int, mini func(i int) bool) []string {
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("wx%016x", 0xab0000+i)
		b.sim.AddAuthorizer(wechatsim.Authorizer{AppID: ids[i], NickName: "acct" + strconv.Itoa(i), MiniProgram: mini(i), PrincipalName: "p"})
	}
	return ids
}

func always(int) bool { return true }

// serviceThrough is a second console service on the same database whose
// calls to WeChat go through rt.
func (b *bundle) serviceThrough(t testing.TB, rt http.RoundTripper) *platform.Service {
	t.Helper()
	wc := wechat.NewClient(wechat.Config{BaseURL: b.simURL, ComponentAppID: appID, ComponentAppSecret: secret, HTTPClient: &http.Client{Transport: rt}})
	_, svc := newService(t, b.pool, wc, b.crypter)
	return svc
}

// synced has the console hold a ticket and n accounts, synced once.
func (b *bundle) synced(t *testing.T, n int) []string {
	t.Helper()
	b.pushTicket(t)
	ids := b.addAccounts(n, always)
	_, err := b.svc.Sync(context.Background())
	require.NoError(t, err)
	return ids
}

// dropRefreshToken makes the console lose an account's refresh token.
func (b *bundle) dropRefreshToken(t *testing.T, appid string) {
	t.Helper()
	_, err := b.pool.Exec(context.Background(), "UPDATE authorizers SET refresh_token_enc = NULL WHERE appid = $1", appid)
	require.NoError(t, err)
}

func TestComponentTokenNeedsTicket(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.svc.Tokens().ComponentAccessToken(context.Background())
	require.ErrorIs(t, err, platform.ErrNoTicket)
	c, _ := b.sim.TokenIssues()
	require.Zero(t, c)
}

func TestTwoInstancesRefreshOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.pushTicket(t)
	ids := b.addAccounts(1, always)
	// A second instance: its own pool and token manager on the same database.
	pool2, err := pgxpool.New(ctx, b.pool.Config().ConnString())
	require.NoError(t, err)
	t.Cleanup(pool2.Close)
	_, svc2 := newService(t, pool2, b.wc, b.crypter)
	managers := []*platform.TokenManager{b.svc.Tokens(), svc2.Tokens()}

	run := func(get func(m *platform.TokenManager) (string, error)) []string {
		var wg sync.WaitGroup
		start := make(chan struct{})
		out := make([]string, 16)
		errs := make([]error, 16)
		for i := range out {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				out[i], errs[i] = get(managers[i%2])
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		return out
	}
	comp := run(func(m *platform.TokenManager) (string, error) { return m.ComponentAccessToken(ctx) })
	for _, tok := range comp {
		require.Equal(t, comp[0], tok, "every caller reuses the one refreshed token")
	}
	c, a := b.sim.TokenIssues()
	require.Equal(t, 1, c, "one upstream component token refresh")
	require.Zero(t, a)

	_, err = b.svc.Sync(ctx)
	require.NoError(t, err)
	auth := run(func(m *platform.TokenManager) (string, error) { return m.AuthorizerAccessToken(ctx, ids[0]) })
	for _, tok := range auth {
		require.Equal(t, auth[0], tok)
	}
	c, a = b.sim.TokenIssues()
	require.Equal(t, 1, c)
	require.Equal(t, 1, a, "one upstream authorizer token refresh")

	st, err := b.svc.Status(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, st.ComponentTokenRefreshes)
	require.EqualValues(t, 1, st.AuthorizerTokenRefreshes)

	// Tokens are sealed at rest.
	var raw []byte
	require.NoError(t, b.pool.QueryRow(ctx, "SELECT access_token_enc FROM authorizer_tokens WHERE appid = $1", ids[0]).Scan(&raw))
	require.NotContains(t, string(raw), auth[0])
	var comptext string
	require.NoError(t, b.pool.QueryRow(ctx, "SELECT component_token FROM platforms").Scan(&comptext))
	require.NotContains(t, comptext, comp[0])
}

func TestTokenErrorRefreshesOnceAndRetriesOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ids := b.synced(t, 1)
	tm := b.svc.Tokens()
	_, err := tm.AuthorizerAccessToken(ctx, ids[0])
	require.NoError(t, err)

	// WeChat expires the tokens early (42001): one refresh, one retry, success.
	b.sim.ExpireTokens()
	calls := 0
	err = traffic.WithAuthorizerToken(ctx, tm, ids[0], slog.Default(), func(tok string) error {
		calls++
		_, err := b.wc.CheckCanOpenPublisher(ctx, tok)
		return err
	})
	require.NoError(t, err)
	require.Equal(t, 2, calls)
	c, a := b.sim.TokenIssues()
	require.Equal(t, 2, a, "refreshed once after the rejection")
	// The component token had expired too: the authorizer refresh met 42001,
	// refreshed it once and retried once.
	require.Equal(t, 2, c)
	_, err = b.svc.Sync(ctx)
	require.NoError(t, err)
	c, _ = b.sim.TokenIssues()
	require.Equal(t, 2, c, "later calls reuse it")

	// A call that keeps failing with 40001 is retried exactly once.
	calls = 0
	err = traffic.WithAuthorizerToken(ctx, tm, ids[0], slog.Default(), func(string) error {
		calls++
		return &wechat.Error{Code: 40001, Message: "invalid credential"}
	})
	require.Error(t, err)
	require.Equal(t, 2, calls)
	_, a = b.sim.TokenIssues()
	require.Equal(t, 3, a)
}

func TestSyncPagesThroughTheList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.pushTicket(t)
	b.addAccounts(1200, func(i int) bool { return i%10 != 0 })
	res, err := b.svc.Sync(ctx)
	require.NoError(t, err)
	require.Equal(t, 1200, res.Listed)
	require.Equal(t, 1200, res.New)
	require.Equal(t, 1200, res.InfoFetched)
	require.Equal(t, 1080, res.MiniPrograms, "MiniProgramInfo tells Mini Programs from Official Accounts")
	st, err := b.svc.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, 1200, st.Authorizers)
	require.Equal(t, 120, st.OfficialAccount)
	require.Zero(t, st.MissingRefresh)
	require.NotNil(t, st.LastSyncOK)
	require.True(t, *st.LastSyncOK)

	// Nothing changed: no profile is read again.
	res, err = b.svc.Sync(ctx)
	require.NoError(t, err)
	require.Zero(t, res.New)
	require.Zero(t, res.InfoFetched)
}

func TestSyncRevokesAccountsThatLeft(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ids := b.synced(t, 3)
	b.sim.RemoveAuthorizer(ids[1])
	res, err := b.svc.Sync(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, res.Revoked)
	var reason string
	var revoked bool
	require.NoError(t, b.pool.QueryRow(ctx, "SELECT revoked_at IS NOT NULL, revoked_reason FROM authorizers WHERE appid = $1", ids[1]).Scan(&revoked, &reason))
	require.True(t, revoked, "kept, marked revoked")
	require.Equal(t, "not in the authorizer list", reason)
	_, err = b.svc.Tokens().AuthorizerAccessToken(ctx, ids[1])
	require.Error(t, err)

	// Re-authorized later: back in the list, no longer revoked.
	a, _ := b.sim.Authorizer(ids[0])
	a.AppID = ids[1]
	b.sim.AddAuthorizer(a)
	res, err = b.svc.Sync(ctx)
	require.NoError(t, err)
	require.NoError(t, b.pool.QueryRow(ctx, "SELECT revoked_at IS NOT NULL FROM authorizers WHERE appid = $1", ids[1]).Scan(&revoked))
	require.False(t, revoked)
}

// listedThen delivers WeChat's authorizer list only after during has run:
// the list is a snapshot taken before whatever during does, as when a push
// arrives while a long sync pages through the list.
type listedThen struct {
	base   http.RoundTripper
	once   sync.Once
	during func()
}

func (l *listedThen) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.base.RoundTrip(r)
	if err != nil || !strings.HasSuffix(r.URL.Path, "/api_get_authorizer_list") {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	l.once.Do(l.during)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// A push that comes while a sync's list is on its way is newer than the
// list and stands: accounts revoked meanwhile are not written back as
// authorized (one the list shows unchanged, one it shows with a refresh
// token the console had lost), and one authorized meanwhile is not revoked
// for missing from the list.
func TestPushesDuringASyncStand(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ids := b.synced(t, 2)
	// ids[1] lost its refresh token: the list's makes the sync write it.
	b.dropRefreshToken(t, ids[1])

	const fresh = "wx00000000000f7e57"
	type revocation struct {
		at     *time.Time
		reason string
	}
	revocationOf := func(id string) revocation {
		var r revocation
		require.NoError(t, b.pool.QueryRow(ctx, "SELECT revoked_at, revoked_reason FROM authorizers WHERE appid = $1", id).Scan(&r.at, &r.reason))
		return r
	}
	pushed := map[string]revocation{}
	lt := &listedThen{base: http.DefaultTransport, during: func() {
		for _, id := range ids {
			b.sim.RemoveAuthorizer(id)
			xml := fmt.Sprintf("<xml><AppId><![CDATA[%s]]></AppId><CreateTime>%d</CreateTime><InfoType><![CDATA[unauthorized]]></InfoType><AuthorizerAppid><![CDATA[%s]]></AuthorizerAppid></xml>",
				appID, time.Now().Unix(), id)
			q, body, err := b.crypter.Seal([]byte(xml), strconv.FormatInt(time.Now().Unix(), 10), "nonce-"+id)
			require.NoError(t, err)
			require.NoError(t, b.svc.HandlePush(ctx, q, body))
			pushed[id] = revocationOf(id)
			require.NotNil(t, pushed[id].at)
		}
		// Authorized through the console's own flow while the list was on its way.
		require.NoError(t, b.store.SaveAuthorization(ctx, appID, fresh, "refresh-of-the-fresh-one", time.Now(), nil))
	}}
	svc := b.serviceThrough(t, lt)
	res, err := svc.Sync(ctx)
	require.NoError(t, err)
	require.Zero(t, res.Recovered, "a refresh token the list brought for an account revoked meanwhile was not written: nothing recovered")

	// Not even for a moment: written back as authorized, the account would
	// be revoked again only by the profile read that follows (61003), with
	// another time and reason.
	require.Equal(t, pushed[ids[0]], revocationOf(ids[0]), "revoked meanwhile, listed unchanged: the push's revocation stands")
	require.Equal(t, pushed[ids[1]], revocationOf(ids[1]), "revoked meanwhile, listed with a refresh token: the push's revocation stands")
	require.Nil(t, revocationOf(fresh).at, "authorized meanwhile, missing from the older list: stays authorized")
}

func TestSyncRecoversLostRefreshToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ids := b.synced(t, 2)
	b.dropRefreshToken(t, ids[0])

	res, err := b.svc.Sync(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, res.Recovered)
	tok, err := b.svc.Tokens().AuthorizerAccessToken(ctx, ids[0])
	require.NoError(t, err)
	require.NotEmpty(t, tok)
	var raw []byte
	require.NoError(t, b.pool.QueryRow(ctx, "SELECT refresh_token_enc FROM authorizers WHERE appid = $1", ids[0]).Scan(&raw))
	a, _ := b.sim.Authorizer(ids[0])
	require.NotContains(t, string(raw), a.RefreshToken, "sealed at rest")
}

func TestRejectedRefreshTokenIsRecoveredFromTheList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ids := b.synced(t, 2)
	// The stored refresh token went stale (a restore from an old backup, say):
	// WeChat answers 61023, and the manager takes the current one from the list.
	require.NoError(t, b.store.SaveAuthorization(ctx, appID, ids[0], "stale-refresh-token", time.Now(), nil))
	tok, err := b.svc.Tokens().AuthorizerAccessToken(ctx, ids[0])
	require.NoError(t, err)
	require.NotEmpty(t, tok)
	var stored string
	require.NoError(t, b.store.EachAuthorizerState(ctx, appID, func(st platform.AuthorizerState) error {
		if st.AppID == ids[0] {
			stored = st.RefreshToken
		}
		return nil
	}))
	a, _ := b.sim.Authorizer(ids[0])
	require.Equal(t, a.RefreshToken, stored, "the recovered token is stored")

	// An account that left the platform has nothing to recover: WeChat says
	// so (61003) and its answer is kept for the audit trail.
	b.sim.RemoveAuthorizer(ids[1])
	_, err = b.svc.Tokens().AuthorizerAccessToken(ctx, ids[1])
	code, _ := wechat.CodeOf(err)
	require.Equal(t, 61003, code)
}

// listWatch calls seen with the offset of every authorizer list request
// before passing it on, and fails the request when seen returns an error.
type listWatch struct {
	base http.RoundTripper
	seen func(offset int) error
}

func (l *listWatch) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/api_get_authorizer_list") {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		var req struct {
			Offset int `json:"offset"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, err
		}
		if err := l.seen(req.Offset); err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return l.base.RoundTrip(r)
}

// A sync compares, writes and reads the profiles of each page of the list
// before it asks for the next, so a million accounts never sit in memory as
// one list; the accounts it already holds are found whatever order the
// store and the list give them in.
func TestSyncWritesEachPageBeforeTheNext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.pushTicket(t)
	// Listed (and so first stored) out of the appids' byte order.
	ids := make([]string, 1200)
	for i, n := range rand.New(rand.NewPCG(1, 2)).Perm(len(ids)) {
		ids[i] = fmt.Sprintf("wx%016x", 0xcd0000+n)
		b.sim.AddAuthorizer(wechatsim.Authorizer{AppID: ids[i], NickName: "acct" + strconv.Itoa(n), MiniProgram: true, PrincipalName: "p"})
	}
	stored := map[int]int{}
	lw := &listWatch{base: http.DefaultTransport, seen: func(offset int) error {
		var n int
		require.NoError(t, b.pool.QueryRow(ctx, "SELECT count(*) FROM authorizers WHERE info_synced_at IS NOT NULL").Scan(&n))
		stored[offset] = n
		return nil
	}}
	svc := b.serviceThrough(t, lw)
	res, err := svc.Sync(ctx)
	require.NoError(t, err)
	require.Equal(t, 1200, res.New)
	require.Equal(t, map[int]int{0: 0, 500: 500, 1000: 1000}, stored, "each page written, with its profiles, before the next was asked for")

	// Again, with one account gone and one with a new refresh token: only
	// those two change.
	b.sim.RemoveAuthorizer(ids[700])
	b.dropRefreshToken(t, ids[300])
	res, err = svc.Sync(ctx)
	require.NoError(t, err)
	require.Equal(t, platform.SyncResult{Listed: 1199, InfoFetched: 1, MiniPrograms: 1199, Recovered: 1, Revoked: 1}, res)
}

// A sync whose walk of the list fails part way keeps the pages it wrote and
// revokes nothing: the accounts on the pages it never read are not gone.
func TestASyncThatFailsPartWayRevokesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ids := b.synced(t, 1200)
	b.sim.RemoveAuthorizer(ids[100])
	b.dropRefreshToken(t, ids[200])
	lw := &listWatch{base: http.DefaultTransport, seen: func(offset int) error {
		if offset == 1000 {
			return errors.New("connection reset")
		}
		return nil
	}}
	svc := b.serviceThrough(t, lw)
	res, err := svc.Sync(ctx)
	require.Error(t, err)
	require.Equal(t, 1000, res.Listed)
	require.Equal(t, 1, res.Recovered, "the pages before the failure were written")
	require.Zero(t, res.Revoked)
	var revoked int
	require.NoError(t, b.pool.QueryRow(ctx, "SELECT count(*) FROM authorizers WHERE revoked_at IS NOT NULL").Scan(&revoked))
	require.Zero(t, revoked, "not even the account that did leave: the list was not read to its end")
	st, err := svc.Status(ctx)
	require.NoError(t, err)
	require.NotNil(t, st.LastSyncOK)
	require.False(t, *st.LastSyncOK)
}
