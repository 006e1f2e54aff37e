package platform

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// DefaultMinLife is how much life a token must have left to be reused; below
// it the token is refreshed, so a call never starts with a token about to die.
const DefaultMinLife = 5 * time.Minute

// ErrNoTicket means no component_verify_ticket has been pushed yet.
var ErrNoTicket = core.Errorf(core.EINVALID, "No component_verify_ticket has arrived from WeChat yet; check the authorization event URL.")

// TokenManager hands out component and authorizer access tokens kept in
// Postgres, refreshing each by one process at a time across every instance.
// It implements traffic.AuthorizerTokens.
type TokenManager struct {
	Store          Store
	WeChat         *wechat.Client
	ComponentAppID string
	Log            *slog.Logger
	Now            func() time.Time
	MinLife        time.Duration
	// Alerts hears when the component token cannot be obtained (nil: nobody).
	Alerts Alerter
}

var _ traffic.AuthorizerTokens = (*TokenManager)(nil)

// NewTokenManager builds a TokenManager with the default clock and margin.
func NewTokenManager(store Store, wc *wechat.Client, log *slog.Logger) *TokenManager {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &TokenManager{Store: store, WeChat: wc, ComponentAppID: wc.ComponentAppID(), Log: log, Now: time.Now, MinLife: DefaultMinLife}
}

// ComponentAccessToken returns the platform's token, refreshing it when stale.
func (m *TokenManager) ComponentAccessToken(ctx context.Context) (string, error) {
	tok, err := m.Store.ComponentToken(ctx, m.ComponentAppID)
	if err != nil {
		return "", err
	}
	if tok.fresh(m.Now(), m.MinLife) {
		return tok.Value, nil
	}
	tok, err = m.Store.RefreshComponentToken(ctx, m.ComponentAppID, func(cur Token, ticket string) (Token, bool, error) {
		// Another instance may have refreshed while this one waited for the lock.
		if cur.fresh(m.Now(), m.MinLife) {
			return cur, false, nil
		}
		if ticket == "" {
			return Token{}, false, ErrNoTicket
		}
		t, err := m.WeChat.ComponentToken(ctx, ticket)
		if err != nil {
			return Token{}, false, err
		}
		m.Log.Info("component token refreshed", "component_appid", m.ComponentAppID, "expires_in", t.ExpiresIn.String())
		return Token{Value: t.Value, ExpiresAt: m.Now().Add(t.ExpiresIn)}, true, nil
	})
	if err != nil {
		m.alertNoComponentToken(ctx, err)
	}
	return tok.Value, err
}

// InvalidateComponentToken forgets a token WeChat rejected, unless a newer one replaced it.
func (m *TokenManager) InvalidateComponentToken(ctx context.Context, token string) error {
	return m.Store.InvalidateComponentToken(ctx, m.ComponentAppID, token)
}

// AuthorizerAccessToken returns an account's token for a call, refreshing
// it when stale; the store records the use.
func (m *TokenManager) AuthorizerAccessToken(ctx context.Context, appID string) (string, error) {
	tok, err := m.Store.AuthorizerToken(ctx, appID)
	if err != nil {
		return "", err
	}
	if tok.fresh(m.Now(), m.MinLife) {
		return tok.Value, nil
	}
	return m.refreshAuthorizerToken(ctx, appID)
}

// RenewAuthorizerToken refreshes an account's token when it has less than
// MinLife left, as AuthorizerAccessToken does, without counting as a use of
// it: the token schedule's renewal ahead of expiry, which renews only tokens
// that calls used (PlatformStore.TokensExpiringWithin).
func (m *TokenManager) RenewAuthorizerToken(ctx context.Context, appID string) error {
	_, err := m.refreshAuthorizerToken(ctx, appID)
	return err
}

