package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/app"
	"github.com/trafficmaster/trafficmaster/internal/config"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/pgcluster"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/wechat/wechatsim"
	"github.com/trafficmaster/trafficmaster/web"
)

// Demo staff created on first start; the passwords are printed, as this is a
// local demo with a private database.
var demoStaff = []struct {
	name, password string
	role           core.Role
}{
	{"admin", "admin-demo-pass", core.RoleAdmin},
	{"operator", "operator-demo-pass", core.RoleOperator},
	{"viewer", "viewer-demo-pass", core.RoleViewer},
}

func cmdDev(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "dev", "dev [-data DIR] [-addr ADDR]\n\nRuns the console with everything it needs on this machine: a private PostgreSQL\ncluster in DIR (kept across runs), the WeChat simulator, demo staff and demo data.")
	dataDir := fs.String("data", ".dev", "folder for the private database and demo secrets")
	addr := fs.String("addr", "localhost:8080", "address to serve on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		return err
	}
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{DataDir: filepath.Join(*dataDir, "pgdata"), Log: func(f string, a ...any) { log.Info(fmt.Sprintf(f, a...)) }})
	if err != nil {
		return err
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			log.Error("stop PostgreSQL", "err", err)
		}
	}()
	if err := postgres.EnsureDatabase(ctx, cluster.DSN("postgres"), "trafficmaster"); err != nil {
		return err
	}
	secret, err := devSecret(filepath.Join(*dataDir, "secret-key"))
	if err != nil {
		return err
	}
	port := (*addr)[strings.LastIndex(*addr, ":")+1:]
	publicURL := "http://localhost:" + port
	// The simulator starts first: the console's configuration points at its address.
	sim, simURL, err := startDevSim(ctx, log, publicURL+"/wechat/events")
	if err != nil {
		return err
	}
	vars := map[string]string{
		"DATABASE_URL":               cluster.DSN("trafficmaster"),
		"SECRET_KEY":                 secret,
		"PUBLIC_URL":                 publicURL,
		"WECHAT_COMPONENT_APPID":     devComponentAppID,
		"WECHAT_COMPONENT_APPSECRET": devComponentSecret,
		"WECHAT_COMPONENT_TOKEN":     devPushToken,
		"WECHAT_COMPONENT_AES_KEY":   devAESKey,
		"WECHAT_API_BASE_URL":        simURL,
		"WECHAT_LOGIN_PAGE_BASE_URL": simURL,
		"SYNC_INTERVAL":              "5m",
	}
	if e.getenv("RATE_PER_SECOND") == "" {
		vars["RATE_PER_SECOND"] = devRevenueRate
	}
	cfg, err := config.Load(func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return e.getenv(k)
	})
	if err != nil {
		return err
	}
	cfg.Addr = *addr
	a, err := app.New(ctx, cfg, log, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := ensureDemoStaff(ctx, a); err != nil {
		return err
	}
	go startDevWeChat(ctx, a, sim, log)
	fmt.Fprintf(e.stdout, "\nTrafficmaster is running at %s\n", cfg.PublicURL)
	for _, s := range demoStaff {
		fmt.Fprintf(e.stdout, "  sign in as %-9s password %-20s (%s)\n", s.name, s.password, s.role)
	}
	fmt.Fprintln(e.stdout, "Press Ctrl+C to stop; the database stays in", filepath.Join(*dataDir, "pgdata"))
	console := web.ForApp(a)
	return a.Run(ctx, func(ctx context.Context) error { return console.Run(ctx, cfg.Addr) })
}

// Fixed demo platform identity, shared with the in-process simulator.
const (
	devComponentAppID = "wxdemocomponent0001"
	devAESKey         = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

// startDevSim serves the simulator with the demo accounts on a free local
// port; it pushes nothing until startDevWeChat runs it.
func startDevSim(ctx context.Context, log *slog.Logger, eventURL string) (*wechatsim.Sim, string, error) {
	sim, err := wechatsim.New(wechatsim.Config{ComponentAppID: devComponentAppID, ComponentAppSecret: devComponentSecret,
		Token: devPushToken, EncodingAESKey: devAESKey, EventURL: eventURL, Logger: log})
	if err != nil {
		return nil, "", err
	}
	sim.AddDemoAccounts(wechatsim.DemoAuthorizers())
	markDemoOpened(sim, wechatsim.DemoAuthorizers(), time.Now())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with the process
	// The demo is ending: an error closing the simulator has no one to tell.
	context.AfterFunc(ctx, func() { _ = srv.Close() })
	return sim, "http://" + ln.Addr().String(), nil
}

// startDevWeChat joins the simulator to the demo once the console listens:
// the demo accounts then arrive through the real plumbing (push → ticket →
// component token → authorizer list → info), never inserted behind its back.
func startDevWeChat(ctx context.Context, a *app.App, sim *wechatsim.Sim, log *slog.Logger) {
	if !waitUntil(ctx, func() bool {
		resp, err := http.Get(a.Config.PublicURL + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	}) {
		return
	}
	// The demo's database outlives the simulator, so a ticket stored by an
	// earlier run is worthless: wait for one pushed by this simulator.
	started := time.Now().Truncate(time.Second)
	go func() {
		if err := sim.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("wechat simulator stopped", "err", err)
		}
	}()
	if !waitUntil(ctx, func() bool {
		st, err := a.Platform.Status(ctx)
		return err == nil && !st.TicketAt.Before(started)
	}) {
		return
	}
	if _, err := a.Platform.Sync(ctx); err != nil && ctx.Err() == nil {
		log.Error("first authorizer sync failed", "err", err)
	}
	if _, err := startDevRevenue(ctx, a, time.Now()); err != nil && ctx.Err() == nil {
		log.Error("demo ad data backfill failed", "err", err)
	}
}

// waitUntil polls ok every 100ms until it holds (true) or ctx ends (false).
func waitUntil(ctx context.Context, ok func() bool) bool {
	for !ok() {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
	return true
}

// devSecret keeps one random key per demo folder so encrypted data stays readable across runs.
func devSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return "", err
	}
	s := base64.StdEncoding.EncodeToString(k)
	return s, os.WriteFile(path, []byte(s+"\n"), 0o600)
}

func ensureDemoStaff(ctx context.Context, a *app.App) error {
	n, err := a.Staff.CountStaff(ctx)
	if err != nil || n > 0 {
		return err
	}
	for _, s := range demoStaff {
		if _, err := a.Auth.CreateStaff(ctx, nil, s.name, s.password, s.role, core.Meta{ClientIP: "dev"}); err != nil {
			return err
		}
	}
	return nil
}
