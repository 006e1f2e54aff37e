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
	pool := c.cfg.Pool
	var (
		status     RunStatus
		action     traffic.Action
		createdBy  *int64
		state      traffic.ItemState
		claimedJob *int64
		tries      int
	)
	err := pool.QueryRow(ctx, `
		SELECT r.status, r.action, r.created_by, i.state, i.claimed_job, i.tries
		FROM run_items i JOIN runs r ON r.id = i.run_id
		WHERE i.run_id = $1 AND i.appid = $2`, a.RunID, a.AppID).Scan(&status, &action, &createdBy, &state, &claimedJob, &tries)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // the run was deleted
	} else if err != nil {
		return err
	}

	resumed := state == traffic.ItemCalling && claimedJob != nil && *claimedJob == job.ID
	if resumed {
		// An earlier try of this very job claimed the account and then died
		// (process killed, job timed out). If it got as far as recording an
		// attempt, WeChat may have been called: adopt that attempt rather than
		// call a second time.
		adopted, n, err := w.adopt(ctx, a, tries)
		if err != nil || adopted {
			return err
		}
		tries = n
	} else {
		if state != traffic.ItemPending || status != RunRunning {
			// Done, claimed by another job, or the run is paused or
			// cancelled: a resume queues the account again.
			return nil
		}
		open, err := w.alreadyOpen(ctx, a.AppID)
		if err != nil {
			return err
		}
		if open {
			return w.finish(ctx, a, traffic.ItemSkipped, tries, nil, string(traffic.OutcomeAlreadyDone), nil, "The traffic master is already open.")
		}
		// The claim re-checks the run's status in the same statement, so a
		// pause or cancel that has committed stops this call.
		tag, err := pool.Exec(ctx, `
			UPDATE run_items SET state = 'calling', claimed_job = $3
			WHERE run_id = $1 AND appid = $2 AND state = 'pending'
			  AND EXISTS (SELECT 1 FROM runs WHERE id = $1 AND status = 'running')`, a.RunID, a.AppID, job.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
	}

	var staff *core.Staff
	if createdBy != nil {
		staff = &core.Staff{}
		if err := pool.QueryRow(ctx, `SELECT id, username, role, disabled FROM staff WHERE id = $1`, *createdBy).
			Scan(&staff.ID, &staff.Username, &staff.Role, &staff.Disabled); err != nil {
			return fmt.Errorf("load run creator: %w", err)
		}
	}
	runID := a.RunID
	at, _, err := c.cfg.Attempter.Attempt(ctx, traffic.AttemptRequest{
		AppID: a.AppID, Action: action, Staff: staff, RunID: &runID,
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
		_, err := pool.Exec(rctx, `
			UPDATE run_items SET claimed_job = NULL, tries = $3, not_before = $4, attempt_id = $5, outcome = $6, code = $7, message = $8,
			       -- a cancel that came during the call has already passed this item by
			       state = CASE WHEN r.status = 'cancelled' THEN 'cancelled' ELSE 'pending' END,
			       finished_at = CASE WHEN r.status = 'cancelled' THEN now() END
			FROM runs r WHERE r.id = run_items.run_id AND run_id = $1 AND appid = $2`, a.RunID, a.AppID, tries, c.cfg.Now().Add(wait), at.ID, string(at.Outcome), at.Code, at.Message)
		if err != nil {
			return err
		}
		return river.JobSnooze(wait)
	}
	return w.finish(ctx, a, traffic.ItemDone, tries, &at.ID, string(at.Outcome), at.Code, at.Message)
}

// adopt finishes the account with the attempt an interrupted try recorded,
// if there is one beyond the tries already counted. An attempt that sent
// nothing is not adopted: it is counted, and the account is called.
func (w *runItemWorker) adopt(ctx context.Context, a RunItemArgs, tries int) (bool, int, error) {
	var (
		n       int
		id      int64
		status  string
		outcome string
		code    *int
		message string
	)
	err := w.c.cfg.Pool.QueryRow(ctx, `
		SELECT count(*) OVER (), id, status, outcome, code, message FROM attempts
		WHERE run_id = $1 AND appid = $2 ORDER BY id DESC LIMIT 1`, a.RunID, a.AppID).Scan(&n, &id, &status, &outcome, &code, &message)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, tries, nil
	} else if err != nil {
		return false, tries, err
	}
	if n <= tries {
		return false, tries, nil
	}
	if status == string(traffic.AttemptCompleted) && outcome == string(traffic.OutcomeNotSent) {
		return false, n, nil
	}
	if status == string(traffic.AttemptPending) || outcome == "" {
		outcome = string(traffic.OutcomeInterrupted)
	}
	return true, n, w.finish(ctx, a, traffic.ItemDone, n, &id, outcome, code, message)
}

func (w *runItemWorker) alreadyOpen(ctx context.Context, appID string) (bool, error) {
	var open bool
	err := w.c.cfg.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM authorizer_state WHERE appid = $1 AND state = 'open')`, appID).Scan(&open)
	return open, err
}

// finish records the account's result and finishes the run after its last account.
func (w *runItemWorker) finish(ctx context.Context, a RunItemArgs, state traffic.ItemState, tries int, attemptID *int64, outcome string, code *int, message string) error {
	// Recording must survive the job's context ending right after the call.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	pool := w.c.cfg.Pool
	_, err := pool.Exec(ctx, `
		UPDATE run_items SET state = $3, tries = $4, attempt_id = coalesce($5, attempt_id), outcome = $6, code = $7, message = $8, finished_at = now()
		WHERE run_id = $1 AND appid = $2 AND state IN ('pending', 'calling')`, a.RunID, a.AppID, state, tries, attemptID, outcome, code, message)
	if err != nil {
		return err
	}
	return finishIfDone(ctx, pool, a.RunID)
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
	tx, err := w.c.cfg.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, `
		UPDATE run_items SET claimed_job = NULL, tries = $3, not_before = NULL, attempt_id = $4, outcome = $5, code = $6, message = $7,
		       state = CASE WHEN r.status = 'cancelled' THEN 'cancelled' ELSE 'pending' END,
		       finished_at = CASE WHEN r.status = 'cancelled' THEN now() END
		FROM runs r WHERE r.id = run_items.run_id AND run_id = $1 AND appid = $2`, a.RunID, a.AppID, tries, at.ID, string(at.Outcome), at.Code, at.Message); err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `
		UPDATE runs SET status = 'paused', pause_code = $2, pause_message = $3, paused_at = now(), updated_at = now()
		WHERE id = $1 AND status = 'running'`, a.RunID, *at.Code, at.Message)
	if err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	if tag.RowsAffected() > 0 {
		w.c.cfg.Log.Warn("run paused on a platform-wide error", "run_id", a.RunID, "appid", a.AppID, "code", *at.Code, "message", at.Message)
	}
	return nil
}
