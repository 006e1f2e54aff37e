package main

import (
	"context"
	"log/slog"

	"golang.org/x/sync/errgroup"

	"github.com/trafficmaster/trafficmaster/internal/config"
)

func cmdServe(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "serve", "serve\n\nServes the console. Configuration comes from the environment:\n  DATABASE_URL, SECRET_KEY, WECHAT_COMPONENT_APPID, WECHAT_COMPONENT_APPSECRET,\n  WECHAT_COMPONENT_TOKEN, WECHAT_COMPONENT_AES_KEY (required);\n  ADDR (:8080), PUBLIC_URL, WECHAT_COMPONENT_AES_KEY_PREVIOUS, WECHAT_API_BASE_URL,\n  SESSION_IDLE_TIMEOUT (30m), SESSION_MAX_AGE (12h), TIME_ZONE (Asia/Shanghai),\n  SYNC_INTERVAL (1h), RATE_PER_SECOND (5), WORKER_CONCURRENCY (8), TRUST_PROXY.\n")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(e.stderr, nil))
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	a.server.TrustProxy = e.getenv("TRUST_PROXY") == "true"
	log.Info("serving", "addr", cfg.Addr, "public_url", cfg.PublicURL)
	return a.runAll(ctx, cfg.Addr)
}

// runAll serves HTTP and runs the background work until ctx ends or one fails.
func (a *app) runAll(ctx context.Context, addr string) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.server.Run(gctx, addr) })
	for _, bg := range a.background {
		g.Go(func() error { return bg(gctx) })
	}
	return g.Wait()
}
