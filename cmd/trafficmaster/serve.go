package main

import (
	"context"
)

func cmdServe(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "serve", "serve\n\nServes the console. Configuration comes from the environment:\n  DATABASE_URL, SECRET_KEY, WECHAT_COMPONENT_APPID, WECHAT_COMPONENT_APPSECRET,\n  WECHAT_COMPONENT_TOKEN, WECHAT_COMPONENT_AES_KEY (required);\n  ADDR (:8080), PUBLIC_URL, WECHAT_COMPONENT_AES_KEY_PREVIOUS, WECHAT_API_BASE_URL,\n  SESSION_IDLE_TIMEOUT (30m), SESSION_MAX_AGE (12h), TIME_ZONE (Asia/Shanghai),\n  SYNC_INTERVAL (1h), RATE_PER_SECOND (5), WORKER_CONCURRENCY (8), RETRY_BACKOFF (5s),\n  TRUSTED_PROXIES.\n")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, log, err := loadApp(ctx, e, jsonLog)
	if err != nil {
		return err
	}
	defer a.Close()
	cfg := a.Config
	log.Info("serving", "addr", cfg.Addr, "public_url", cfg.PublicURL)
	return a.Run(ctx, cfg.Addr)
}
