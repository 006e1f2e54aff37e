package wechatsim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestSim(t *testing.T) *Sim {
	t.Helper()
	s, err := New(Config{ComponentAppID: "wxc", ComponentAppSecret: "s", Token: "t", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFE"})
	require.NoError(t, err)
	return s
}

func TestNewValidates(t *testing.T) {
	_, err := New(Config{ComponentAppID: "wxc", ComponentAppSecret: "s", Token: "t", EncodingAESKey: "short"})
	require.Error(t, err)
	_, err = New(Config{Token: "t", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFE"})
	require.Error(t, err)
}

func TestMethodAndBodyErrors(t *testing.T) {
	srv := httptest.NewServer(newTestSim(t).Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/cgi-bin/component/api_component_token")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(b), `"errcode":43002`)

	resp, err = http.Post(srv.URL+"/cgi-bin/component/api_component_token", "application/json", strings.NewReader("not json"))
	require.NoError(t, err)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(b), `"errcode":47001`)
}

func TestScriptTimesAndConcurrentUse(t *testing.T) {
	s := newTestSim(t)
	s.Script("wx1", ActionCreate, Behavior{Ret: -202, Times: 3})
	var wg sync.WaitGroup
	var mu sync.Mutex
	scripted := 0
	for range 10 {
		wg.Go(func() {
			if _, ok := s.takeScript("wx1", ActionCreate); ok {
				mu.Lock()
				scripted++
				mu.Unlock()
			}
			_ = s.CallLog()
			s.AddAuthorizer(Authorizer{AppID: "wx2"})
		})
	}
	wg.Wait()
	assert.Equal(t, 3, scripted)
	a, ok := s.Authorizer("wx2")
	require.True(t, ok)
	assert.NotEmpty(t, a.RefreshToken)
	assert.Equal(t, 1, a.AccountStatus)
}
