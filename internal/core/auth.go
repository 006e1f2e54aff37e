package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alexedwards/argon2id"
)

// SecurityEvent is one line of the append-only security log.
type SecurityEvent struct {
	ID        int64
	At        time.Time
	Event     string // login, logout, staff_create, staff_role, staff_password, staff_disable, staff_enable
	Success   bool
	ActorID   *int64
	TargetID  *int64
	Username  string
	ClientIP  string
	RequestID string
	Detail    string
	// ActorName is filled when listing.
	ActorName string
}

// StaffStore persists staff and their password hashes.
type StaffStore interface {
	CreateStaff(ctx context.Context, username, passwordHash string, role Role) (*Staff, error)
	StaffByID(ctx context.Context, id int64) (*Staff, error)
	// StaffByUsername returns the staff member and the password hash.
	StaffByUsername(ctx context.Context, username string) (*Staff, string, error)
	ListStaff(ctx context.Context) ([]*Staff, error)
	CountStaff(ctx context.Context) (int, error)
	SetRole(ctx context.Context, id int64, role Role) error
	SetDisabled(ctx context.Context, id int64, disabled bool) error
	SetPasswordHash(ctx context.Context, id int64, hash string) error
	// InTx runs fn in one transaction, so a staff change, the end of the
	// member's sessions and its security-log line commit together or not at all.
	InTx(ctx context.Context, fn func(tx StaffTx) error) error
}

// StaffTx is the staff store, session revoker and security log inside one transaction.
type StaffTx interface {
	StaffStore
	SessionRevoker
	SecurityLog
}

// SessionRevoker ends every session of a staff member at once.
type SessionRevoker interface {
	RevokeStaffSessions(ctx context.Context, staffID int64) error
}

// SecurityLog records and lists security events.
type SecurityLog interface {
	RecordSecurity(ctx context.Context, ev SecurityEvent) error
	ListSecurity(ctx context.Context, beforeID int64, limit int) ([]SecurityEvent, error)
	// LoginFailures counts failed logins since t by username and by client IP.
	LoginFailures(ctx context.Context, username, ip string, since time.Time) (byUser, byIP int, err error)
}

// Throttle limits failed logins within a window.
type Throttle struct {
	Window  time.Duration
	PerUser int
	PerIP   int
}

// DefaultThrottle allows 5 failures per username and 20 per client IP in 15 minutes.
var DefaultThrottle = Throttle{Window: 15 * time.Minute, PerUser: 5, PerIP: 20}

// Meta describes the request an action came from, for the logs.
type Meta struct {
	ClientIP  string
	RequestID string
}

// AuthService authenticates staff and manages their accounts.
type AuthService struct {
	Staff    StaffStore
	Sessions SessionRevoker
	Log      SecurityLog
	Throttle Throttle
	Params   *argon2id.Params
	Now      func() time.Time
	dummy    string
}

// NewAuthService wires an AuthService with production defaults.
func NewAuthService(staff StaffStore, sessions SessionRevoker, log SecurityLog) *AuthService {
	return &AuthService{Staff: staff, Sessions: sessions, Log: log, Throttle: DefaultThrottle, Params: argon2id.DefaultParams, Now: time.Now}
}

// ErrBadCredentials is the one answer to a wrong username or password, so the
// answer does not tell which was wrong.
var ErrBadCredentials = Errorf(EUNAUTHORIZED, "Wrong username or password.")

// HashPassword hashes a password with argon2id.
func (s *AuthService) HashPassword(p string) (string, error) {
	return argon2id.CreateHash(p, s.Params)
}

// Login checks credentials, applying the throttle, and logs the attempt.
func (s *AuthService) Login(ctx context.Context, username, password string, m Meta) (*Staff, error) {
	username = strings.TrimSpace(username)
	ev := SecurityEvent{Event: "login", Username: username, ClientIP: m.ClientIP, RequestID: m.RequestID}
	if username == "" || password == "" {
		return nil, FieldError("username", "Enter your username and password.")
	}
	byUser, byIP, err := s.Log.LoginFailures(ctx, username, m.ClientIP, s.Now().Add(-s.Throttle.Window))
	if err != nil {
		return nil, err
	}
	if byUser >= s.Throttle.PerUser || byIP >= s.Throttle.PerIP {
		ev.Detail = "throttled"
		if err := s.Log.RecordSecurity(ctx, ev); err != nil {
			return nil, err
		}
		return nil, Errorf(ETOOMANY, "Too many failed sign-in attempts. Wait %d minutes and try again.", int(s.Throttle.Window.Minutes()))
	}
	st, hash, err := s.Staff.StaffByUsername(ctx, username)
	if ErrorCode(err) == ENOTFOUND {
		// Spend the same time as a real check so timing does not reveal usernames.
		if s.dummy == "" {
			s.dummy, _ = s.HashPassword("not-a-real-password")
		}
		_, _, _ = argon2id.CheckHash(password, s.dummy)
		ev.Detail = "unknown user"
		if err := s.Log.RecordSecurity(ctx, ev); err != nil {
			return nil, err
		}
		return nil, ErrBadCredentials
	} else if err != nil {
		return nil, err
	}
	ok, _, err := argon2id.CheckHash(password, hash)
	if err != nil {
		return nil, fmt.Errorf("check password hash: %w", err)
	}
	ev.TargetID = &st.ID
	switch {
	case !ok:
		ev.Detail = "wrong password"
	case st.Disabled:
		ev.Detail = "account disabled"
	default:
		ev.Success = true
		ev.ActorID = &st.ID
	}
	if err := s.Log.RecordSecurity(ctx, ev); err != nil {
		return nil, err
	}
	if !ev.Success {
		return nil, ErrBadCredentials
	}
	return st, nil
}

