package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// Opening on authorization: when the platform's setting is on, an account
// that authorizes the platform is checked and, if WeChat says it can be,
// opened by the system, through the same audited attempts as a click and at
// the same global rate as a run. The store records one auto-open per
// authorization and queues its job (QueueAutoOpen) in the transaction that
// makes the account ready: its profile says it is a Mini Program and its
// refresh token is known.

// Results of an auto-open besides the outcome keys of its attempts.
const (
	// AutoOpenNotEligible is a check that said "cannot open yet": the daily
	// retry of accounts below the threshold picks the account up.
	AutoOpenNotEligible = "not_eligible"
	// AutoOpenSwitchedOff is an auto-open whose job found the setting off.
	AutoOpenSwitchedOff = "switched_off"
	// AutoOpenRevoked is an account that left before its job ran.
	AutoOpenRevoked = "revoked"
	// AutoOpenNotMiniProgram is an account that is not a Mini Program.
	AutoOpenNotMiniProgram = "not_mini_program"
)

// AutoOpenRequestID is the request ID of the attempts an auto-open makes,
// so the audit can tell them from a run's.
const AutoOpenRequestID = "open-on-authorization"

// AutoOpenQueue queues the auto-open of an account inside tx, the
// transaction that records it as queued.
type AutoOpenQueue func(ctx context.Context, tx pgx.Tx, appID string) error

// AutoOpen is an account's auto-open as its job reads it.
type AutoOpen struct {
	// State is queued, opening or done (see migration 00085).
	State string
	// SettingOn is the platform's setting now.
	SettingOn   bool
	Revoked     bool
	MiniProgram bool
	Tries       int
	// Eligible is a check of this auto-open that said it can be opened.
	Eligible bool
}

// AutoOpenStore keeps the auto-opens; internal/postgres implements it
// (postgres.PlatformStore).
type AutoOpenStore interface {
	// AutoOpen reads an account's auto-open (a not-found error when none).
	AutoOpen(ctx context.Context, appID string) (AutoOpen, error)
	// NoteAutoOpenCall records a call the job made (tries + 1) and, for a
	// check, its attempt and whether it said the account can be opened.
	NoteAutoOpenCall(ctx context.Context, appID string, action traffic.Action, attemptID int64, eligible bool) error
	// ClaimAutoOpen moves a queued auto-open to opening, false when it was
	// not queued; ReleaseAutoOpen moves it back when nothing was sent.
	ClaimAutoOpen(ctx context.Context, appID string) (bool, error)
	ReleaseAutoOpen(ctx context.Context, appID string) error
	// FinishAutoOpen records the result, with the open attempt if one was made.
	FinishAutoOpen(ctx context.Context, appID, result string, openAttemptID *int64) error
}

// AutoOpenArgs is the queue job of one account's auto-open.
type AutoOpenArgs struct {
	AppID string `json:"appid"`
}

// Kind names the job in the queue.
func (AutoOpenArgs) Kind() string { return "auto_open" }

// autoOpenAttempts bounds the queue's retries of a job that failed on the
// database; WeChat's temporary errors are snoozed and counted in the store.
const autoOpenAttempts = 10

// QueueAutoOpen queues the auto-open of appID inside tx. It is on the
// maintenance queue so that a long run does not hold it back; its calls
// take their slots from the same global limiter as the run's.
func (c *Client) QueueAutoOpen(ctx context.Context, tx pgx.Tx, appID string) error {
	_, err := c.River.InsertTx(ctx, tx, AutoOpenArgs{AppID: appID}, &river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: autoOpenAttempts, Tags: []string{"auto_open"}})
	return err
}

type autoOpenWorker struct {
	river.WorkerDefaults[AutoOpenArgs]
	c *Client
}

// Timeout leaves room for two rate-limit waits and two calls.
func (w *autoOpenWorker) Timeout(*river.Job[AutoOpenArgs]) time.Duration { return w.c.cfg.JobTimeout }

// NextRetry brings back soon a job that failed on the database.
func (w *autoOpenWorker) NextRetry(job *river.Job[AutoOpenArgs]) time.Time {
	return time.Now().Add(time.Second << min(max(job.Attempt-1, 0), 5))
}

