package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// instanceLockClass is the first key of the advisory locks that mark live instances.
const instanceLockClass = 7_421_003

// DefaultLease is how long an instance counts as alive after its last renewal.
const DefaultLease = 10 * time.Second

// Liveness tells the other instances that this process is alive, in a way that
// survives a database restart: a lease in the instances table, renewed every
// fifth of a lease, and a session advisory lock, both on one dedicated
// connection. When the connection breaks (the database restarted, a network
// blip) the next beat reconnects, takes the lock again and renews the lease.
// Recovery (RecoverInterrupted) takes an instance's pending rows only when
// its lock is free, its lease has expired and the database has been up for
// longer than a lease, so a live process is never declared dead by a
// restart, while a killed one is known dead one lease after its death.
type Liveness struct {
	ID    string
	Lease time.Duration

	cfg  *pgx.ConnConfig
	log  *slog.Logger
	mu   sync.Mutex
	conn *pgx.Conn

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// StartLiveness registers instanceID, takes its lock and renews both until
// Stop. lease <= 0 means DefaultLease.
func StartLiveness(ctx context.Context, pool *pgxpool.Pool, instanceID string, lease time.Duration, log *slog.Logger) (*Liveness, error) {
	if lease <= 0 {
		lease = DefaultLease
	}
	if log == nil {
		log = slog.Default()
	}
	l := &Liveness{ID: instanceID, Lease: lease, cfg: pool.Config().ConnConfig.Copy(), log: log, stop: make(chan struct{}), done: make(chan struct{})}
	if err := l.beat(ctx); err != nil {
		return nil, err
	}
	go l.loop()
	return l, nil
}

// HoldInstanceLock starts liveness with the default lease and returns its
// stop: the shape tests and tools use.
func HoldInstanceLock(ctx context.Context, pool *pgxpool.Pool, instanceID string) (release func(), err error) {
	l, err := StartLiveness(ctx, pool, instanceID, DefaultLease, nil)
	if err != nil {
		return nil, err
	}
	return l.Stop, nil
}

func (l *Liveness) loop() {
	defer close(l.done)
	t := time.NewTicker(l.Lease / 5)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.Lease/2)
		err := l.beat(ctx)
		cancel()
		switch {
		case err != nil && !failing:
			failing = true
			l.log.Warn("instance lease not renewed; retrying", "instance", l.ID, "err", err)
		case err == nil && failing:
			failing = false
			l.log.Info("instance lease renewed again", "instance", l.ID)
		}
	}
}

// beat (re)connects and re-takes the lock if needed, then renews the lease.
func (l *Liveness) beat(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil && l.conn.IsClosed() {
		l.conn = nil
	}
	if l.conn == nil {
		conn, err := pgx.ConnectConfig(ctx, l.cfg)
		if err != nil {
			return fmt.Errorf("instance lock connection: %w", err)
		}
		var got bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, hashtext($2))", instanceLockClass, l.ID).Scan(&got); err != nil {
			conn.Close(context.Background())
			return fmt.Errorf("take instance lock: %w", err)
		}
		if !got {
			// A recovery holds it for an instant while it looks, or a
			// duplicate id: try again on the next beat.
			conn.Close(context.Background())
			return errors.New("instance lock is held elsewhere")
		}
		l.conn = conn
	}
	host, _ := os.Hostname()
	_, err := l.conn.Exec(ctx, `
		INSERT INTO instances (id, expires_at, lease, hostname, pid) VALUES ($1, now() + $2::interval, $2::interval, $3, $4)
		ON CONFLICT (id) DO UPDATE SET renewed_at = now(), expires_at = EXCLUDED.expires_at, lease = EXCLUDED.lease, stopped_at = NULL`,
		l.ID, l.Lease.String(), host, os.Getpid())
	if err != nil {
		// The next beat starts from a fresh connection (and lock).
		l.conn.Close(context.Background())
		l.conn = nil
		return fmt.Errorf("renew instance lease: %w", err)
	}
	return nil
}

// Stop ends the renewals, says the instance stopped and releases its lock.
func (l *Liveness) Stop() {
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.conn != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, _ = l.conn.Exec(ctx, `UPDATE instances SET stopped_at = now(), expires_at = now() WHERE id = $1`, l.ID)
			cancel()
			l.conn.Close(context.Background())
			l.conn = nil
		}
	})
}

// Kill ends the renewals and drops the connection without a word, as the
// death of the process would (tests).
func (l *Liveness) Kill() {
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.conn != nil {
			_ = l.conn.PgConn().Conn().Close()
			l.conn.Close(context.Background())
			l.conn = nil
		}
	})
}

// permanent reports a database error that retrying cannot mend: a refusal
// by the server other than connection, resource, shutdown and
// serialization trouble.
func permanent(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code[:2] {
	case "08", "53", "57", "40", "58", "XX":
		return false
	}
	return true
}
