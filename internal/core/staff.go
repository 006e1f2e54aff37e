package core

import (
	"context"
	"regexp"
	"time"
)

// Role is a staff member's permission level.
type Role string

// The three roles, from least to most privileged.
const (
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
	RoleAdmin    Role = "admin"
)

// Roles lists every role, least privileged first.
var Roles = []Role{RoleViewer, RoleOperator, RoleAdmin}

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool { return r == RoleViewer || r == RoleOperator || r == RoleAdmin }

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// AtLeast reports whether r grants everything min grants.
func (r Role) AtLeast(min Role) bool { return r.rank() > 0 && r.rank() >= min.rank() }

// Staff is a person who logs in to the console.
type Staff struct {
	ID        int64
	Username  string
	Role      Role
	Disabled  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CanOperate reports whether s may run actions against WeChat.
func (s *Staff) CanOperate() bool { return s != nil && s.Role.AtLeast(RoleOperator) }

// IsAdmin reports whether s may manage staff and platform settings.
func (s *Staff) IsAdmin() bool { return s != nil && s.Role.AtLeast(RoleAdmin) }

var usernameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{1,62}$`)

// ValidateUsername checks a username's form.
func ValidateUsername(u string) error {
	if !usernameRE.MatchString(u) {
		return FieldError("username", "Username must be 2–63 letters, digits, dots, dashes or underscores.")
	}
	return nil
}

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 10

// ValidatePassword checks a new password's strength.
func ValidatePassword(p string) error {
	if len([]rune(p)) < MinPasswordLen {
		return FieldError("password", "Password must be at least %d characters.", MinPasswordLen)
	}
	if len(p) > 1024 {
		return FieldError("password", "Password is too long.")
	}
	return nil
}

type staffKey struct{}

// WithStaff returns a context carrying the signed-in staff member.
func WithStaff(ctx context.Context, s *Staff) context.Context {
	return context.WithValue(ctx, staffKey{}, s)
}

// StaffFrom returns the signed-in staff member, or nil.
func StaffFrom(ctx context.Context) *Staff {
	s, _ := ctx.Value(staffKey{}).(*Staff)
	return s
}
