// Package traffic opens the traffic master ("流量主") of Mini Programs: one
// audited call per click or bulk-run item, at most one in flight per account
// across every instance, with every attempt recorded before WeChat is called.
package traffic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"sync"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// State is an account's traffic-master state, derived from its attempts.
type State string

// States shown on the Mini Programs page.
const (
	StateNever          State = "never"
	StateEligible       State = "eligible"
	StateNotEligible    State = "not_eligible"
	StateOpen           State = "open"
	StateNeedsMerchant  State = "needs_merchant"
	StateBelowThreshold State = "below_threshold"
	StateRetryLater     State = "retry_later"    // temporary trouble at WeChat or on the way there
	StatePlatformSetup  State = "platform_setup" // the platform's own WeChat setup must be fixed
	StateOurBug         State = "our_bug"        // WeChat refused our request or answered nonsense
	StateUnknown        State = "unknown"        // the last call may have reached WeChat: check before acting
)

// States lists every state in display order. The database derives them
// (tm_next_state in the migrations) from each finished attempt.
var States = []State{StateNever, StateEligible, StateNotEligible, StateOpen, StateUnknown, StateRetryLater,
	StateNeedsMerchant, StatePlatformSetup, StateBelowThreshold, StateOurBug}

// Account is an authorized account with its derived traffic-master state.
type Account struct {
	AppID         string
	NickName      string
	HeadImg       string
	UserName      string
	PrincipalName string
	IsMiniProgram bool
	AccountStatus int
	RevokedAt     *time.Time
	RevokedReason string
	AuthorizedAt  *time.Time

	State         State
	LastAttemptID *int64
	LastAttemptAt *time.Time
	LastOutcome   Outcome
	LastCode      *int
}

// Revoked reports whether the account has unbound the platform.
func (a *Account) Revoked() bool { return a.RevokedAt != nil }

// Refusal returns why no action may be taken for the account (an English
// message, translated for display), or "" when actions are allowed.
func (a *Account) Refusal() string {
	switch {
	case a.Revoked():
		return "The account has revoked its authorization of this platform."
	case !a.IsMiniProgram:
		return "Official Accounts have no traffic master; only Mini Programs can be opened."
	}
	return ""
}

// Store persists attempts and reads accounts; the Postgres store implements it.
type Store interface {
	// Account returns the account or a not-found error.
	Account(ctx context.Context, appID string) (*Account, error)
	// BeginAttempt inserts and commits a pending attempt, filling its ID; it
	// returns ErrInFlight when another attempt for the account is pending.
	BeginAttempt(ctx context.Context, a *Attempt, instanceID string) error
	// RecordRejected inserts a finished rejected attempt.
	RecordRejected(ctx context.Context, a *Attempt) error
	// CompleteAttempt completes a pending attempt once; the account's state
	// follows in the same transaction, and is returned.
	CompleteAttempt(ctx context.Context, a *Attempt) (State, error)
}

// ErrInFlight means another attempt for the same account is pending.
var ErrInFlight = errors.New("traffic: another attempt is in flight")

// ErrNotPending means the attempt was completed (or marked interrupted) by
// someone else: recording it again is impossible.
var ErrNotPending = errors.New("traffic: the attempt is no longer pending")

// PermanentError wraps a store error that retrying cannot mend.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// retryable reports whether recording the outcome is worth another try.
func retryable(err error) bool {
	var pe *PermanentError
	return !errors.Is(err, ErrNotPending) && !errors.As(err, &pe)
}

// WeChat is the part of the WeChat client the service calls.
type WeChat interface {
	CheckCanOpenPublisher(ctx context.Context, authorizerAccessToken string) (wechat.CheckResult, error)
	CreatePublisher(ctx context.Context, authorizerAccessToken string) (wechat.PublisherResult, error)
}

// ComponentTokens runs a call with the platform's component token, refreshed
// once when WeChat rejects it.
type ComponentTokens interface {
	WithComponentToken(ctx context.Context, fn func(token string) error) error
}

// MaxRaw caps the stored raw reply; WeChat's replies are small, a gateway's
// HTML error page is not.
const MaxRaw = 16 << 10

