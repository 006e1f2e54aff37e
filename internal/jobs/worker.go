package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/trafficmaster/trafficmaster/internal/ams"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// runItemWorker makes the call for one account of a run.
type runItemWorker struct {
	river.WorkerDefaults[RunItemArgs]
	c *Client
}

// Timeout leaves room for the rate-limit wait before the call itself.
func (w *runItemWorker) Timeout(*river.Job[RunItemArgs]) time.Duration { return w.c.cfg.JobTimeout }

// NextRetry brings a failed run item back soon: its errors are the database
// being away (a call is never retried this way: the item's claim and the
// attempt's audit decide that), and the run should resume within seconds of
// the database's return, not after River's quartic backoff.
func (w *runItemWorker) NextRetry(job *river.Job[RunItemArgs]) time.Time {
	return time.Now().Add(time.Second << min(max(job.Attempt-1, 0), 3))
}

func (w *runItemWorker) Work(ctx context.Context, job *river.Job[RunItemArgs]) error {
	c, a := w.c, job.Args
	store := c.items
	it, err := store.WorkItem(ctx, a.RunID, a.AppID)
	if core.ErrorCode(err) == core.ENOTFOUND {
		return nil // the run was deleted
	} else if err != nil {
		return err
	}
	tries := it.Tries

	resumed := it.State == traffic.ItemCalling && it.ClaimedJob != nil && *it.ClaimedJob == job.ID
	if resumed {
		// An earlier try of this very job claimed the account and then died
		// (process killed, job timed out). If it got as far as recording an
		// attempt, WeChat may have been called: adopt that attempt rather than
		// call a second time.
		adopted, n, err := w.adopt(ctx, a, it.Op, tries)
		if err != nil || adopted {
			return err
		}
		tries = n
	} else {
		if it.State != traffic.ItemPending || it.RunStatus != RunRunning {
			// Done, claimed by another job, or the run is paused or
			// cancelled: a resume queues the account again.
			return nil
		}
		if it.Op == "" {
			open, err := store.AccountOpen(ctx, a.AppID)
			if err != nil {
				return err
			}
			if open {
				return w.finish(ctx, a, traffic.ItemSkipped, tries, nil, string(traffic.OutcomeAlreadyDone), nil, "The traffic master is already open.")
			}
		}
		// The claim re-checks the run's status in the same statement, so a
		// pause or cancel that has committed stops this call.
		claimed, err := store.ClaimItem(ctx, a.RunID, a.AppID, job.ID)
		if err != nil || !claimed {
			return err
		}
	}

	var staff *core.Staff
	if it.CreatedBy != nil {
		if staff, err = store.RunCreator(ctx, *it.CreatedBy); err != nil {
			return fmt.Errorf("load run creator: %w", err)
		}
	}
	if it.Op != "" {
		return w.workOp(ctx, a, it, staff, tries)
	}
	runID := a.RunID
	at, _, err := c.cfg.Attempter.Attempt(ctx, traffic.AttemptRequest{
		AppID: a.AppID, Action: it.Action, Staff: staff, RunID: &runID,
		Meta: core.Meta{RequestID: fmt.Sprintf("run-%d", a.RunID)},
		// The slot is taken right before the call is sent, by every call of
		// the run: first tries, retries, resumed jobs and token refreshes.
		Pace: c.Limiter.Wait,
	})
	if at == nil {
		if code := core.ErrorCode(err); code == core.EINVALID || code == core.ENOTFOUND {
			return w.finish(ctx, a, traffic.ItemSkipped, tries, nil, string(traffic.OutcomeNotAllowed), nil, core.ErrorMessage(err))
		}
		if err == nil {
			err = errors.New("attempter returned no attempt")
		}
		// Nothing was recorded: the queue retries and the claim is ours.
		return err
	}
	tries++
	switch {
	case at.Status == traffic.AttemptRejected:
		return w.finish(ctx, a, traffic.ItemSkipped, tries, &at.ID, string(at.Outcome), at.Code, at.Message)
	case at.Code != nil && PlatformWide(*at.Code):
		return w.pauseRun(ctx, a, tries, at)
	case (at.Outcome == traffic.OutcomeRateLimited || at.Outcome == traffic.OutcomeRetryable || at.Outcome == traffic.OutcomeNotSent) && tries < c.cfg.MaxTries:
		wait := c.cfg.Backoff(tries, at.Outcome)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := store.RetryItem(rctx, a.RunID, a.AppID, tries, c.cfg.Now().Add(wait), at); err != nil {
			return err
		}
		return river.JobSnooze(wait)
	}
	return w.finish(ctx, a, traffic.ItemDone, tries, &at.ID, string(at.Outcome), at.Code, at.Message)
}

// adopt finishes the account with the attempt an interrupted try recorded,
// if there is one beyond the tries already counted. An attempt that sent
// nothing is not adopted: it is counted, and the account is called.
//
// A slot switch is the exception when its last write is known: switching
// lists the units first and changes only those not yet so, so it is applied
// again to finish the units the interrupted try did not reach.
func (w *runItemWorker) adopt(ctx context.Context, a RunItemArgs, op ams.Op, tries int) (bool, int, error) {
	last, err := w.c.items.LastRunAttempt(ctx, a.RunID, a.AppID)
	if err != nil {
		return false, tries, err
	}
	n, id, status, outcome, code, message := last.Count, last.ID, last.Status, last.Outcome, last.Code, last.Message
	if n <= tries {
		return false, tries, nil
	}
	if status == string(traffic.AttemptCompleted) && outcome == string(traffic.OutcomeNotSent) {
		return false, n, nil
	}
	if op == ams.OpSwitchSlot && status == string(traffic.AttemptCompleted) && outcome != string(traffic.OutcomeUnknown) {
		return false, n, nil
	}
	if status == string(traffic.AttemptPending) || outcome == "" {
		outcome = string(traffic.OutcomeInterrupted)
	}
	return true, n, w.finish(ctx, a, traffic.ItemDone, n, &id, outcome, code, message)
}

// finish records the account's result and finishes the run after its last account.
func (w *runItemWorker) finish(ctx context.Context, a RunItemArgs, state traffic.ItemState, tries int, attemptID *int64, outcome string, code *int, message string) error {
	// Recording must survive the job's context ending right after the call.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return w.c.items.FinishItem(ctx, a.RunID, a.AppID, ItemResult{State: state, Tries: tries, AttemptID: attemptID, Outcome: outcome, Code: code, Message: message})
}

// PlatformWide reports a WeChat code that says the platform itself cannot
// make this call right now (a missing permission or account, a server IP
// not on the allow-list, the day's quota spent): every other account of the
// run would get the same answer, so the run pauses instead of burning
// through them.
func PlatformWide(code int) bool {
	switch code {
	case 48001, 2056, 61004, 61007, 45009:
		return true
	}
	return false
}

// pauseRun puts the account back to be called again on resume and pauses
// the run, saying why.
func (w *runItemWorker) pauseRun(ctx context.Context, a RunItemArgs, tries int, at *traffic.Attempt) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	paused, err := w.c.items.PauseForPlatform(ctx, a.RunID, a.AppID, tries, at)
	if err != nil {
		return err
	}
	if paused {
		w.c.cfg.Log.Warn("run paused on a platform-wide error", "run_id", a.RunID, "appid", a.AppID, "code", *at.Code, "message", at.Message)
	}
	return nil
}
