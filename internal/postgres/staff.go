package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/core"
)

// StaffStore implements core.StaffStore, core.SecurityLog and core.SessionRevoker.
type StaffStore struct {
	Pool *pgxpool.Pool
	tx   pgx.Tx // set inside InTx
}

func (s *StaffStore) db() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.Pool
}

// InTx runs fn with a store bound to one transaction, committed when fn succeeds.
func (s *StaffStore) InTx(ctx context.Context, fn func(core.StaffTx) error) error {
	if s.tx != nil {
		return fn(s)
	}
	return inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		return fn(&StaffStore{Pool: s.Pool, tx: tx})
	})
}

var _ core.StaffStore = (*StaffStore)(nil)
var _ core.SecurityLog = (*StaffStore)(nil)

const staffCols = "id, username, role, disabled, created_at, updated_at"

func scanStaff(row pgx.Row, extra ...any) (*core.Staff, error) {
	var s core.Staff
	dest := append([]any{&s.ID, &s.Username, &s.Role, &s.Disabled, &s.CreatedAt, &s.UpdatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		if notFound(err) {
			return nil, core.Errorf(core.ENOTFOUND, "Staff member not found.")
		}
		return nil, err
	}
	return &s, nil
}

// CreateStaff inserts a staff member; a taken username is a field error.
func (s *StaffStore) CreateStaff(ctx context.Context, username, hash string, role core.Role) (*core.Staff, error) {
	st, err := scanStaff(s.db().QueryRow(ctx, "INSERT INTO staff (username, password_hash, role) VALUES ($1, $2, $3) RETURNING "+staffCols, username, hash, role))
	if isUniqueViolation(err) {
		return nil, core.FieldError("username", "The username %q is taken.", username)
	}
	return st, err
}

// StaffByID loads one staff member.
func (s *StaffStore) StaffByID(ctx context.Context, id int64) (*core.Staff, error) {
	return scanStaff(s.db().QueryRow(ctx, "SELECT "+staffCols+" FROM staff WHERE id = $1", id))
}

// StaffByUsername loads a staff member and password hash, ignoring case.
func (s *StaffStore) StaffByUsername(ctx context.Context, username string) (*core.Staff, string, error) {
	var hash string
	st, err := scanStaff(s.db().QueryRow(ctx, "SELECT "+staffCols+", password_hash FROM staff WHERE lower(username) = lower($1)", username), &hash)
	return st, hash, err
}

// ListStaff lists every staff member by username.
func (s *StaffStore) ListStaff(ctx context.Context) ([]*core.Staff, error) {
	rows, err := s.db().Query(ctx, "SELECT "+staffCols+" FROM staff ORDER BY lower(username)")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*core.Staff
	for rows.Next() {
		st, err := scanStaff(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// CountStaff counts staff members.
func (s *StaffStore) CountStaff(ctx context.Context) (int, error) {
	var n int
	err := s.db().QueryRow(ctx, "SELECT count(*) FROM staff").Scan(&n)
	return n, err
}

func (s *StaffStore) update(ctx context.Context, sql string, args ...any) error {
	tag, err := s.db().Exec(ctx, sql, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return core.Errorf(core.ENOTFOUND, "Staff member not found.")
	}
	return nil
}

// SetRole changes a role.
func (s *StaffStore) SetRole(ctx context.Context, id int64, role core.Role) error {
	return s.update(ctx, "UPDATE staff SET role = $2, updated_at = now() WHERE id = $1", id, role)
}

// SetDisabled changes the disabled flag.
func (s *StaffStore) SetDisabled(ctx context.Context, id int64, disabled bool) error {
	return s.update(ctx, "UPDATE staff SET disabled = $2, updated_at = now() WHERE id = $1", id, disabled)
}

// SetPasswordHash replaces a password hash.
func (s *StaffStore) SetPasswordHash(ctx context.Context, id int64, hash string) error {
	return s.update(ctx, "UPDATE staff SET password_hash = $2, updated_at = now() WHERE id = $1", id, hash)
}

// RevokeStaffSessions deletes every session of a staff member.
func (s *StaffStore) RevokeStaffSessions(ctx context.Context, staffID int64) error {
	_, err := s.db().Exec(ctx, "DELETE FROM sessions WHERE staff_id = $1", staffID)
	return err
}

// RecordSecurity appends to the security log.
func (s *StaffStore) RecordSecurity(ctx context.Context, ev core.SecurityEvent) error {
	_, err := s.db().Exec(ctx, `INSERT INTO security_log (event, success, actor_id, target_id, username, client_ip, request_id, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, ev.Event, ev.Success, ev.ActorID, ev.TargetID, ev.Username, ev.ClientIP, ev.RequestID, ev.Detail)
	return err
}

// ListSecurity lists security events newest first, before an ID (0 = from the newest).
func (s *StaffStore) ListSecurity(ctx context.Context, beforeID int64, limit int) ([]core.SecurityEvent, error) {
	if beforeID <= 0 {
		beforeID = 1<<63 - 1
	}
	rows, err := s.db().Query(ctx, `SELECT l.id, l.at, l.event, l.success, l.actor_id, l.target_id, l.username, l.client_ip, l.request_id, l.detail, coalesce(a.username, '')
		FROM security_log l LEFT JOIN staff a ON a.id = l.actor_id WHERE l.id < $1 ORDER BY l.id DESC LIMIT $2`, beforeID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.SecurityEvent, error) {
		var e core.SecurityEvent
		err := r.Scan(&e.ID, &e.At, &e.Event, &e.Success, &e.ActorID, &e.TargetID, &e.Username, &e.ClientIP, &e.RequestID, &e.Detail, &e.ActorName)
		return e, err
	})
}

var _ core.LoginCounter = (*StaffStore)(nil)

// CountLoginAttempt counts one attempt under every key in one statement,
// so concurrent attempts each see their own count.
func (s *StaffStore) CountLoginAttempt(ctx context.Context, keys []string, now, expired time.Time) ([]int, error) {
	rows, err := s.db().Query(ctx, `INSERT INTO login_attempts AS a (key, window_start, attempts)
		SELECT k, $2, 1 FROM unnest($1::text[]) AS k
		ON CONFLICT (key) DO UPDATE SET
			attempts = CASE WHEN a.window_start <= $3 THEN 1 ELSE a.attempts + 1 END,
			window_start = CASE WHEN a.window_start <= $3 THEN $2 ELSE a.window_start END
		RETURNING key, attempts`, keys, now, expired)
	if err != nil {
		return nil, err
	}
	got := map[string]int{}
	var k string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&k, &n}, func() error { got[k] = n; return nil }); err != nil {
		return nil, err
	}
	out := make([]int, len(keys))
	for i, k := range keys {
		out[i] = got[k]
	}
	return out, nil
}

// TakeLoginSlot takes the key's slot until next if it was free at now.
func (s *StaffStore) TakeLoginSlot(ctx context.Context, key string, now, next time.Time) (bool, error) {
	tag, err := s.db().Exec(ctx, "UPDATE login_attempts SET next_at = $3 WHERE key = $1 AND next_at <= $2", key, now, next)
	return tag.RowsAffected() == 1, err
}

// ForgetLoginAttempts clears one counter and takes one attempt off others.
func (s *StaffStore) ForgetLoginAttempts(ctx context.Context, clear string, lessOne []string) error {
	if _, err := s.db().Exec(ctx, "DELETE FROM login_attempts WHERE key = $1", clear); err != nil {
		return err
	}
	_, err := s.db().Exec(ctx, "UPDATE login_attempts SET attempts = greatest(attempts - 1, 0) WHERE key = ANY($1)", lessOne)
	return err
}

// DeleteOldLoginAttempts drops counters whose window ended before t.
func (s *StaffStore) DeleteOldLoginAttempts(ctx context.Context, t time.Time) error {
	_, err := s.db().Exec(ctx, "DELETE FROM login_attempts WHERE window_start < $1 AND next_at < $1", t)
	return err
}
