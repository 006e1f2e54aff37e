package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/alexedwards/argon2id"
	"golang.org/x/sync/semaphore"
)

// EventName names what a security-log line records; the names are stored
// as they are in security_log.event, so they never change.
type EventName string

// Security-log events.
const (
	EventLogin         EventName = "login"
	EventLogout        EventName = "logout"
	EventStaffCreate   EventName = "staff_create"
	EventStaffRole     EventName = "staff_role"
	EventStaffPassword EventName = "staff_password"
	EventStaffDisable  EventName = "staff_disable"
	EventStaffEnable   EventName = "staff_enable"
	// EventShareRatioDefault is the platform's default share ratio set at
	// WeChat: it belongs to no account, so the security log keeps it.
	EventShareRatioDefault EventName = "share_ratio_default"
	// EventPlatformSetting is an admin changing a platform-wide setting.
	EventPlatformSetting EventName = "platform_setting"
)

// SecurityEvent is one line of the append-only security log.
type SecurityEvent struct {
	ID        int64
	At        time.Time
	Event     EventName
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
}

// LoginCounter counts sign-in attempts. Each count is one atomic statement
// taken before the password is checked, so concurrent tries cannot all slip
// under a limit.
type LoginCounter interface {
	// CountLoginAttempt adds one attempt under each of keys and returns the
	// counts in the order of keys. A key's window starts at its first attempt;
	// a window that started at or before expired is over and starts again at now.
	CountLoginAttempt(ctx context.Context, keys []string, now, expired time.Time) ([]int, error)
	// TakeLoginSlot lets one attempt for key through per interval: it reports
	// whether the slot was free at now and, if so, takes it until next.
	TakeLoginSlot(ctx context.Context, key string, now, next time.Time) (bool, error)
	// ForgetLoginAttempts clears the first key and takes one attempt off the others.
	ForgetLoginAttempts(ctx context.Context, clear string, lessOne []string) error
}

// Throttle limits sign-in attempts within a window that starts at the first
// attempt: tries made while throttled are counted but do not move the window.
type Throttle struct {
	Window time.Duration
	// PerUserClient limits attempts for one username from one client address.
	PerUserClient int
	// PerClient limits attempts from one client address, whatever the username.
	PerClient int
	// PerUser is the number of attempts for one username, from every address,
	// after which that username is slowed to one attempt per UserInterval.
	// It slows rather than locks: someone guessing from many addresses cannot
	// lock the real user out, only make them retry a few seconds later.
	PerUser      int
	UserInterval time.Duration
}

// DefaultThrottle allows 5 attempts per username and address, 20 per address,
// and slows a username to one attempt every 10 seconds after 10 attempts, per 15 minutes.
var DefaultThrottle = Throttle{Window: 15 * time.Minute, PerUserClient: 5, PerClient: 20, PerUser: 10, UserInterval: 10 * time.Second}

// Meta describes the request an action came from, for the logs.
type Meta struct {
	ClientIP  string
	RequestID string
}

// MaxHashes bounds how many password hashes run at once, and HashMemoryBudget
// how much memory they may take together (argon2id's default needs 64 MiB
// each): a burst of sign-ins waits for a slot instead of taking the memory.
const (
	MaxHashes        = 4
	HashMemoryBudget = 256 << 20
)

// AuthService authenticates staff and manages their accounts.
type AuthService struct {
	Staff    StaffStore
	Sessions SessionRevoker
	Log      SecurityLog
	Counter  LoginCounter
	Throttle Throttle
	Params   *argon2id.Params
	Now      func() time.Time
	// CheckHash compares a password with a hash (argon2id; tests count calls).
	CheckHash func(password, hash string) (bool, error)
	// HashWait is how long a hash waits for a free slot before the request
	// gets "busy" (429).
	HashWait time.Duration

	dummy     string
	dummyOnce sync.Once
	semOnce   sync.Once
	sem       *semaphore.Weighted
}

// NewAuthService wires an AuthService with production defaults.
func NewAuthService(staff StaffStore, sessions SessionRevoker, log SecurityLog, counter LoginCounter) *AuthService {
	return &AuthService{Staff: staff, Sessions: sessions, Log: log, Counter: counter, Throttle: DefaultThrottle, Params: argon2id.DefaultParams, Now: time.Now,
		CheckHash: func(p, h string) (bool, error) {
			ok, _, err := argon2id.CheckHash(p, h)
			return ok, err
		},
		HashWait: 3 * time.Second,
	}
}

// ErrBadCredentials is the one answer to a wrong username or password, so the
// answer does not tell which was wrong.
var ErrBadCredentials = Errorf(EUNAUTHORIZED, "Wrong username or password.")

