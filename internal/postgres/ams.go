package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// AMSStore keeps the snapshots of what WeChat last said about a Mini
// Program's ads; it implements ams.Store.
type AMSStore struct {
	Pool *pgxpool.Pool
}

// Snapshot returns the stored body of kind for appID.
func (s *AMSStore) Snapshot(ctx context.Context, appID, kind string) (body []byte, fetchedAt time.Time, ok bool, err error) {
	err = s.Pool.QueryRow(ctx, `SELECT body, fetched_at FROM ams_snapshots WHERE appid = $1 AND kind = $2`, appID, kind).Scan(&body, &fetchedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, false, nil
	}
	return body, fetchedAt, err == nil, err
}

// PutSnapshot stores the body of kind for appID, unless a newer one is stored.
func (s *AMSStore) PutSnapshot(ctx context.Context, appID, kind string, body []byte, fetchedAt time.Time) error {
	_, err := s.Pool.Exec(ctx, `INSERT INTO ams_snapshots (appid, kind, body, fetched_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (appid, kind) DO UPDATE SET body = EXCLUDED.body, fetched_at = EXCLUDED.fetched_at
		WHERE ams_snapshots.fetched_at <= EXCLUDED.fetched_at`, appID, kind, string(body), fetchedAt)
	return err
}

// ForgetSnapshot drops kinds for appID.
func (s *AMSStore) ForgetSnapshot(ctx context.Context, appID string, kinds ...string) error {
	_, err := s.Pool.Exec(ctx, `DELETE FROM ams_snapshots WHERE appid = $1 AND kind = ANY($2)`, appID, kinds)
	return err
}