func (w *autoOpenWorker) Work(ctx context.Context, job *river.Job[AutoOpenArgs]) error {
	store, appID := w.c.cfg.AutoOpens, job.Args.AppID
	ao, err := store.AutoOpen(ctx, appID)
	if core.ErrorCode(err) == core.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	switch {
	case ao.State == "done":
		return nil
	case ao.State == "opening":
		// An earlier try claimed the open and died: the call may have
		// reached WeChat, so it is not made again. The attempt it recorded
		// (interrupted, once recovered) tells staff to check first.
		return w.finish(ctx, appID, string(traffic.OutcomeInterrupted), nil)
	case ao.State != "queued":
		return nil
	case !ao.SettingOn:
		return w.finish(ctx, appID, AutoOpenSwitchedOff, nil)
	case ao.Revoked:
		return w.finish(ctx, appID, AutoOpenRevoked, nil)
	case !ao.MiniProgram:
		return w.finish(ctx, appID, AutoOpenNotMiniProgram, nil)
	}
	tries := ao.Tries

	// The check first: it is advice, but a "cannot open yet" leaves the
	// account to the daily retry rather than to a refused open. A retry of
	// the open after a temporary error does not check again.
	if !ao.Eligible {
		if done, err := w.check(ctx, appID, &tries); done || err != nil {
			return err
		}
	}
	// An account already open needs nothing beyond the check.
	open, err := w.c.items.AccountOpen(ctx, appID)
	if err != nil {
		return err
	}
	if open {
		return w.finish(ctx, appID, string(traffic.OutcomeAlreadyDone), nil)
	}

	claimed, err := store.ClaimAutoOpen(ctx, appID)
	if err != nil || !claimed {
		return err
	}
	at, done, err := w.call(ctx, appID, traffic.ActionOpen)
	if done || err != nil {
		if err != nil {
			// Nothing was recorded, so nothing was sent: the queue tries again.
			err = errors.Join(err, store.ReleaseAutoOpen(context.WithoutCancel(ctx), appID))
		}
		return err
	}
	tries++
	if at.Status != traffic.AttemptRejected && retryable(at.Outcome) && tries < w.c.cfg.MaxTries {
		// WeChat did not open it (-202, -1, 1737, or nothing was sent):
		// calling again is safe, after the same backoff as a run's.
		if err := store.ReleaseAutoOpen(context.WithoutCancel(ctx), appID); err != nil {
			return err
		}
		return river.JobSnooze(w.c.cfg.Backoff(tries, at.Outcome))
	}
	id := at.ID
	return w.finish(ctx, appID, string(at.Outcome), &id)
}

// check makes the check; done is true when it decided the auto-open (it
// finished it, or snoozed the job to check again).
func (w *autoOpenWorker) check(ctx context.Context, appID string, tries *int) (bool, error) {
	at, done, err := w.call(ctx, appID, traffic.ActionCheck)
	if done || err != nil {
		return true, err
	}
	*tries++
	switch {
	case at.Status == traffic.AttemptRejected:
		// Staff are acting on the account at this very moment.
		return true, w.finish(ctx, appID, string(at.Outcome), nil)
	case retryable(at.Outcome) && *tries < w.c.cfg.MaxTries:
		return true, river.JobSnooze(w.c.cfg.Backoff(*tries, at.Outcome))
	case at.Outcome != traffic.OutcomeSuccess:
		return true, w.finish(ctx, appID, string(at.Outcome), nil)
	case at.CheckStatus == nil || *at.CheckStatus != 1:
		return true, w.finish(ctx, appID, AutoOpenNotEligible, nil)
	}
	return false, nil
}

// call makes one audited attempt by the system at the global rate and
// records it; done is true when the auto-open was finished instead (the
// account cannot be acted on).
func (w *autoOpenWorker) call(ctx context.Context, appID string, action traffic.Action) (*traffic.Attempt, bool, error) {
	at, _, err := w.c.cfg.Attempter.Attempt(ctx, traffic.AttemptRequest{
		AppID: appID, Action: action, Staff: nil,
		Meta: core.Meta{RequestID: AutoOpenRequestID},
		Pace: w.c.Limiter.Wait,
	})
	if at == nil {
		if code := core.ErrorCode(err); code == core.EINVALID || code == core.ENOTFOUND {
			return nil, true, w.finish(ctx, appID, string(traffic.OutcomeNotAllowed), nil)
		}
		if err == nil {
			err = errors.New("attempter returned no attempt")
		}
		return nil, false, err
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	eligible := at.Status != traffic.AttemptRejected && at.Outcome == traffic.OutcomeSuccess && at.CheckStatus != nil && *at.CheckStatus == 1
	if err := w.c.cfg.AutoOpens.NoteAutoOpenCall(rctx, appID, action, at.ID, eligible); err != nil {
		return nil, false, fmt.Errorf("note auto-open call: %w", err)
	}
	return at, false, nil
}

// retryable is an outcome after which WeChat did not act and asks to be
// called again later.
func retryable(o traffic.Outcome) bool {
	return o == traffic.OutcomeRateLimited || o == traffic.OutcomeRetryable || o == traffic.OutcomeNotSent
}

// finish records the auto-open's result; it must survive the job's context
// ending right after a call.
func (w *autoOpenWorker) finish(ctx context.Context, appID, result string, openAttemptID *int64) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.c.cfg.AutoOpens.FinishAutoOpen(ctx, appID, result, openAttemptID); err != nil {
		return err
	}
	w.c.cfg.Log.Info("opened on authorization", "appid", appID, "result", result)
	return nil
}
