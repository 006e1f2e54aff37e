package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/trafficmaster/trafficmaster/internal/ams"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// RunStatus is where a run is in its life.
type RunStatus string

// Run statuses.
const (
	RunRunning   RunStatus = "running"
	RunPaused    RunStatus = "paused"
	RunCancelled RunStatus = "cancelled"
	RunFinished  RunStatus = "finished"
)

// Run is a bulk run with its progress.
type Run struct {
	ID int64
	// Action is what a check or open run does; an ad-operation run has Op
	// and its Params instead (and no Action).
	Action        traffic.Action
	Op            ams.Op
	Params        json.RawMessage
	Status        RunStatus
	CreatedBy     *int64
	CreatedByName string
	Description   string
	Total         int
	CreatedAt     time.Time
	FinishedAt    *time.Time
	// PauseCode is the platform-wide WeChat code that paused the run by
	// itself (nil when running, or paused by staff), with WeChat's message.
	PauseCode    *int
	PauseMessage string
	PausedAt     *time.Time
	// Counts by item state and by outcome (filled by Get and List).
	States   map[traffic.ItemState]int
	Outcomes map[string]int
	// RatePerSecond is the recent rate of WeChat calls (retries included,
	// over the last 30 seconds, or since the run started or resumed if later):
	// the same measure the configured rate limits.
	RatePerSecond float64
	// ConfiguredRate is the global call rate bulk runs are held to.
	ConfiguredRate float64
}

// Done is how many accounts need no more work.
func (r *Run) Done() int {
	return r.States[traffic.ItemDone] + r.States[traffic.ItemSkipped] + r.States[traffic.ItemCancelled]
}

// Remaining is how many accounts are still to be called.
func (r *Run) Remaining() int { return r.States[traffic.ItemPending] + r.States[traffic.ItemCalling] }

// Percent is the share done, 0–100.
func (r *Run) Percent() int {
	if r.Total == 0 {
		return 100
	}
	return r.Done() * 100 / r.Total
}

// ShownRate is the rate worth showing: the recent one while the run is
// running, none while it is paused, the whole run's once it has ended.
func (r *Run) ShownRate() float64 {
	if r.Status == RunPaused {
		return 0
	}
	// A call's time is read a few milliseconds after the limiter grants its
	// slot, so a handful of calls can measure slightly faster than their
	// slots were; within that noise the calls kept to the limit.
	if r.ConfiguredRate > 0 && r.RatePerSecond > r.ConfiguredRate && r.RatePerSecond <= r.ConfiguredRate*rateNoise {
		return r.ConfiguredRate
	}
	return r.RatePerSecond
}

// rateNoise is how far above the configured rate a measured rate is still
// taken for timing noise rather than calls that really came faster.
const rateNoise = 1.1

// TimeLeft estimates the time to finish at the recent rate (0 when unknown).
func (r *Run) TimeLeft() time.Duration {
	if r.Status != RunRunning || r.RatePerSecond <= 0 || r.Remaining() == 0 {
		return 0
	}
	return time.Duration(float64(r.Remaining()) / r.RatePerSecond * float64(time.Second)).Round(time.Second)
}

// Active reports whether the run may still change.
func (r *Run) Active() bool {
	return r.Status == RunRunning || r.Status == RunPaused || (r.Status == RunCancelled && r.States[traffic.ItemCalling] > 0)
}

// Item is one account's result in a run.
type Item struct {
	AppID      string
	NickName   string
	State      traffic.ItemState
	Tries      int
	AttemptID  *int64
	Outcome    string
	Code       *int
	Message    string
	FinishedAt *time.Time
}

// SelectedDescription is the description of a run over n rows picked by hand.
func SelectedDescription(n int) string { return "selected=" + strconv.Itoa(n) }

// Named is an account's appid and name, for a confirmation that names them.
type Named struct {
	AppID, Name string
}

// Names returns the names of the first limit of appIDs, in name order.
func (r *Runs) Names(ctx context.Context, appIDs []string, limit int) ([]Named, error) {
	return r.Store.Names(ctx, appIDs, limit)
}

// OpenCautions counts, among appIDs, the accounts whose last outcome is
// unknown (they may already be open) and those WeChat will not open (frozen,
// banned, deregistered: an open run skips them), for the confirmation.
func (r *Runs) OpenCautions(ctx context.Context, appIDs []string) (unknown, notOffered int, err error) {
	return r.Store.OpenCautions(ctx, appIDs)
}

// Runs creates and steers bulk runs.
type Runs struct {
	Store  RunStore
	client *Client
}

// RunItemArgs is the queue job for one account of a run.
type RunItemArgs struct {
	RunID int64  `json:"run_id"`
	AppID string `json:"appid"`
}

// Kind names the job in the queue.
func (RunItemArgs) Kind() string { return "run_item" }

// InsertOpts puts run items on the bulk queue; a job may be re-queued by a
// resume, so the item's state, not the queue, guarantees one call. With
// NextRetry's backoff (1, 2, 4, then 8 s), 100 tries outlast a database
// outage of about thirteen minutes.
func (RunItemArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBulk, MaxAttempts: 100}
}

// MatchFilter lists the Mini Programs a run over f takes (not revoked): the
// rows the list shows for the same filter, through the same SQL.
func (r *Runs) MatchFilter(ctx context.Context, f traffic.Filter) ([]string, error) {
	return r.Store.MatchFilter(ctx, f)
}

