package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
)

// The demo platform's push secrets, shared by dev, wechat-sim and the docs.
const (
	devComponentSecret = "demo-component-secret"
	devPushToken       = "demo-push-token"
)

func cmdWeChatSim(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "wechat-sim", "wechat-sim [flags]\n\nRuns the local WeChat simulator on its own, with the demo accounts. Point a console's\nWECHAT_API_BASE_URL and WECHAT_LOGIN_PAGE_BASE_URL at it and give -event-url the\nconsole's PUBLIC_URL + /wechat/events so it pushes tickets there.")
	addr := fs.String("addr", "localhost:8090", "address to serve on")
	eventURL := fs.String("event-url", "http://localhost:8080/wechat/events", "the console's authorization event URL (empty: do not push)")
	appID := fs.String("appid", devComponentAppID, "component appid")
	secret := fs.String("secret", devComponentSecret, "component app secret")
	token := fs.String("token", devPushToken, "push verification token")
	aesKey := fs.String("aes-key", devAESKey, "43-character EncodingAESKey")
	interval := fs.Duration("push-interval", 10*time.Minute, "how often a verify ticket is pushed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	sim, err := wechatsim.New(wechatsim.Config{ComponentAppID: *appID, ComponentAppSecret: *secret, Token: *token, EncodingAESKey: *aesKey,
		EventURL: *eventURL, PushInterval: *interval, Logger: log})
	if err != nil {
		return err
	}
	sim.AddDemoAccounts(wechatsim.DemoAuthorizers())
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "WeChat simulator on http://%s (pushing to %s)\n", ln.Addr(), *eventURL)
	return serveSim(ctx, sim, ln)
}

// serveSim serves the simulator on ln and pushes tickets until ctx ends.
func serveSim(ctx context.Context, sim *wechatsim.Sim, ln net.Listener) error {
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	g.Go(func() error {
		if err := sim.Run(gctx); err != nil && gctx.Err() == nil {
			return err
		}
		return nil
	})
	return g.Wait()
}
