package wechatsim

import (
	"context"
	"sync"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// Tokens hands out authorizer access tokens straight from the simulator,
// through a real WeChat client, for tests of code that calls WeChat with an
// account's token (the traffic service, bulk runs, the console's clicks)
// without depending on how the platform's token manager stores them; that
// manager is tested on its own. It satisfies traffic.AuthorizerTokens and is
// the one such fake every test uses.
type Tokens struct {
	Sim    *Sim
	Client *wechat.Client

	mu   sync.Mutex
	comp string
	toks map[string]string
}

// AuthorizerAccessToken returns the token held for appID, or asks the
// simulator for one with the account's current refresh token.
func (t *Tokens) AuthorizerAccessToken(ctx context.Context, appID string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tok, ok := t.toks[appID]; ok {
		return tok, nil
	}
	if err := t.component(ctx); err != nil {
		return "", err
	}
	au, _ := t.Sim.Authorizer(appID)
	at, err := t.Client.AuthorizerToken(ctx, t.comp, appID, au.RefreshToken)
	if err != nil {
		return "", err
	}
	t.use(appID, at.AccessToken)
	return at.AccessToken, nil
}

// InvalidateAuthorizerToken forgets token if it is still the one held for appID.
func (t *Tokens) InvalidateAuthorizerToken(_ context.Context, appID, token string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.toks[appID] == token {
		delete(t.toks, appID)
	}
	return nil
}

// Use makes token the one held for appID, e.g. a stale one WeChat will reject.
func (t *Tokens) Use(appID, token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.use(appID, token)
}

func (t *Tokens) use(appID, token string) {
	if t.toks == nil {
		t.toks = map[string]string{}
	}
	t.toks[appID] = token
}

// component fetches the component token once. t.mu must be held.
func (t *Tokens) component(ctx context.Context) error {
	if t.comp != "" {
		return nil
	}
	_ = t.Sim.PushTicket(ctx) // the ticket is kept even if the push is not acknowledged
	ct, err := t.Client.ComponentToken(ctx, t.Sim.CurrentTicket())
	if err != nil {
		return err
	}
	t.comp = ct.Value
	return nil
}

// WithComponentToken runs fn with the component token, as the platform's
// token manager does for the provider-wide calls (revenue's pulls).
func (t *Tokens) WithComponentToken(ctx context.Context, fn func(token string) error) error {
	t.mu.Lock()
	err := t.component(ctx)
	comp := t.comp
	t.mu.Unlock()
	if err != nil {
		return err
	}
	return fn(comp)
}
