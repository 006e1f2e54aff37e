package main

import (
	"context"
	"log/slog"

	"github.com/trafficmaster/trafficmaster/internal/app"
	"github.com/trafficmaster/trafficmaster/internal/config"
)

// cmdWorker runs the queue's workers and the background work without the
// HTTP server, so web and workers scale apart.
func cmdWorker(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "worker", "worker\n\nRuns bulk-run and scheduled jobs only (no HTTP). Same environment as serve;\n  RATE_PER_SECOND (5) is shared by every instance, WORKER_CONCURRENCY (8) is per process.\n")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(e.stderr, nil))
	a, err := app.New(ctx, cfg, log, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	log.Info("worker started", "rate_per_second", cfg.RatePerSecond, "concurrency", cfg.Concurrency)
	return a.RunBackground(ctx)
}
