package web_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/web/webtest"
)

// Every connection of the console's pool has a statement timeout
// (STATEMENT_TIMEOUT, default 10s); migrations and generation do without.
func TestStatementTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := webtest.New(t)
	var v string
	require.NoError(t, e.App.Pool.QueryRow(ctx, "SHOW statement_timeout").Scan(&v))
	require.Equal(t, "10s", v)
	untimed, err := postgres.Untimed(ctx, e.App.Pool)
	require.NoError(t, err)
	defer untimed.Close()
	require.NoError(t, untimed.QueryRow(ctx, "SHOW statement_timeout").Scan(&v))
	require.Equal(t, "0", v)

	short := webtest.New(t, webtest.Options{Env: map[string]string{"STATEMENT_TIMEOUT": "200ms"}})
	require.NoError(t, short.App.Pool.QueryRow(ctx, "SHOW statement_timeout").Scan(&v))
	require.Equal(t, "200ms", v)
	_, err = short.App.Pool.Exec(ctx, "SELECT pg_sleep(30)")
	var pe *pgconn.PgError
	require.True(t, errors.As(err, &pe), "%v", err)
	require.Equal(t, "57014", pe.Code, "query_canceled by the statement timeout")
}

// The CSV export reads in keyset batches and gives the connection back
// between them: with a pool of one connection, the export's consumer can
// still query, and every row comes once, newest first.
func TestExportStreamsInBatchesWithoutHoldingAConnection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newTrafficEnv(t)
	n := postgres.EachBatch*2 + 17
	require.NoError(t, postgres.Generate(ctx, e.App.Pool, 5, n, io.Discard))
	cfg := e.App.Pool.Config()
	cfg.MaxConns = 1
	one, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer one.Close()
	st := &postgres.TrafficStore{Pool: one}

	var ids []int64
	err = st.EachAttempt(ctx, postgres.AttemptFilter{}, func(a *traffic.Attempt) error {
		if len(ids)%postgres.EachBatch == 0 {
			qctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			if _, err := one.Exec(qctx, "SELECT 1"); err != nil {
				return err
			}
		}
		ids = append(ids, a.ID)
		return nil
	})
	require.NoError(t, err)
	require.Len(t, ids, n)
	for i := 1; i < len(ids); i++ {
		require.Less(t, ids[i], ids[i-1])
	}
}

// Rendered pages go out in one write with their length, not in chunks.
func TestRenderedPagesAreBuffered(t *testing.T) {
	t.Parallel()
	e := newTrafficEnv(t)
	for i := 0; i < 60; i++ {
		e.addAccount(t, account{})
	}
	c, _ := e.Login(core.RoleViewer)
	for _, path := range []string{"/", "/audit"} {
		r := c.Get(path)
		require.Equal(t, 200, r.StatusCode)
		require.Greater(t, len(r.Body), 2048, path) // net/http itself sets the length of smaller bodies
		require.Equal(t, int64(len(r.Body)), r.ContentLength, "%s has a Content-Length", path)
		require.Empty(t, r.TransferEncoding, path)
	}
}
