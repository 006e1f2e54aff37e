// Package pgcluster starts a private PostgreSQL cluster from the locally
// installed server binaries, for development and for the test harness.
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"
)

// Options configure a private cluster.
type Options struct {
	// DataDir holds the cluster; it is created with initdb when empty.
	DataDir string
	// Fast trades durability for speed (fsync off); for tests only.
	Fast bool
	// Log receives initdb/pg_ctl progress lines; may be nil.
	Log func(format string, args ...any)
}

// Cluster is a running private PostgreSQL server listening on a unix socket only.
type Cluster struct {
	DataDir   string
	SocketDir string
	bin       string
	cred      *syscall.Credential
	opts      string
}

// ErrNoServer means the PostgreSQL server binaries are not installed.
var ErrNoServer = errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found; on Debian run: apt-get install -y postgresql")

// FindBinDir locates the directory holding initdb and pg_ctl.
func FindBinDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoServer
}

// Start initialises DataDir if needed and starts the server. The socket lives
// in a short temporary directory because unix socket paths are limited to ~100 bytes.
func Start(ctx context.Context, opt Options) (*Cluster, error) {
	logf := opt.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	dataDir, err := filepath.Abs(opt.DataDir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{DataDir: dataDir, bin: bin}
	// PostgreSQL refuses to run as root, so the server runs as the postgres user.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs a 'postgres' user to run the server: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	sock, err := os.MkdirTemp("", "tmpg")
	if err != nil {
		return nil, err
	}
	c.SocketDir = sock
	if err := c.chown(sock); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.chown(dataDir); err != nil {
			return nil, err
		}
		logf("initialising a private PostgreSQL cluster in %s", dataDir)
		if out, err := c.run(ctx, "initdb", "-D", dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
			return nil, fmt.Errorf("initdb: %w\n%s", err, out)
		}
	}
	// A cluster left running by a killed process is stopped first so that it
	// listens on the socket directory chosen now.
	_, _ = c.run(ctx, "pg_ctl", "-D", dataDir, "-m", "immediate", "-w", "stop")
	opts := fmt.Sprintf("-k %s -c listen_addresses='' -c max_connections=300 -c shared_buffers=128MB", sock)
	if opt.Fast {
		opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	logf("starting PostgreSQL (socket in %s)", sock)
	c.opts = opts
	if err := c.Up(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Up starts the server of a cluster that Down stopped.
func (c *Cluster) Up(ctx context.Context) error {
	if out, err := c.run(ctx, "pg_ctl", "-D", c.DataDir, "-l", filepath.Join(c.DataDir, "server.log"), "-o", c.opts, "-w", "-t", "60", "start"); err != nil {
		return fmt.Errorf("pg_ctl start: %w\n%s", err, out)
	}
	return nil
}

// Down stops the server (fast: open connections are cut, as in a restart)
// and keeps the cluster and its socket directory for Up.
func (c *Cluster) Down(ctx context.Context) error {
	if out, err := c.run(ctx, "pg_ctl", "-D", c.DataDir, "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

// Restart stops and starts the server, as `pg_ctl restart` does.
func (c *Cluster) Restart(ctx context.Context) error {
	if err := c.Down(ctx); err != nil {
		return err
	}
	return c.Up(ctx)
}

// DSN returns a connection string for database name on this cluster.
func (c *Cluster) DSN(name string) string {
	return fmt.Sprintf("postgres://postgres@/%s?host=%s&sslmode=disable", name, c.SocketDir)
}

// Stop shuts the server down and removes the socket directory.
func (c *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := c.run(ctx, "pg_ctl", "-D", c.DataDir, "-m", "fast", "-w", "stop")
	_ = os.RemoveAll(c.SocketDir)
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

func (c *Cluster) chown(path string) error {
	if c.cred == nil {
		return nil
	}
	return os.Chown(path, int(c.cred.Uid), int(c.cred.Gid))
}

func (c *Cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = "/"
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	// pg_ctl keeps the server's stdout open; the log file takes it instead.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return out.Bytes(), err
}