// Service makes audited traffic-master attempts. It implements Attempter.
type Service struct {
	Store  Store
	WeChat WeChat
	Tokens AuthorizerTokens
	// Component runs the writes WeChat takes with the platform's component
	// token (the share ratio).
	Component ComponentTokens
	// InstanceID names this process on the pending rows it owns.
	InstanceID string
	Now        func() time.Time
	Log        *slog.Logger
	// CompleteTimeout bounds one try at recording the outcome after the
	// call; it runs on a context the caller cannot cancel so a closed tab
	// loses no audit.
	CompleteTimeout time.Duration
	// CompleteBackoff is the first wait before recording again when the
	// database could not be reached (doubling up to CompleteBackoffMax).
	// Recording is retried for as long as the process lives: the outcome is
	// known and must reach the audit. Defaults 100 ms and 5 s.
	CompleteBackoff, CompleteBackoffMax time.Duration

	completing sync.Map // attempt id → struct{}
}

var _ Attempter = (*Service)(nil)

var appIDPattern = regexp.MustCompile(`^wx[0-9a-zA-Z]{16}$`)

// ValidAppID reports whether s looks like a WeChat appid.
func ValidAppID(s string) bool { return appIDPattern.MatchString(s) }

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Attempt makes one audited call and returns it with the account as the
// call left it (its new state), so a caller need not read it again.
// Refusals after the account is known (revoked, Official Account, role,
// already in flight) are recorded as rejected attempts and returned without
// error, except the role refusal, which also returns a forbidden error.
// Malformed and unknown appids return an error and leave no row (there is no
// account to attach it to).
func (s *Service) Attempt(ctx context.Context, req AttemptRequest) (*Attempt, *Account, error) {
	if req.Action != ActionCheck && req.Action != ActionOpen {
		return nil, nil, core.Errorf(core.EINVALID, "Unknown action.")
	}
	a, acct, claimed, err := s.admit(ctx, req.AppID, req.Action, nil, req.Staff, req.RunID, req.Meta)
	if !claimed {
		return a, acct, err
	}
	s.completing.Store(a.ID, struct{}{})
	defer s.completing.Delete(a.ID)

	// The claim is ours. The state read above may predate an attempt that
	// finished just before the claim (another instance's click on the same
	// account): read it again, so an account just opened is not opened twice.
	// (A check asks nothing that could be done twice.)
	var fresh *Account
	var readErr error
	if req.Action == ActionOpen {
		fresh, readErr = s.Store.Account(ctx, req.AppID)
	}
	switch {
	case readErr != nil:
		s.notSent(a, "The Mini Program's state could not be read again before the call.", readErr)
	case fresh != nil && fresh.State == StateOpen:
		now := s.now()
		a.FinishedAt, a.Status, a.Outcome = &now, AttemptCompleted, OutcomeAlreadyDone
		a.Message = "The traffic master was opened by another attempt just before this one; WeChat was not called."
	default:
		s.call(ctx, a, req.Pace)
	}

	// The call is over: record it even if the caller has gone away.
	state, err := s.complete(ctx, a)
	if err != nil {
		s.log().Error("complete attempt", "attempt_id", a.ID, "appid", a.AppID, "outcome", a.Outcome, "err", err)
		return nil, nil, fmt.Errorf("complete attempt %d: %w", a.ID, err)
	}
	if fresh != nil {
		acct = fresh
	}
	after := *acct
	after.State, after.LastAttemptID, after.LastAttemptAt, after.LastOutcome, after.LastCode = state, &a.ID, &a.StartedAt, a.Outcome, a.Code
	return a, &after, nil
}

