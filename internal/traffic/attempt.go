package traffic

import (
	"context"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/core"
)

// AuthorizerTokens hands out a valid authorizer access token for a Mini
// Program, refreshing it (by one process at a time across every instance)
// shortly before it expires.
type AuthorizerTokens interface {
	AuthorizerAccessToken(ctx context.Context, appID string) (string, error)
	// InvalidateAuthorizerToken forgets a token WeChat rejected (40001, 40014,
	// 42001) so the next call refreshes; token guards against forgetting a newer one.
	InvalidateAuthorizerToken(ctx context.Context, appID, token string) error
}

// Action is what an attempt asks WeChat to do.
type Action string

// The two traffic-master actions.
const (
	ActionCheck Action = "check" // agency_check_can_open_publisher
	ActionOpen  Action = "open"  // agency_create_publisher
)

// The ad-operation writes: each changes something at WeChat for an opened
// Mini Program and is audited like opening (Service.Write).
const (
	ActionUnitCreate    Action = "unit_create"    // agency_create_adunit
	ActionUnitUpdate    Action = "unit_update"    // agency_update_adunit: rename, switch on or off
	ActionCoverStatus   Action = "cover_status"   // agency_set_cover_adpos_status
	ActionCoverScene    Action = "cover_scene"    // agency_set_cover_adpos_scene
	ActionBlocklist     Action = "blocklist"      // agency_set_black_list: add or remove advertisers
	ActionBlockIndustry Action = "block_industry" // agency_set_ams_category_blacklist
	ActionShareRatio    Action = "share_ratio"    // agency_set_custom_share_ratio (component token)
)

// Actions lists every audited action in the order the audit's filter offers them.
var Actions = []Action{ActionCheck, ActionOpen, ActionUnitCreate, ActionUnitUpdate, ActionCoverStatus,
	ActionCoverScene, ActionBlocklist, ActionBlockIndustry, ActionShareRatio}

// actionWords holds each action's label and the sentence its success says
// (English; translated for display).
var actionWords = map[Action][2]string{
	ActionCheck:         {"Check eligibility", ""},
	ActionOpen:          {"Open traffic master", "Traffic master opened."},
	ActionUnitCreate:    {"Create ad unit", "Ad unit created."},
	ActionUnitUpdate:    {"Change ad unit", "Ad unit changed."},
	ActionCoverStatus:   {"Switch cover ads", "Cover ads switched."},
	ActionCoverScene:    {"Set cover-ad scenes", "Cover-ad scenes saved."},
	ActionBlocklist:     {"Change blocked advertisers", "Blocked advertisers changed."},
	ActionBlockIndustry: {"Set blocked industries", "Blocked industries saved."},
	ActionShareRatio:    {"Set custom share ratio", "Custom share ratio set; it takes effect when the merchant confirms it."},
}

// Label names the action for staff (English; translated for display).
func (a Action) Label() string {
	if w, ok := actionWords[a]; ok {
		return w[0]
	}
	return string(a)
}

// ParseAction returns the action named s, if there is one.
func ParseAction(s string) (Action, bool) {
	for _, a := range Actions {
		if string(a) == s {
			return a, true
		}
	}
	return "", false
}

// IsWrite reports whether a is an ad-operation write (made with Service.Write).
func (a Action) IsWrite() bool {
	_, ok := ParseAction(string(a))
	return ok && a != ActionCheck && a != ActionOpen
}

// UsesComponentToken reports whether WeChat takes a's call with the
// platform's component token rather than the Mini Program's own.
func (a Action) UsesComponentToken() bool { return a == ActionShareRatio }

// Lane is what at most one in-flight attempt per account is counted over:
// checking and opening share one; each write has its own (tm_attempt_lane
// in the migrations says the same).
func (a Action) Lane() string {
	if a == ActionCheck || a == ActionOpen {
		return "publisher"
	}
	return string(a)
}

// AttemptRequest asks for one audited call for one Mini Program.
type AttemptRequest struct {
	AppID  string
	Action Action
	Staff  *core.Staff
	// RunID is set when the attempt is part of a bulk run.
	RunID *int64
	Meta  core.Meta
	// Pace, when set, is called right before each call to WeChat (a token
	// refresh's second call included) and may wait: the bulk-run rate
	// limiter. An error means the call is not made.
	Pace func(ctx context.Context) error
}

// AttemptStatus is where an attempt is in its life.
type AttemptStatus string

// Attempt statuses. An attempt is inserted pending and committed before
// WeChat is called, then completed exactly once.
const (
	AttemptPending     AttemptStatus = "pending"
	AttemptCompleted   AttemptStatus = "completed"
	AttemptInterrupted AttemptStatus = "interrupted" // the process died mid-call
	AttemptRejected    AttemptStatus = "rejected"    // another attempt was in flight; WeChat was not called
)

// Outcome is what an attempt's answer means for staff.
type Outcome string

// Outcomes: the first ten mirror the WeChat result-code classes.
const (
	OutcomeSuccess        Outcome = "success"
	OutcomeAlreadyDone    Outcome = "already_done"
	OutcomeRetryable      Outcome = "retryable"
	OutcomeRateLimited    Outcome = "rate_limited"
	OutcomeNeedsMerchant  Outcome = "needs_merchant"
	OutcomeNotYetEligible Outcome = "not_yet_eligible"
	OutcomeProviderConfig Outcome = "provider_config"
	OutcomeToken          Outcome = "token"
	OutcomeOurBug         Outcome = "our_bug"
	OutcomeFailed         Outcome = "failed"      // an unknown code, an HTTP 5xx or a garbage reply
	OutcomeUnknown        Outcome = "unknown"     // timeout or dropped connection: the call may have reached WeChat
	OutcomeInProgress     Outcome = "in_progress" // rejected: another attempt for the account was in flight
	OutcomeNotAllowed     Outcome = "not_allowed" // rejected before calling: revoked account, Official Account…
	OutcomeInterrupted    Outcome = "interrupted"
)

// Attempt is one audited call (or refusal to call) for one Mini Program.
type Attempt struct {
	ID    int64
	AppID string
	// AccountName is the account's name when read back for display ("" if it has none).
	AccountName string
	Action      Action
	// Params is what a write asked for (JSON), nil for checking and opening.
	Params    []byte
	StaffID   *int64
	StaffName string
	RunID     *int64
	RequestID string
	ClientIP  string
	StartedAt time.Time
	// FinishedAt is nil while pending.
	FinishedAt *time.Time
	Status     AttemptStatus
	Outcome    Outcome
	// Code is WeChat's ret or errcode, when it answered one.
	Code    *int
	Message string
	// CheckStatus is the check action's status (1 can open, 0 cannot).
	CheckStatus    *int
	Raw            []byte
	LatencyMS      int
	TransportError string
}

// Attempter makes one audited call: the traffic-master service, used by the
// web handlers and the bulk-run workers alike.
type Attempter interface {
	// Attempt returns the attempt and the account as the attempt left it
	// (nil when there is no account to speak of).
	Attempt(ctx context.Context, req AttemptRequest) (*Attempt, *Account, error)
}
