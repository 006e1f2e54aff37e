package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/sessions"

	"github.com/trafficmaster/trafficmaster/internal/alert"
	"github.com/trafficmaster/trafficmaster/internal/ams"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/platform"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/revenue"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// The handlers depend on these interfaces, each no larger than what its
// handlers call; internal/app hands in the services and stores that
// implement them.

// Pinger tells whether the database answers (the readiness probe).
type Pinger interface {
	Ping(ctx context.Context) error
}

// SessionStore keeps staff sessions server-side behind an opaque cookie.
type SessionStore interface {
	Get(r *http.Request, name string) (*sessions.Session, error)
	// Renew gives the session a fresh ID (at sign-in, against fixation).
	Renew(ctx context.Context, sess *sessions.Session) error
	// Staff is the staff member signed in to the session, read with it, or nil.
	Staff(sess *sessions.Session) *core.Staff
}

// AuthService signs staff in and out and changes staff members, writing the
// security log as it goes.
type AuthService interface {
	Login(ctx context.Context, username, password string, m core.Meta) (*core.Staff, error)
	RecordLogout(ctx context.Context, st *core.Staff, m core.Meta) error
	CreateStaff(ctx context.Context, actor *core.Staff, username, password string, role core.Role, m core.Meta) (*core.Staff, error)
	SetRole(ctx context.Context, actor *core.Staff, id int64, role core.Role, m core.Meta) error
	ResetPassword(ctx context.Context, actor *core.Staff, id int64, password string, m core.Meta) error
	SetDisabled(ctx context.Context, actor *core.Staff, id int64, disabled bool, m core.Meta) error
	ChangeOwnPassword(ctx context.Context, st *core.Staff, current, password string, m core.Meta) error
}

// StaffDirectory reads staff members and the security log.
type StaffDirectory interface {
	ListStaff(ctx context.Context) ([]*core.Staff, error)
	ListSecurity(ctx context.Context, beforeID int64, limit int) ([]core.SecurityEvent, error)
}

// Accounts reads the Mini Programs, their traffic-master states and the
// runs each took part in.
type Accounts interface {
	ListAccounts(ctx context.Context, f postgres.AccountFilter) (*postgres.AccountPage, error)
	CountStates(ctx context.Context, f postgres.AccountFilter) (postgres.StateCounts, error)
	Account(ctx context.Context, appID string) (*traffic.Account, error)
	AccountRuns(ctx context.Context, appID string, before int64, limit int) ([]traffic.AccountRun, int64, error)
}

// AuditLog reads the attempts, one by one, a page at a time or streamed.
type AuditLog interface {
	Attempt(ctx context.Context, id int64) (*traffic.Attempt, error)
	ListAttempts(ctx context.Context, f postgres.AttemptFilter) ([]*traffic.Attempt, int64, error)
	EachAttempt(ctx context.Context, f postgres.AttemptFilter, fn func(*traffic.Attempt) error) error
	StaffNames(ctx context.Context) ([]core.Staff, error)
}

// Attempter makes one audited check or open (the traffic service).
type Attempter interface {
	Attempt(ctx context.Context, req traffic.AttemptRequest) (*traffic.Attempt, *traffic.Account, error)
}

// RunService starts, reads and controls bulk runs.
type RunService interface {
	List(ctx context.Context, limit, offset int) ([]*jobs.Run, error)
	Get(ctx context.Context, id int64) (*jobs.Run, error)
	Items(ctx context.Context, id int64, limit int) ([]jobs.Item, error)
	MatchFilter(ctx context.Context, f traffic.Filter) ([]string, error)
	OpenCautions(ctx context.Context, appIDs []string) (unknown, notOffered int, err error)
	Names(ctx context.Context, appIDs []string, limit int) ([]jobs.Named, error)
	CreateOnce(ctx context.Context, staff *core.Staff, action traffic.Action, appIDs []string, description, token string) (*jobs.Run, bool, error)
	Pause(ctx context.Context, id int64) error
	Resume(ctx context.Context, id int64) error
	Cancel(ctx context.Context, id int64) error
	// CreateOpOnce starts a run applying an ad operation (amsruns.go); Rate is the configured call rate.
	CreateOpOnce(ctx context.Context, staff *core.Staff, op ams.Op, params json.RawMessage, appIDs []string, description, token string) (*jobs.Run, bool, error)
	Rate() float64
}

// ScheduleService reports the scheduled jobs.
type ScheduleService interface {
	Schedules(ctx context.Context) ([]jobs.ScheduleStatus, error)
}

