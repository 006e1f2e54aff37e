// Command trafficmaster is the console for WeChat Open Platform service
// providers: serve it, run the demo, migrate, manage staff, sync authorizers.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	// Times are shown in Asia/Shanghai even where the OS has no zone data.
	_ "time/tzdata"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/app"
	"github.com/trafficmaster/trafficmaster/internal/config"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop() // before os.Exit, which skips deferred calls
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "trafficmaster:", err)
		os.Exit(1)
	}
}

// env bundles what a subcommand may touch, so tests can run it in-process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name, summary string
	run           func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "serve the console (configuration from the environment; DATABASE_URL required)", cmdServe},
		{"dev", "run the demo: private Postgres, WeChat simulator, demo data, on http://localhost:8080", cmdDev},
		{"migrate", "apply database migrations and exit", cmdMigrate},
		{"user", "manage staff: create, list, disable, enable", cmdUser},
		{"worker", "run bulk-run and scheduled jobs only, no HTTP (scale apart from serve)", cmdWorker},
		{"gen", "fill an empty database with generated accounts and audit rows for benchmarks", cmdGen},
		{"gen-revenue", "fill a database with generated ad data for the revenue benchmarks", cmdGenRevenue},
		{"load", "measure the console's pages under concurrent staff sessions (loopback only)", cmdLoad},
		{"sync", "read every authorizer from WeChat once and store them", cmdSync},
		{"wechat-sim", "run the local WeChat simulator with the demo accounts", cmdWeChatSim},
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	usage := func(w io.Writer) {
		fmt.Fprintln(w, "Usage: trafficmaster <command> [flags]\n\nCommands:")
		for _, c := range commands() {
			fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
		}
		fmt.Fprintln(w, "\nRun 'trafficmaster <command> -h' for a command's flags.")
	}
	if len(args) == 0 {
		usage(stderr)
		return errors.New("no command given")
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

// newFlags makes a flag set whose -h prints a clear usage to stdout.
func newFlags(e env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fs.SetOutput(e.stdout)
		fmt.Fprintf(e.stdout, "Usage: trafficmaster %s\n", usage)
		fs.PrintDefaults()
		fs.SetOutput(e.stderr)
	}
	return fs
}

// openDB connects to DATABASE_URL and migrates it, for the commands that need
// only the database.
func openDB(ctx context.Context, e env) (*pgxpool.Pool, error) {
	dsn := e.getenv("DATABASE_URL")
	if dsn == "" {
		return nil, errors.New("DATABASE_URL is required")
	}
	pool, err := postgres.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := postgres.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// loadApp loads the configuration from the environment and wires the whole
// program, for the commands that need it (serve, worker, sync).
func loadApp(ctx context.Context, e env, log func(w io.Writer) *slog.Logger) (*app.App, *slog.Logger, error) {
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return nil, nil, err
	}
	l := log(e.stderr)
	a, err := app.New(ctx, cfg, l, app.Options{})
	return a, l, err
}

func jsonLog(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }
func textLog(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
