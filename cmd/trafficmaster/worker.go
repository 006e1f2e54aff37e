package main

import (
	"context"
)

// cmdWorker runs the queue's workers and the background work without the
// HTTP server, so web and workers scale apart.
func cmdWorker(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "worker", "worker\n\nRuns bulk-run and scheduled jobs only (no HTTP). Same environment as serve;\n  RATE_PER_SECOND (5) is shared by every instance, WORKER_CONCURRENCY (8) is per process.\n")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, log, err := loadApp(ctx, e, jsonLog)
	if err != nil {
		return err
	}
	defer a.Close()
	cfg := a.Config
	log.Info("worker started", "rate_per_second", cfg.RatePerSecond, "concurrency", cfg.Concurrency)
	return a.Run(ctx)
}