// refreshAuthorizerToken refreshes an account's token under its lock, unless
// it has MinLife left when the lock is held.
func (m *TokenManager) refreshAuthorizerToken(ctx context.Context, appID string) (string, error) {
	// The component token is fetched before taking the account's lock, so a
	// refresh never holds one pooled connection while waiting for another.
	var out Token
	err := m.WithComponentToken(ctx, func(comp string) error {
		var err error
		out, err = m.Store.RefreshAuthorizerToken(ctx, m.ComponentAppID, appID, func(cur Token, refresh string) (Token, string, bool, error) {
			if cur.fresh(m.Now(), m.MinLife) {
				return cur, "", false, nil
			}
			t, err := m.WeChat.AuthorizerToken(ctx, comp, appID, refresh)
			if code, _ := wechat.CodeOf(err); refresh == "" || code == codeRefreshTokenInvalid {
				// A lost or stale refresh token is the classic outage; WeChat's
				// authorizer list holds the current one, so recover it from there
				// rather than ask the merchant to authorize again.
				recovered, rerr := m.recoverRefreshToken(ctx, comp, appID, refresh)
				if rerr != nil {
					if err == nil {
						err = rerr
					}
					return Token{}, "", false, err
				}
				m.Log.Warn("refresh token recovered from the authorizer list", "appid", appID, "after", code)
				refresh = recovered
				t, err = m.WeChat.AuthorizerToken(ctx, comp, appID, refresh)
			}
			if err != nil {
				return Token{}, "", false, err
			}
			if t.RefreshToken == "" {
				t.RefreshToken = refresh
			}
			m.Log.Info("authorizer token refreshed", "appid", appID, "expires_in", t.ExpiresIn.String())
			return Token{Value: t.AccessToken, ExpiresAt: m.Now().Add(t.ExpiresIn)}, t.RefreshToken, true, nil
		})
		return err
	})
	return out.Value, err
}

// InvalidateAuthorizerToken forgets a token WeChat rejected, unless a newer one replaced it.
func (m *TokenManager) InvalidateAuthorizerToken(ctx context.Context, appID, token string) error {
	return m.Store.InvalidateAuthorizerToken(ctx, appID, token)
}

// WithComponentToken runs fn with the component token; when WeChat answers
// 40001, 40014 or 42001 it refreshes once and retries once.
func (m *TokenManager) WithComponentToken(ctx context.Context, fn func(token string) error) error {
	tok, err := m.ComponentAccessToken(ctx)
	if err != nil {
		return err
	}
	err = fn(tok)
	if !wechat.IsTokenError(err) {
		return err
	}
	m.Log.Warn("component token rejected; refreshing once", "err", err)
	if ierr := m.InvalidateComponentToken(ctx, tok); ierr != nil {
		return errors.Join(err, ierr)
	}
	if tok, err = m.ComponentAccessToken(ctx); err != nil {
		return err
	}
	return fn(tok)
}

// codeRefreshTokenInvalid is WeChat's answer to a refresh token it no longer accepts.
const codeRefreshTokenInvalid = 61023

// recoverRefreshToken finds the account's current refresh token in WeChat's
// authorizer list. It fails when the account is not listed (it unbound the
// platform) or the list holds no better token than the one that failed.
func (m *TokenManager) recoverRefreshToken(ctx context.Context, comp, appID, failed string) (string, error) {
	var found string
	err := wechat.WalkAuthorizers(func(offset int) (wechat.AuthorizerListPage, error) {
		return m.WeChat.AuthorizerList(ctx, comp, offset, wechat.MaxAuthorizerListCount)
	}, func(page []wechat.AuthorizerListItem) error {
		for _, it := range page {
			if it.AppID == appID {
				found = it.RefreshToken
				return errListed
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errListed) {
		return "", err
	}
	if found == "" || found == failed {
		return "", core.Errorf(core.EINVALID, "WeChat has no usable refresh token for %s; the account may have to authorize the platform again.", appID)
	}
	return found, nil
}

// errListed ends a walk of the authorizer list at the account it looked for.
var errListed = errors.New("found in the authorizer list")