// admit validates the appid and the role, reads the account and claims the
// account's lane with a pending attempt, committed before anything is sent.
// A refusal after the account is known (role, revoked, Official Account, in
// flight) is recorded as a rejected attempt and returned finished, with
// errForbidden for the role; malformed and unknown appids return an error
// and no attempt. The caller calls WeChat only when the returned attempt is
// pending, and then must complete it.
func (s *Service) admit(ctx context.Context, appID string, action Action, params []byte, staff *core.Staff, runID *int64, meta core.Meta) (a *Attempt, acct *Account, claimed bool, err error) {
	if !ValidAppID(appID) {
		if staff != nil && !staff.CanOperate() {
			return nil, nil, false, errForbidden
		}
		return nil, nil, false, core.FieldError("appid", "%q is not a valid appid.", appID)
	}
	// No staff is a scheduled run, which may act.
	forbidden := staff != nil && !staff.CanOperate()
	acct, err = s.Store.Account(ctx, appID)
	if err != nil {
		if forbidden && core.ErrorCode(err) == core.ENOTFOUND {
			// Refuse the role first: a viewer learns nothing about which appids exist.
			return nil, nil, false, errForbidden
		}
		return nil, nil, false, err
	}
	a = &Attempt{AppID: appID, Action: action, Params: params, RunID: runID, RequestID: meta.RequestID, ClientIP: meta.ClientIP, StartedAt: s.now()}
	if staff != nil {
		a.StaffID, a.StaffName = &staff.ID, staff.Username
	}
	// A refusal is inserted finished and leaves the account's state as it was.
	if forbidden {
		if err := s.reject(ctx, a, OutcomeNotAllowed, "Your role does not allow this."); err != nil {
			return nil, nil, false, err
		}
		return a, acct, false, errForbidden
	}
	if reason := acct.Refusal(); reason != "" {
		return a, acct, false, s.reject(ctx, a, OutcomeNotAllowed, reason)
	}
	if err := s.Store.BeginAttempt(ctx, a, s.InstanceID); errors.Is(err, ErrInFlight) {
		msg := "Another attempt for this Mini Program is already in progress."
		if action.IsWrite() {
			msg = "The same change for this Mini Program is already in progress."
		}
		return a, acct, false, s.reject(ctx, a, OutcomeInProgress, msg)
	} else if err != nil {
		return nil, nil, false, err
	}
	return a, acct, true, nil
}

// Completing lists the attempts this service is recording right now, which
// recovery must leave pending however long the database was away.
func (s *Service) Completing() []int64 {
	var ids []int64
	s.completing.Range(func(k, _ any) bool {
		ids = append(ids, k.(int64))
		return true
	})
	return ids
}

// complete records the outcome, retrying with backoff for as long as the
// process lives while the database cannot be reached: WeChat has answered,
// and staff decide what to do next from this row. Only a refusal retrying
// cannot mend (the row was taken by recovery) ends it early. The account
// stays blocked (its row pending) exactly until the outcome lands.
func (s *Service) complete(ctx context.Context, a *Attempt) (State, error) {
	timeout := s.CompleteTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	wait, maxWait := s.CompleteBackoff, s.CompleteBackoffMax
	if wait <= 0 {
		wait = 100 * time.Millisecond
	}
	if maxWait <= 0 {
		maxWait = 5 * time.Second
	}
	ctx = context.WithoutCancel(ctx)
	for try := 1; ; try++ {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		state, err := s.Store.CompleteAttempt(cctx, a)
		cancel()
		if err == nil {
			if try > 1 {
				s.log().Info("attempt recorded after retries", "attempt_id", a.ID, "appid", a.AppID, "tries", try)
			}
			return state, nil
		}
		if !retryable(err) {
			return "", err
		}
		if try == 1 || try%10 == 0 {
			s.log().Warn("recording the attempt failed; retrying until the database is back", "attempt_id", a.ID, "appid", a.AppID, "outcome", a.Outcome, "tries", try, "err", err)
		}
		time.Sleep(wait)
		wait = min(wait*2, maxWait)
	}
}

// notSent fills an attempt that ended before anything was sent to WeChat.
func (s *Service) notSent(a *Attempt, msg string, err error) {
	now := s.now()
	a.FinishedAt, a.Status, a.Outcome, a.Message = &now, AttemptCompleted, OutcomeNotSent, msg
	if err != nil {
		a.TransportError = err.Error()
	}
}

func (s *Service) reject(ctx context.Context, a *Attempt, o Outcome, msg string) error {
	now := s.now()
	a.Status, a.Outcome, a.Message, a.FinishedAt = AttemptRejected, o, msg, &now
	return s.Store.RecordRejected(ctx, a)
}

// call performs the WeChat call (refreshing a rejected token once) and fills
// the attempt's outcome. pace, when set, waits for a rate slot right before each call.
func (s *Service) call(ctx context.Context, a *Attempt, pace func(context.Context) error) {
	var checkStatus int
	s.send(ctx, a, pace, func(ctx context.Context, tok string) ([]byte, error) {
		switch a.Action {
		case ActionCheck:
			r, err := s.WeChat.CheckCanOpenPublisher(ctx, tok)
			checkStatus = r.Status
			return r.Raw, err
		default:
			r, err := s.WeChat.CreatePublisher(ctx, tok)
			return r.Raw, err
		}
	}, &checkStatus)
}

