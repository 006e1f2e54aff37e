package main

import (
	"context"
	"fmt"

	"github.com/trafficmaster/trafficmaster/internal/app"
)

func cmdSync(ctx context.Context, e env, args []string) error {
	usage := "sync\n\nReads every authorizer from WeChat once (configuration as for serve), stores new and\nchanged accounts, recovers lost refresh tokens and marks accounts that left as revoked."
	if err := newFlags(e, "sync", usage).Parse(args); err != nil {
		return err
	}
	return withApp(ctx, e, textLog, func(a *app.App) error {
		res, err := a.Platform.Sync(ctx)
		if err != nil {
			return fmt.Errorf("sync: %w", err)
		}
		fmt.Fprintf(e.stdout, "listed %d, new %d, profiles read %d, mini programs %d, refresh tokens recovered %d, revoked %d, failed %d\n",
			res.Listed, res.New, res.InfoFetched, res.MiniPrograms, res.Recovered, res.Revoked, res.Failed)
		return nil
	})
}
