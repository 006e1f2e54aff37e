package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/trafficmaster/trafficmaster/internal/ams"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// Applier applies one ad operation to one account with audited writes (the
// ams service).
type Applier interface {
	Apply(ctx context.Context, r ams.Request, op ams.Op, params json.RawMessage) ([]*traffic.Attempt, error)
}

// CreateOpOnce starts a run applying op with params to appIDs, as
// CreateOnce does for checks and opens: the same queue, rate, pause,
// cancel and one call per account. Accounts whose traffic master is not
// open are counted as skipped (WeChat refuses them every ad operation).
func (r *Runs) CreateOpOnce(ctx context.Context, staff *core.Staff, op ams.Op, params json.RawMessage, appIDs []string, description, token string) (run *Run, existed bool, err error) {
	if err := ams.Validate(op, params); err != nil {
		return nil, false, err
	}
	run, err = r.start(ctx, staff, &Run{Op: op, Params: params, Status: RunRunning, Description: description}, appIDs, token)
	if token != "" && errors.Is(err, ErrRunExists) {
		id, err := r.Store.RunIDByToken(ctx, token)
		if err != nil {
			return nil, false, err
		}
		run, err = r.Get(ctx, id)
		return run, true, err
	}
	return run, false, err
}

// Rate is the global call rate bulk runs are held to (0: unlimited).
func (r *Runs) Rate() float64 {
	if r.client == nil {
		return 0
	}
	return r.client.cfg.RatePerSecond
}

// workOp applies an ad-operation run's operation to one claimed account.
// Its outcome is its writes' worst (a slot switch may make several), or
// "nothing to change" when none was needed. Like a check or an open, an
// outcome that may have reached WeChat (unknown) is never retried: a second
// unit could be created.
func (w *runItemWorker) workOp(ctx context.Context, a RunItemArgs, it *WorkItem, staff *core.Staff, tries int) error {
	c := w.c
	if c.cfg.AMS == nil {
		return w.finish(ctx, a, traffic.ItemSkipped, tries, nil, string(traffic.OutcomeNotAllowed), nil, "Ad operations are not configured on this instance.")
	}
	runID := a.RunID
	ats, err := c.cfg.AMS.Apply(ctx, ams.Request{
		AppID: a.AppID, Staff: staff, RunID: &runID,
		Meta: core.Meta{RequestID: fmt.Sprintf("run-%d", a.RunID)},
		// Every call takes a slot, the unit listing of a slot switch too.
		Pace: c.Limiter.Wait,
	}, it.Op, it.Params)
	if len(ats) == 0 {
		var we *wechat.Error
		switch {
		case err == nil:
			return w.finish(ctx, a, traffic.ItemSkipped, tries, nil, string(traffic.OutcomeAlreadyDone), nil, "Nothing to change.")
		case errors.As(err, &we):
			// A read before the writes (a slot switch's unit listing) was refused.
			code := we.Code
			return w.finish(ctx, a, traffic.ItemDone, tries, nil, string(traffic.OutcomeOfCode(code)), &code, we.Message)
		case core.ErrorCode(err) == core.EINVALID || core.ErrorCode(err) == core.ENOTFOUND || core.ErrorCode(err) == core.EFORBIDDEN:
			return w.finish(ctx, a, traffic.ItemSkipped, tries, nil, string(traffic.OutcomeNotAllowed), nil, core.ErrorMessage(err))
		}
		// Nothing was recorded: the queue retries and the claim is ours.
		return err
	}
	if err != nil && core.ErrorCode(err) == core.EINTERNAL {
		// A write could not be recorded: the queue retries, and the retry
		// adopts what was recorded rather than write again.
		return err
	}
	tries += len(ats)
	at := worst(ats)
	for _, x := range ats {
		if x.Code != nil && PlatformWide(*x.Code) {
			return w.pauseRun(ctx, a, tries, x)
		}
	}
	switch {
	case at.Status == traffic.AttemptRejected:
		return w.finish(ctx, a, traffic.ItemSkipped, tries, &at.ID, string(at.Outcome), at.Code, at.Message)
	case (at.Outcome == traffic.OutcomeRateLimited || at.Outcome == traffic.OutcomeRetryable || at.Outcome == traffic.OutcomeNotSent) && tries < c.cfg.MaxTries:
		// WeChat refused or nothing was sent: no unit was created, no
		// switch made, so the operation may be applied again.
		wait := c.cfg.Backoff(tries, at.Outcome)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := c.items.RetryItem(rctx, a.RunID, a.AppID, tries, c.cfg.Now().Add(wait), at); err != nil {
			return err
		}
		return river.JobSnooze(wait)
	}
	return w.finish(ctx, a, traffic.ItemDone, tries, &at.ID, string(at.Outcome), at.Code, at.Message)
}

// groupRank orders outcome groups from best to worst, for an account whose
// operation made several writes.
var groupRank = map[traffic.Group]int{
	traffic.GroupDone: 0, traffic.GroupNotCalled: 1, traffic.GroupRetry: 2, traffic.GroupThreshold: 3,
	traffic.GroupMerchant: 4, traffic.GroupPlatform: 5, traffic.GroupOurBug: 6, traffic.GroupUnknown: 7,
}

// worst returns the attempt whose outcome needs the most attention (the
// first of equals).
func worst(ats []*traffic.Attempt) *traffic.Attempt {
	w := ats[0]
	for _, a := range ats[1:] {
		if groupRank[traffic.GroupOf(a.Outcome)] > groupRank[traffic.GroupOf(w.Outcome)] {
			w = a
		}
	}
	return w
}