// ErrBusy answers a request that found every hashing slot taken for too long.
var ErrBusy = Errorf(ETOOMANY, "The server is busy. Try again in a moment.")

// HashSlots is the number of hashes allowed at once for the configured parameters.
func (s *AuthService) HashSlots() int {
	mem := 64 << 20
	if s.Params != nil && s.Params.Memory > 0 {
		mem = int(s.Params.Memory) * 1024
	}
	return max(1, min(MaxHashes, HashMemoryBudget/mem))
}

// withHashSlot runs fn holding one of the hashing slots.
func (s *AuthService) withHashSlot(ctx context.Context, fn func() error) error {
	s.semOnce.Do(func() { s.sem = semaphore.NewWeighted(int64(s.HashSlots())) })
	wctx, cancel := context.WithTimeout(ctx, s.HashWait)
	defer cancel()
	if err := s.sem.Acquire(wctx, 1); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return ErrBusy
	}
	defer s.sem.Release(1)
	return fn()
}

// HashPassword hashes a password with argon2id, within the hashing slots.
func (s *AuthService) HashPassword(ctx context.Context, p string) (string, error) {
	var h string
	err := s.withHashSlot(ctx, func() (err error) {
		h, err = argon2id.CreateHash(p, s.Params)
		return err
	})
	return h, err
}

func (s *AuthService) checkHash(ctx context.Context, password, hash string) (bool, error) {
	var ok bool
	err := s.withHashSlot(ctx, func() (err error) {
		ok, err = s.CheckHash(password, hash)
		return err
	})
	return ok, err
}

// MaxStoredLen caps every text taken from a request before it is stored
// (usernames tried, request IDs, user agents).
const MaxStoredLen = 128

// CleanText makes request- or WeChat-supplied text safe to store: valid
// UTF-8, no NUL or other control characters (tabs and newlines become
// spaces), at most max runes (0: no limit).
func CleanText(v string, max int) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	var b strings.Builder
	n := 0
	for _, r := range v {
		if max > 0 && n >= max {
			break
		}
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			r = ' '
		case unicode.IsControl(r):
			continue
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// throttleKeys names the counters of one attempt: username and address,
// address, username.
func throttleKeys(username, ip string) []string {
	u := strings.ToLower(username)
	return []string{"user-client:" + u + "|" + ip, "client:" + ip, "user:" + u}
}

func (s *AuthService) tooMany() error {
	return Errorf(ETOOMANY, "Too many failed sign-in attempts. Wait %d minutes and try again.", int(s.Throttle.Window.Minutes()))
}

// Login counts the attempt, applies the throttle, checks the credentials
// within a hashing slot and logs the attempt.
func (s *AuthService) Login(ctx context.Context, username, password string, m Meta) (*Staff, error) {
	username = CleanText(strings.TrimSpace(username), MaxStoredLen)
	ev := SecurityEvent{Event: EventLogin, Username: username, ClientIP: m.ClientIP, RequestID: m.RequestID}
	if username == "" || password == "" {
		return nil, FieldError("username", "Enter your username and password.")
	}
	now := s.Now()
	keys := throttleKeys(username, m.ClientIP)
	counts, err := s.Counter.CountLoginAttempt(ctx, keys, now, now.Add(-s.Throttle.Window))
	if err != nil {
		return nil, err
	}
	throttled := counts[0] > s.Throttle.PerUserClient || counts[1] > s.Throttle.PerClient
	if !throttled && counts[2] > s.Throttle.PerUser {
		free, err := s.Counter.TakeLoginSlot(ctx, keys[2], now, now.Add(s.Throttle.UserInterval))
		if err != nil {
			return nil, err
		}
		if !free {
			ev.Detail = "slowed"
			if err := s.Log.RecordSecurity(ctx, ev); err != nil {
				return nil, err
			}
			return nil, Errorf(ETOOMANY, "Too many sign-in attempts for this username. Wait %d seconds and try again.", int(s.Throttle.UserInterval.Seconds()))
		}
	}
	if throttled {
		ev.Detail = "throttled"
		if err := s.Log.RecordSecurity(ctx, ev); err != nil {
			return nil, err
		}
		return nil, s.tooMany()
	}
	st, hash, err := s.Staff.StaffByUsername(ctx, username)
	if ErrorCode(err) == ENOTFOUND {
		// Spend the same time as a real check so timing does not reveal usernames.
		s.dummyOnce.Do(func() { s.dummy, _ = argon2id.CreateHash("not-a-real-password", s.Params) })
		if _, err := s.checkHash(ctx, password, s.dummy); err != nil && ErrorCode(err) == ETOOMANY {
			return nil, err
		}
		ev.Detail = "unknown user"
		if err := s.Log.RecordSecurity(ctx, ev); err != nil {
			return nil, err
		}
		return nil, ErrBadCredentials
	} else if err != nil {
		return nil, err
	}
	ok := false
	if len(password) <= 1024 {
		if ok, err = s.checkHash(ctx, password, hash); err != nil {
			if ErrorCode(err) == ETOOMANY || ctx.Err() != nil {
				return nil, err
			}
			return nil, fmt.Errorf("check password hash: %w", err)
		}
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
	// A success is not a failure: it clears this address's count for the
	// username and gives the other counters their attempt back.
	if err := s.Counter.ForgetLoginAttempts(ctx, keys[0], keys[1:]); err != nil {
		return nil, err
	}
	return st, nil
}

// RecordLogout logs a logout.
func (s *AuthService) RecordLogout(ctx context.Context, st *Staff, m Meta) error {
	return s.Log.RecordSecurity(ctx, SecurityEvent{Event: EventLogout, Success: true, ActorID: &st.ID, TargetID: &st.ID, Username: st.Username, ClientIP: m.ClientIP, RequestID: m.RequestID})
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
	hash, err := s.HashPassword(ctx, password)
	if err != nil {
		return nil, err
	}
	var st *Staff
	err = s.Staff.InTx(ctx, func(tx StaffTx) error {
		if st, err = tx.CreateStaff(ctx, username, hash, role); err != nil {
			return err
		}
		return logChange(ctx, tx, actor, st, EventStaffCreate, "role="+string(role), m)
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
		return logChange(ctx, tx, actor, st, EventStaffRole, fmt.Sprintf("%s -> %s", st.Role, role), m)
	})
}

// ResetPassword sets a new password and ends the staff member's sessions.
// An admin's own password is changed with ChangeOwnPassword instead, which
// asks for the current one: a session left open must not be enough.
func (s *AuthService) ResetPassword(ctx context.Context, actor *Staff, id int64, password string, m Meta) error {
	if actor != nil && actor.ID == id {
		return Errorf(ECONFLICT, "Change your own password on your account page; it asks for the current one.")
	}
	if err := ValidatePassword(password); err != nil {
		return err
	}
	// Hashing is slow on purpose; it happens before the transaction opens.
	hash, err := s.HashPassword(ctx, password)
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
		return logChange(ctx, tx, actor, st, EventStaffPassword, "", m)
	})
}

