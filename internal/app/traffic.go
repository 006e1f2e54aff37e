package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/web"
)

// lazyTokens reads App.Tokens at call time, so the token manager may be
// wired before or after the traffic service.
type lazyTokens struct{ a *App }

var errNoTokenManager = errors.New("no authorizer token manager is configured")

func (t lazyTokens) AuthorizerAccessToken(ctx context.Context, appID string) (string, error) {
	if t.a.Tokens == nil {
		return "", errNoTokenManager
	}
	return t.a.Tokens.AuthorizerAccessToken(ctx, appID)
}

func (t lazyTokens) InvalidateAuthorizerToken(ctx context.Context, appID, token string) error {
	if t.a.Tokens == nil {
		return errNoTokenManager
	}
	return t.a.Tokens.InvalidateAuthorizerToken(ctx, appID, token)
}

// wireTraffic builds the traffic-master service and the console pages, holds
// this instance's liveness lock and marks the orphans of dead instances.
func (a *App) wireTraffic(ctx context.Context, deps *web.Deps, opt Options) error {
	var b [8]byte
	_, _ = rand.Read(b[:])
	a.InstanceID = hex.EncodeToString(b[:])
	release, err := postgres.HoldInstanceLock(ctx, a.Pool, a.InstanceID)
	if err != nil {
		return err
	}
	a.closers = append(a.closers, release)
	a.Attempts = &postgres.TrafficStore{Pool: a.Pool}
	a.Traffic = &traffic.Service{Store: a.Attempts, WeChat: a.WeChat, Tokens: lazyTokens{a}, InstanceID: a.InstanceID, Now: opt.Now, Log: a.Log}
	if n, err := a.Attempts.RecoverInterrupted(ctx, a.InstanceID); err != nil {
		return err
	} else if n > 0 {
		a.Log.Warn("marked attempts of stopped instances interrupted", "count", n)
	}
	// Neighbours may die while this instance runs; their orphans are found here.
	a.Background = append(a.Background, func(ctx context.Context) error {
		return Every(ctx, time.Minute, func(ctx context.Context) {
			if n, err := a.Attempts.RecoverInterrupted(ctx, a.InstanceID); err != nil {
				a.Log.Warn("recover interrupted attempts", "err", err)
			} else if n > 0 {
				a.Log.Warn("marked attempts of stopped instances interrupted", "count", n)
			}
		})
	})
	deps.Features = append(deps.Features, &web.Console{Attempter: a.Traffic, Store: a.Attempts})
	return nil
}
