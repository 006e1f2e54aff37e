package main

import (
	"context"
	"runtime/debug"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/web"
)

// serveMemoryTarget is the heap size the collector works to stay under
// unless GOMEMLIMIT says otherwise: the password hashes' budget plus room for
// everything else. Without it the collector lets a burst of sign-ins (64 MiB
// of garbage per hash) grow the heap to about twice the budget before it
// runs. It is a soft target: a process that needs more still gets it.
const serveMemoryTarget = core.HashMemoryBudget + 256<<20

func cmdServe(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "serve", "serve\n\nServes the console. Configuration comes from the environment:\n  DATABASE_URL, SECRET_KEY, WECHAT_COMPONENT_APPID, WECHAT_COMPONENT_APPSECRET,\n  WECHAT_COMPONENT_TOKEN, WECHAT_COMPONENT_AES_KEY (required);\n  ADDR (:8080), PUBLIC_URL, WECHAT_COMPONENT_AES_KEY_PREVIOUS, WECHAT_API_BASE_URL,\n  SESSION_IDLE_TIMEOUT (30m), SESSION_MAX_AGE (12h), TIME_ZONE (Asia/Shanghai),\n  SYNC_INTERVAL (1h), RATE_PER_SECOND (5), WORKER_CONCURRENCY (8), RETRY_BACKOFF (5s),\n  TRUSTED_PROXIES, GOMEMLIMIT (512MiB).\n")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if e.getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serveMemoryTarget)
	}
	a, log, err := loadApp(ctx, e, jsonLog)
	if err != nil {
		return err
	}
	defer a.Close()
	cfg := a.Config
	log.Info("serving", "addr", cfg.Addr, "public_url", cfg.PublicURL)
	console := web.ForApp(a)
	return a.Run(ctx, func(ctx context.Context) error { return console.Run(ctx, cfg.Addr) })
}
