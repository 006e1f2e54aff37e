package app

import (
	"context"
	"fmt"

	"github.com/trafficmaster/trafficmaster/internal/platform"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/secretbox"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
	"github.com/trafficmaster/trafficmaster/web"
)

// wirePlatform builds the token manager, the platform service, its routes
// and its background work (first-ticket request and periodic sync).
func (a *App) wirePlatform(deps *web.Deps, opt Options) error {
	box, err := secretbox.New(a.Config.Key("at-rest"))
	if err != nil {
		return err
	}
	w := a.Config.WeChat
	crypter, err := wechat.NewCrypter(w.Token, w.AESKey, w.AESKeyPrevious, w.ComponentAppID)
	if err != nil {
		return fmt.Errorf("WECHAT_COMPONENT_AES_KEY: %w", err)
	}
	a.PlatformStore = &postgres.PlatformStore{Pool: a.Pool, Box: box}
	tm := platform.NewTokenManager(a.PlatformStore, a.WeChat, a.Log)
	tm.Now = opt.Now
	a.TokenManager = tm
	a.Tokens = tm
	a.Platform = platform.New(platform.Config{
		Store: a.PlatformStore, WeChat: a.WeChat, Crypter: crypter, Tokens: tm,
		LoginPageBase: w.LoginPageBase, Log: a.Log, Now: opt.Now,
	})
	deps.Features = append(deps.Features, &web.Platform{Service: a.Platform})
	a.Background = append(a.Background, func(ctx context.Context) error {
		// A fresh install has no ticket; ask WeChat to push one instead of waiting ten minutes.
		if err := a.Platform.EnsureTicket(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("asking WeChat to push a ticket failed; it arrives within ten minutes anyway", "err", err)
		}
		return nil
	})
	// The periodic sync is a scheduled job on the queue (see schedules in
	// jobs.go), so one instance runs it however many are up.
	return nil
}