// send runs fn with the token a's action takes (refreshed once when WeChat
// rejects it), then completes a's fields from the answer: the one path every
// audited call takes. checkStatus is read after fn for a check.
func (s *Service) send(ctx context.Context, a *Attempt, pace func(context.Context) error, fn func(ctx context.Context, token string) ([]byte, error), checkStatus *int) {
	// The call itself is not cancelled with the request either: a closed tab
	// must not turn a call WeChat may have received into a mystery. The HTTP
	// client's timeout bounds it. Only the wait for a rate slot ends with
	// the caller: nothing has been sent yet.
	paceCtx := ctx
	ctx = context.WithoutCancel(ctx)
	start := time.Now()
	var raw []byte
	call := func(tok string) error {
		if pace != nil {
			// Every call of a run takes a rate slot right before it is
			// sent, the second call after a token refresh included.
			if perr := pace(paceCtx); perr != nil {
				return &notSentError{fmt.Errorf("wait for a rate slot: %w", perr)}
			}
		}
		var err error
		raw, err = fn(ctx, tok)
		return err
	}
	var err error
	if a.Action.UsesComponentToken() {
		err = s.withComponentToken(ctx, call)
	} else {
		err = WithAuthorizerToken(ctx, s.Tokens, a.AppID, s.log(), call)
	}
	now := s.now()
	a.LatencyMS = int(time.Since(start).Milliseconds())
	a.FinishedAt = &now
	a.Status = AttemptCompleted
	cs := 0
	if checkStatus != nil {
		cs = *checkStatus
	}
	classify(a, err, raw, cs)
}

// withComponentToken runs call with the platform's component token; a
// token that cannot be had is a token error (the call was not made).
func (s *Service) withComponentToken(ctx context.Context, call func(token string) error) error {
	if s.Component == nil {
		return &tokenError{errNoComponentTokens}
	}
	var callErr error
	err := s.Component.WithComponentToken(ctx, func(tok string) error {
		callErr = call(tok)
		return callErr
	})
	if err != nil && callErr == nil {
		// The token could not be obtained: nothing was sent.
		return &tokenError{err}
	}
	return err
}

// WriteRequest asks for one audited ad-operation write for one Mini Program.
type WriteRequest struct {
	AppID  string
	Action Action
	// Params is what is asked (marshalled to JSON and kept with the attempt).
	Params any
	Staff  *core.Staff
	// RunID is set when the write is part of a bulk run.
	RunID *int64
	Meta  core.Meta
	// Pace, when set, waits for a rate slot right before each call.
	Pace func(ctx context.Context) error
	// Send makes the call with the token the action takes (the Mini
	// Program's own, or the component token for the share ratio) and returns
	// WeChat's raw reply when it has one (a WeChat error carries its own).
	Send func(ctx context.Context, token string) ([]byte, error)
}

// Write makes one audited ad-operation write: the same path as opening (the
// pending row committed before the call, completed after it, unknown on a
// timeout, interrupted after a crash, at most one in flight per account and
// action) without touching the account's traffic-master state. Refusals are
// returned as rejected attempts like Attempt's, the role refusal with a
// forbidden error as well.
func (s *Service) Write(ctx context.Context, req WriteRequest) (*Attempt, error) {
	if !req.Action.IsWrite() || req.Send == nil {
		return nil, core.Errorf(core.EINVALID, "Unknown action.")
	}
	var params []byte
	if req.Params != nil {
		var err error
		if params, err = json.Marshal(req.Params); err != nil {
			return nil, fmt.Errorf("write %s params: %w", req.Action, err)
		}
	}
	a, _, claimed, err := s.admit(ctx, req.AppID, req.Action, params, req.Staff, req.RunID, req.Meta)
	if !claimed {
		return a, err
	}
	s.completing.Store(a.ID, struct{}{})
	defer s.completing.Delete(a.ID)
	s.send(ctx, a, req.Pace, req.Send, nil)
	if _, err := s.complete(ctx, a); err != nil {
		s.log().Error("complete attempt", "attempt_id", a.ID, "appid", a.AppID, "action", a.Action, "outcome", a.Outcome, "err", err)
		return nil, fmt.Errorf("complete attempt %d: %w", a.ID, err)
	}
	return a, nil
}

