package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/core"
)

// What the load client (trafficmaster load) reads to measure the bare
// queries beside each page and to name rows a generated database holds.

// LatestSession returns the token hash of username's newest session.
func LatestSession(ctx context.Context, pool *pgxpool.Pool, username string) (tokenHash []byte, err error) {
	err = pool.QueryRow(ctx, `SELECT s.token_hash FROM sessions s JOIN staff st ON st.id = s.staff_id
		WHERE st.username = $1 ORDER BY s.created_at DESC LIMIT 1`, username).Scan(&tokenHash)
	return tokenHash, err
}

// ReadSession reads a session row's data with its staff member, as the
// session store does on every request.
func ReadSession(ctx context.Context, pool *pgxpool.Pool, tokenHash []byte) (*core.Staff, error) {
	var (
		data []byte
		st   sessionStaffRow
	)
	err := pool.QueryRow(ctx, `SELECT s.data, st.id, st.username, st.role, st.disabled, st.created_at, st.updated_at
		FROM sessions s LEFT JOIN staff st ON st.id = s.staff_id WHERE s.token_hash = $1`, tokenHash).
		Scan(&data, &st.id, &st.username, &st.role, &st.disabled, &st.createdAt, &st.updatedAt)
	return st.staff(), err
}

// GeneratedAccounts counts the accounts trafficmaster gen made.
func GeneratedAccounts(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	var n int
	err := pool.QueryRow(ctx, "SELECT count(*) FROM authorizers WHERE component_appid = $1", GenComponentAppID).Scan(&n)
	return n, err
}

// GeneratedStaffAndRun names the first generated operator, who has only the
// first outcome (success), and the middle generated run (one of hers when its
// number is a multiple of 20 past the first); 1 for either when there is none.
func GeneratedStaffAndRun(ctx context.Context, pool *pgxpool.Pool) (staffID, runID int64, err error) {
	err = pool.QueryRow(ctx, `SELECT coalesce((SELECT min(id) FROM staff WHERE username LIKE 'gen-operator-%'), 1),
		coalesce((SELECT id FROM runs WHERE description = 'generated' ORDER BY id OFFSET (SELECT count(*) / 2 FROM runs WHERE description = 'generated') LIMIT 1), 1)`).Scan(&staffID, &runID)
	return staffID, runID, err
}