// ChangeOwnPassword changes the signed-in staff member's password once the
// current one is confirmed, then ends all their sessions. Wrong current
// passwords count against the sign-in throttle, so this is no way around it.
func (s *AuthService) ChangeOwnPassword(ctx context.Context, st *Staff, current, password string, m Meta) error {
	if current == "" {
		return FieldError("current_password", "Enter your current password.")
	}
	if err := ValidatePassword(password); err != nil {
		return err
	}
	now := s.Now()
	keys := throttleKeys(st.Username, m.ClientIP)
	counts, err := s.Counter.CountLoginAttempt(ctx, keys, now, now.Add(-s.Throttle.Window))
	if err != nil {
		return err
	}
	if counts[0] > s.Throttle.PerUserClient || counts[1] > s.Throttle.PerClient {
		return s.tooMany()
	}
	_, hash, err := s.Staff.StaffByUsername(ctx, st.Username)
	if err != nil {
		return err
	}
	ok := false
	if len(current) <= 1024 {
		if ok, err = s.checkHash(ctx, current, hash); err != nil {
			return err
		}
	}
	if !ok {
		ev := SecurityEvent{Event: EventStaffPassword, ActorID: &st.ID, TargetID: &st.ID, Username: st.Username, ClientIP: m.ClientIP, RequestID: m.RequestID, Detail: "wrong current password"}
		if err := s.Log.RecordSecurity(ctx, ev); err != nil {
			return err
		}
		return FieldError("current_password", "The current password is wrong.")
	}
	if err := s.Counter.ForgetLoginAttempts(ctx, keys[0], keys[1:]); err != nil {
		return err
	}
	newHash, err := s.HashPassword(ctx, password)
	if err != nil {
		return err
	}
	return s.Staff.InTx(ctx, func(tx StaffTx) error {
		if err := tx.SetPasswordHash(ctx, st.ID, newHash); err != nil {
			return err
		}
		if err := tx.RevokeStaffSessions(ctx, st.ID); err != nil {
			return err
		}
		return logChange(ctx, tx, st, st, EventStaffPassword, "own password", m)
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
		event := EventStaffEnable
		if disabled {
			event = EventStaffDisable
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

func logChange(ctx context.Context, log SecurityLog, actor, target *Staff, event EventName, detail string, m Meta) error {
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
