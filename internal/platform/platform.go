// Package platform runs the WeChat third-party platform side of the console:
// tokens shared by every instance, the authorization-event push, the
// authorizer sync and the authorization link. It depends on a small Store
// (implemented in internal/postgres) and the typed client in internal/wechat.
package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// Token is an access token and when it stops working.
type Token struct {
	Value     string
	ExpiresAt time.Time
}

// fresh reports whether t still has more than minLife to live at now.
func (t Token) fresh(now time.Time, minLife time.Duration) bool {
	return t.Value != "" && t.ExpiresAt.Sub(now) > minLife
}

// Event is one accepted push as stored: raw, decrypted and decoded.
type Event struct {
	ComponentAppID  string
	InfoType        string
	AuthorizerAppID string
	CreateTime      time.Time
	ReceivedAt      time.Time
	// DedupeKey is equal for WeChat's retries of one event.
	DedupeKey string
	RawBody   string
	// DecryptedXML has its ticket and codes redacted (RedactPushXML).
	DecryptedXML string
	Decoded      json.RawMessage
	// Ticket is set for component_verify_ticket events; it is stored encrypted.
	Ticket string
}

// AuthorizerState is what sync needs to know of a stored account.
type AuthorizerState struct {
	AppID        string
	AuthTime     time.Time
	RefreshToken string // decrypted; "" when lost or never known
	Revoked      bool
	InfoSyncedAt time.Time
}

// SyncResult counts what one sync did.
type SyncResult struct {
	Listed       int `json:"listed"`
	New          int `json:"new"`
	InfoFetched  int `json:"info_fetched"`
	MiniPrograms int `json:"mini_programs"`
	Recovered    int `json:"recovered"`
	Revoked      int `json:"revoked"`
	Failed       int `json:"failed"`
}

// String summarises the sync for logs and the Jobs page.
func (r SyncResult) String() string {
	return fmt.Sprintf("%d listed, %d new, %d profiles read, %d refresh tokens recovered, %d revoked, %d failed",
		r.Listed, r.New, r.InfoFetched, r.Recovered, r.Revoked, r.Failed)
}

// Status is what the platform page shows.
type Status struct {
	ComponentAppID           string
	TicketAt                 time.Time
	ComponentTokenExpiresAt  time.Time
	ComponentTokenRefreshed  time.Time
	ComponentTokenRefreshes  int64
	AuthorizerTokenRefreshes int64
	LastSyncStarted          time.Time
	LastSyncFinished         time.Time
	// LastSyncOK is nil before the first sync finished.
	LastSyncOK      *bool
	LastSyncMessage string
	LastSyncResult  *SyncResult
	Authorizers     int
	MiniPrograms    int
	OfficialAccount int
	Revoked         int
	MissingRefresh  int
	Events          int
	RecentEvents    []EventSummary
}

// EventSummary is one line of the recent-push list.
type EventSummary struct {
	ReceivedAt      time.Time
	InfoType        string
	AuthorizerAppID string
}

// Store keeps platform state. Refresh* methods run fn while holding a lock
// shared by every instance (a Postgres advisory lock), passing the state as
// re-read under the lock, and store what fn returns when it refreshed.
type Store interface {
	EnsurePlatform(ctx context.Context, componentAppID string) error
	ComponentToken(ctx context.Context, componentAppID string) (Token, error)
	RefreshComponentToken(ctx context.Context, componentAppID string, fn func(cur Token, ticket string) (Token, bool, error)) (Token, error)
	InvalidateComponentToken(ctx context.Context, componentAppID, token string) error

	AuthorizerToken(ctx context.Context, appID string) (Token, error)
	RefreshAuthorizerToken(ctx context.Context, componentAppID, appID string, fn func(cur Token, refreshToken string) (tok Token, newRefresh string, refreshed bool, err error)) (Token, error)
	InvalidateAuthorizerToken(ctx context.Context, appID, token string) error

	// RecordEvent stores an event and applies its effect (ticket, authorized,
	// unauthorized) in one transaction; inserted is false for a retry.
	RecordEvent(ctx context.Context, ev Event) (inserted bool, err error)

	// EachAuthorizerState hands fn every stored account of the platform, in no particular order.
	EachAuthorizerState(ctx context.Context, componentAppID string, fn func(AuthorizerState) error) error
	// SaveAuthorization records an account with its refresh token (un-revoking it).
	SaveAuthorization(ctx context.Context, componentAppID, appID, refreshToken string, authTime time.Time, access *Token) error
	// SyncAuthorization records an account the authorizer list shows unless
	// a push changed whether it is revoked since the sync read wasRevoked;
	// it reports whether the account was written.
	SyncAuthorization(ctx context.Context, componentAppID, appID, refreshToken string, authTime time.Time, wasRevoked bool) (bool, error)
	SaveAuthorizerInfo(ctx context.Context, componentAppID string, info wechat.AuthorizerInfo, now time.Time) error
	Revoke(ctx context.Context, appID, reason string, at time.Time) error

	SyncStarted(ctx context.Context, componentAppID string, at time.Time) error
	SyncFinished(ctx context.Context, componentAppID string, at time.Time, ok bool, message string, res SyncResult) error
	Status(ctx context.Context, componentAppID string) (Status, error)

	SettingsStore
}