// RecordLogout logs a logout.
func (s *AuthService) RecordLogout(ctx context.Context, st *Staff, m Meta) error {
	return s.Log.RecordSecurity(ctx, SecurityEvent{Event: "logout", Success: true, ActorID: &st.ID, TargetID: &st.ID, Username: st.Username, ClientIP: m.ClientIP, RequestID: m.RequestID})
}

// CreateStaff adds a staff member. actor is nil when created from the command line.
func (s *AuthService) CreateStaff(ctx context.Context, actor *Staff, username, password string, role Role, m Meta) (*Staff, error) {
	username = strings.TrimSpace(username)
	if err := ValidateUsername(username); err != nil {
		return nil, err
	}
	if !role.Valid() {
		return nil, FieldError("role", "Choose a role: viewer, operator or admin.")
	}
	if err := ValidatePassword(password); err != nil {
		return nil, err
	}
	hash, err := s.HashPassword(password)
	if err != nil {
		return nil, err
	}
	var st *Staff
	err = s.Staff.InTx(ctx, func(tx StaffTx) error {
		if st, err = tx.CreateStaff(ctx, username, hash, role); err != nil {
			return err
		}
		return logChange(ctx, tx, actor, st, "staff_create", "role="+string(role), m)
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// SetRole changes a staff member's role and ends their sessions.
func (s *AuthService) SetRole(ctx context.Context, actor *Staff, id int64, role Role, m Meta) error {
	if !role.Valid() {
		return FieldError("role", "Choose a role: viewer, operator or admin.")
	}
	return s.Staff.InTx(ctx, func(tx StaffTx) error {
		st, err := changeable(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if err := tx.SetRole(ctx, id, role); err != nil {
			return err
		}
		if err := tx.RevokeStaffSessions(ctx, id); err != nil {
			return err
		}
		return logChange(ctx, tx, actor, st, "staff_role", fmt.Sprintf("%s -> %s", st.Role, role), m)
	})
}

// ResetPassword sets a new password and ends the staff member's sessions.
func (s *AuthService) ResetPassword(ctx context.Context, actor *Staff, id int64, password string, m Meta) error {
	if err := ValidatePassword(password); err != nil {
		return err
	}
	// Hashing is slow on purpose; it happens before the transaction opens.
	hash, err := s.HashPassword(password)
	if err != nil {
		return err
	}
	return s.Staff.InTx(ctx, func(tx StaffTx) error {
		st, err := tx.StaffByID(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.SetPasswordHash(ctx, id, hash); err != nil {
			return err
		}
		if err := tx.RevokeStaffSessions(ctx, id); err != nil {
			return err
		}
		return logChange(ctx, tx, actor, st, "staff_password", "", m)
	})
}

// SetDisabled disables or re-enables a staff member; disabling ends their sessions.
func (s *AuthService) SetDisabled(ctx context.Context, actor *Staff, id int64, disabled bool, m Meta) error {
	return s.Staff.InTx(ctx, func(tx StaffTx) error {
		st, err := changeable(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if err := tx.SetDisabled(ctx, id, disabled); err != nil {
			return err
		}
		event := "staff_enable"
		if disabled {
			event = "staff_disable"
			if err := tx.RevokeStaffSessions(ctx, id); err != nil {
				return err
			}
		}
		return logChange(ctx, tx, actor, st, event, "", m)
	})
}

// changeable refuses changes an admin makes to their own role or access, so
// that the last admin cannot lock everyone out by accident.
func changeable(ctx context.Context, tx StaffTx, actor *Staff, id int64) (*Staff, error) {
	if actor != nil && actor.ID == id {
		return nil, Errorf(ECONFLICT, "You cannot change your own role or disable yourself; ask another admin.")
	}
	return tx.StaffByID(ctx, id)
}

func logChange(ctx context.Context, log SecurityLog, actor, target *Staff, event, detail string, m Meta) error {
	ev := SecurityEvent{Event: event, Success: true, TargetID: &target.ID, Username: target.Username, ClientIP: m.ClientIP, RequestID: m.RequestID, Detail: detail}
	if actor != nil {
		ev.ActorID = &actor.ID
	} else {
		ev.Detail = strings.TrimSpace(ev.Detail + " (command line)")
	}
	if err := log.RecordSecurity(ctx, ev); err != nil {
		return errors.Join(errors.New("record security event"), err)
	}
	return nil
}