// PlatformService receives WeChat's pushes, syncs authorizers and onboards
// new accounts.
type PlatformService interface {
	HandlePush(ctx context.Context, query url.Values, body []byte) error
	Status(ctx context.Context) (platform.Status, error)
	Sync(ctx context.Context) (platform.SyncResult, error)
	AuthorizationLink(ctx context.Context, redirectURI string) (platform.AuthorizationLinks, error)
	CompleteAuthorization(ctx context.Context, authCode string) (string, error)
	Settings(ctx context.Context) (platform.Settings, error)
	SetOpenOnAuthorization(ctx context.Context, by *core.Staff, on bool, m core.Meta) error
}

// RevenueService reads the revenue dashboard from the stored ad data.
type RevenueService interface {
	Dashboard(ctx context.Context, from, to time.Time) (*revenue.Dashboard, error)
	Account(ctx context.Context, appID string) (*revenue.AccountRevenue, error)
	DashboardFor(ctx context.Context, from, to time.Time, f revenue.Filter) (*revenue.Dashboard, error)
}

// RevenueData reads stored settlement and which accounts' data WeChat refuses.
type RevenueData interface {
	Settlement(ctx context.Context, appID string) ([]revenue.Interval, error)
	AccountBlocked(ctx context.Context, appID string) (*revenue.Blocked, error)
	// EachAccountSlotDay and EachAccountUnitDay stream an account's days (CSV).
	EachAccountSlotDay(ctx context.Context, appID string, from, to time.Time, fn func(revenue.SlotDay) error) error
	EachAccountUnitDay(ctx context.Context, appID string, from, to time.Time, fn func(revenue.UnitDay) error) error
}

// RevenuePulls starts and lists pulls of WeChat's ad data.
type RevenuePulls interface {
	StartRevenuePull(ctx context.Context, kind string, from, to time.Time, by *int64) (int64, error)
	RevenuePulls(ctx context.Context, limit int) ([]revenue.Pull, error)
}

// AdPanels reads and changes a Mini Program's cover ads, blocking and share
// ratio (cached reads, audited writes), and the platform's default ratio.
type AdPanels interface {
	Cover(ctx context.Context, appID string, refresh bool) (ams.Snapshot[ams.Cover], error)
	Blocking(ctx context.Context, appID string, refresh bool) (ams.Snapshot[ams.Blocking], error)
	Ratio(ctx context.Context, appID string, refresh bool) (ams.Snapshot[ams.Ratio], error)
	SwitchCover(ctx context.Context, r ams.Request, p ams.CoverSwitch) (*traffic.Attempt, error)
	SetCoverScenes(ctx context.Context, r ams.Request, p ams.CoverScenes) (*traffic.Attempt, error)
	ChangeBlocklist(ctx context.Context, r ams.Request, p ams.BlockChange) (*traffic.Attempt, error)
	SetIndustries(ctx context.Context, r ams.Request, p ams.Industries) (*traffic.Attempt, error)
	SetShareRatio(ctx context.Context, r ams.Request, p ams.ShareRatio) (*traffic.Attempt, error)
	DefaultRatio(ctx context.Context) (int, error)
	SetDefaultRatio(ctx context.Context, staff *core.Staff, ratio int, m core.Meta) (int, error)
}

// AdUnitService reads and changes the ad units of Mini Programs (the
// ad-operation service): reads are snapshots with their fetch time, writes
// are audited attempts.
type AdUnitService interface {
	Units(ctx context.Context, appID string, refresh bool) (ams.Snapshot[[]wechat.AdUnit], error)
	StoredUnits(ctx context.Context, appID string) (ams.Snapshot[[]wechat.AdUnit], bool, error)
	Templates(ctx context.Context, appID string, refresh bool) (ams.Snapshot[[]wechat.CustomTemplate], error)
	UnitCode(ctx context.Context, appID, adUnitID string) (string, error)
	CreateUnit(ctx context.Context, r ams.Request, p ams.NewUnit) (*traffic.Attempt, string, error)
	ChangeUnit(ctx context.Context, r ams.Request, p ams.UnitChange) (*traffic.Attempt, error)
}

// AlertService manages where alerts go (admins only; it checks the role too).
type AlertService interface {
	Targets(ctx context.Context) ([]alert.Target, error)
	AddTarget(ctx context.Context, st *core.Staff, n alert.NewTarget) (*alert.Target, string, error)
	SetEnabled(ctx context.Context, st *core.Staff, id int64, enabled bool) error
	DeleteTarget(ctx context.Context, st *core.Staff, id int64) error
	SendTest(ctx context.Context, st *core.Staff, id int64) error
}