// Create starts a run of action over appIDs on behalf of staff (nil for a
// schedule). Unknown appids are dropped; accounts already open or with an
// attempt in flight are counted as skipped. One queue job per remaining
// account is inserted in the same transaction as the run.
func (r *Runs) Create(ctx context.Context, staff *core.Staff, action traffic.Action, appIDs []string, description string) (*Run, error) {
	run, _, err := r.CreateOnce(ctx, staff, action, appIDs, description, "")
	return run, err
}

// CreateOnce is Create for a confirmation form carrying a one-time token:
// the first request with a token starts the run, any later one (a double
// click, Back and submit again) returns that same run with existed set.
// An empty token starts a run every time.
func (r *Runs) CreateOnce(ctx context.Context, staff *core.Staff, action traffic.Action, appIDs []string, description, token string) (run *Run, existed bool, err error) {
	run, err = r.create(ctx, staff, action, appIDs, description, token)
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

func (r *Runs) create(ctx context.Context, staff *core.Staff, action traffic.Action, appIDs []string, description, token string) (*Run, error) {
	if action != traffic.ActionCheck && action != traffic.ActionOpen {
		return nil, core.Errorf(core.EINVALID, "Unknown action.")
	}
	return r.start(ctx, staff, &Run{Action: action, Status: RunRunning, Description: description}, appIDs, token)
}

// start inserts run (a check or open run, or an ad-operation run) over
// appIDs with its queue jobs.
func (r *Runs) start(ctx context.Context, staff *core.Staff, run *Run, appIDs []string, token string) (*Run, error) {
	if len(appIDs) == 0 {
		return nil, core.Errorf(core.EINVALID, "Select at least one Mini Program.")
	}
	if staff != nil && !staff.CanOperate() {
		return nil, core.Errorf(core.EFORBIDDEN, "Your role does not allow this.")
	}
	if staff != nil {
		run.CreatedBy, run.CreatedByName = &staff.ID, staff.Username
	}
	if err := r.Store.CreateRun(ctx, run, appIDs, token, r.queue); err != nil {
		return nil, err
	}
	if run.Total == 0 {
		return nil, core.Errorf(core.EINVALID, "None of the selected accounts is known.")
	}
	return r.Get(ctx, run.ID)
}

// queue inserts the jobs of pending accounts in the transaction that wrote
// them (River inserts within its caller's transaction).
func (r *Runs) queue(ctx context.Context, tx pgx.Tx, pending []PendingItem) error {
	params := make([]river.InsertManyParams, len(pending))
	for i, it := range pending {
		params[i] = river.InsertManyParams{Args: RunItemArgs{RunID: it.RunID, AppID: it.AppID}}
		if it.NotBefore != nil {
			params[i].InsertOpts = &river.InsertOpts{ScheduledAt: *it.NotBefore}
		}
	}
	if _, err := r.client.River.InsertManyFastTx(ctx, tx, params); err != nil {
		return fmt.Errorf("queue run items: %w", err)
	}
	return nil
}

// Pause stops new calls for the run; calls in progress finish.
func (r *Runs) Pause(ctx context.Context, id int64) error {
	changed, err := r.Store.PauseRun(ctx, id)
	return r.changed(ctx, id, changed, err, core.Errorf(core.ECONFLICT, "Only a running run can be paused."))
}

// Cancel stops the run for good; accounts not yet called are marked cancelled.
func (r *Runs) Cancel(ctx context.Context, id int64) error {
	changed, err := r.Store.CancelRun(ctx, id)
	return r.changed(ctx, id, changed, err, core.Errorf(core.ECONFLICT, "Only a running or paused run can be cancelled."))
}

// Resume continues a paused run where it stopped: the jobs of its pending
// accounts are queued again, each no earlier than its backoff allows.
func (r *Runs) Resume(ctx context.Context, id int64) error {
	changed, err := r.Store.ResumeRun(ctx, id, r.queue)
	return r.changed(ctx, id, changed, err, core.Errorf(core.ECONFLICT, "Only a paused run can be resumed."))
}

// changed turns a status change that did not apply into not found, for a
// run that does not exist, or refusal.
func (r *Runs) changed(ctx context.Context, id int64, changed bool, err error, refusal *core.Error) error {
	if err != nil || changed {
		return err
	}
	if _, err := r.Store.Run(ctx, id); err != nil {
		return err
	}
	return refusal
}

// Get returns a run with its counts.
func (r *Runs) Get(ctx context.Context, id int64) (*Run, error) {
	run, err := r.Store.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	return run, r.fillCounts(ctx, []*Run{run}, true)
}

// List returns the newest runs first.
func (r *Runs) List(ctx context.Context, limit, offset int) ([]*Run, error) {
	runs, err := r.Store.ListRuns(ctx, limit, offset)
	if err != nil {
		return nil, err
	}
	return runs, r.fillCounts(ctx, runs, false)
}

func (r *Runs) fillCounts(ctx context.Context, runs []*Run, withRate bool) error {
	if err := r.Store.CountItems(ctx, runs, withRate); err != nil {
		return err
	}
	if r.client != nil {
		for _, run := range runs {
			run.ConfiguredRate = r.client.cfg.RatePerSecond
		}
	}
	return nil
}

// Items returns the run's finished accounts, newest first.
func (r *Runs) Items(ctx context.Context, id int64, limit int) ([]Item, error) {
	return r.Store.Items(ctx, id, limit)
}
