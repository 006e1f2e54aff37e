package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"

	"github.com/trafficmaster/trafficmaster/internal/jobs"
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

// wireTraffic builds the traffic-master service and the console pages,
// keeps this instance's liveness (a lease and a lock that survive database
// restarts) and marks the orphans of dead instances.
func (a *App) wireTraffic(ctx context.Context, deps *web.Deps, opt Options) error {
	var b [8]byte
	_, _ = rand.Read(b[:])
	a.InstanceID = hex.EncodeToString(b[:])
	live, err := postgres.StartLiveness(ctx, a.Pool, a.InstanceID, a.Config.InstanceLease, a.Log)
	if err != nil {
		return err
	}
	a.closers = append(a.closers, live.Stop)
	a.Attempts = &postgres.TrafficStore{Pool: a.Pool, HandOverJobKinds: []string{jobs.RunItemArgs{}.Kind()}}
	a.Traffic = &traffic.Service{Store: a.Attempts, WeChat: a.WeChat, Tokens: lazyTokens{a}, InstanceID: a.InstanceID, Now: opt.Now, Log: a.Log}
	a.Attempts.Completing = a.Traffic.Completing
	recoverOrphans := func(ctx context.Context) {
		if r, err := a.Attempts.Recover(ctx, a.InstanceID); err != nil {
			if ctx.Err() == nil {
				a.Log.Warn("recover interrupted attempts", "err", err)
			}
		} else if r.Attempts > 0 || r.Jobs > 0 {
			a.Log.Warn("took over the work of stopped instances", "interrupted_attempts", r.Attempts, "handed_over_jobs", r.Jobs)
		}
	}
	recoverOrphans(ctx)
	// Neighbours may die while this instance runs: their orphans are found
	// within a lease and a half of their death.
	a.Background = append(a.Background, func(ctx context.Context) error {
		return Every(ctx, live.Lease/2, recoverOrphans)
	})
	deps.Features = append(deps.Features, &web.Console{Attempter: a.Traffic, Store: a.Attempts})
	return nil
}