// WithAuthorizerToken runs call with appID's authorizer access token; when
// WeChat rejects the token (40001, 40014, 42001) it forgets it, takes a fresh
// one and calls once more, and no more. A token that cannot be had is
// returned as such (the call was not made). It is the one place that
// refreshes and retries a rejected authorizer token.
func WithAuthorizerToken(ctx context.Context, tokens AuthorizerTokens, appID string, log *slog.Logger, call func(token string) error) error {
	if tokens == nil {
		return errNoTokens
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for try := 0; ; try++ {
		tok, err := tokens.AuthorizerAccessToken(ctx, appID)
		if err != nil {
			return &tokenError{err}
		}
		err = call(tok)
		if try > 0 || !wechat.IsTokenError(err) {
			return err
		}
		log.Warn("authorizer token rejected; refreshing once", "appid", appID, "err", err)
		if ierr := tokens.InvalidateAuthorizerToken(ctx, appID, tok); ierr != nil {
			log.Warn("invalidate authorizer token", "appid", appID, "err", ierr)
		}
	}
}

var errForbidden = core.Errorf(core.EFORBIDDEN, "Your role does not allow this.")

var errNoTokens = errors.New("no authorizer token source is configured")

var errNoComponentTokens = errors.New("no component token source is configured")

// tokenError marks a failure to obtain a token: WeChat's action was not called.
type tokenError struct{ err error }

func (e *tokenError) Error() string { return "get authorizer token: " + e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

// notSentError marks a failure before anything was sent to WeChat.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }

// nothingSent reports a transport failure that provably sent nothing: the
// connection was never made (refused, unreachable, no such host).
func nothingSent(err error) bool {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return true
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}

// classify fills outcome, code, message, raw reply and transport error.
func classify(a *Attempt, err error, raw []byte, checkStatus int) {
	var (
		we *wechat.Error
		he *wechat.HTTPStatusError
		de *wechat.DecodeError
		te *wechat.TransportError
		ke *tokenError
		ne *notSentError
	)
	switch {
	case errors.As(err, &ne):
		a.Outcome, a.TransportError = OutcomeNotSent, ne.Error()
		a.Message = "Nothing was sent to WeChat."
	case errors.As(err, &ke) && !errors.As(ke.err, &we):
		// No token, and WeChat did not refuse one (it could not be reached,
		// or the database could not be read): the action was not sent.
		a.Outcome, a.TransportError = OutcomeNotSent, ke.Error()
		a.Message = "Nothing was sent to WeChat: no access token could be obtained."
	case err == nil:
		zero := 0
		a.Code, a.Outcome = &zero, OutcomeSuccess
		if a.Action == ActionCheck {
			a.CheckStatus = &checkStatus
		}
	case errors.As(err, &we):
		code := we.Code
		a.Code, a.Message = &code, we.Message
		a.Outcome = OutcomeOfCode(code)
		if len(raw) == 0 {
			raw = we.Raw
		}
	case errors.As(err, &ke):
		a.Outcome = OutcomeToken
		a.Message = "Could not get an access token for this Mini Program."
		a.TransportError = ke.Error()
		if errors.As(ke.err, &we) {
			code := we.Code
			a.Code, a.Message = &code, we.Message
		}
	case errors.As(err, &he):
		a.Outcome, a.Message = OutcomeFailed, fmt.Sprintf("HTTP %d from WeChat", he.Status)
		raw = he.Raw
	case errors.As(err, &de):
		a.Outcome, a.Message = OutcomeFailed, "WeChat's reply could not be understood"
		raw = de.Raw
	case errors.As(err, &te) && nothingSent(te):
		a.Outcome, a.TransportError = OutcomeNotSent, te.Error()
		a.Message = "Nothing was sent to WeChat: the connection could not be made."
	case errors.As(err, &te):
		// The request may have reached WeChat: never call this a failure.
		a.Outcome, a.TransportError = OutcomeUnknown, te.Error()
	default:
		a.Outcome, a.TransportError = OutcomeFailed, err.Error()
	}
	if len(raw) > MaxRaw {
		raw = raw[:MaxRaw]
	}
	a.Raw = raw
}
