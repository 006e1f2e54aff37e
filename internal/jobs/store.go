package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trafficmaster/trafficmaster/internal/ams"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// Store is what the queue's services need of the database: the runs'
// store and the worker's. internal/postgres implements it (postgres.RunStore).
type Store interface {
	RunStore
	ItemStore
}

// RunStore keeps bulk runs: what Runs needs of the database to select,
// confirm, create, steer and show them.
type RunStore interface {
	// MatchFilter lists, in appid order, the accounts a run over f takes:
	// those the Mini Programs page shows for f that are neither revoked nor
	// Official Accounts.
	MatchFilter(ctx context.Context, f traffic.Filter) ([]string, error)
	// Names returns the names of the first limit of appIDs, in name order.
	Names(ctx context.Context, appIDs []string, limit int) ([]Named, error)
	// OpenCautions counts, among appIDs, the accounts whose last outcome is
	// unknown and those WeChat will not open (frozen, banned, deregistered).
	OpenCautions(ctx context.Context, appIDs []string) (unknown, notOffered int, err error)
	// BelowThreshold lists the Mini Programs refused with 2013 whose
	// platform and account both have the retry switched on.
	BelowThreshold(ctx context.Context) ([]string, error)

	// CreateRun inserts run (setting its ID, CreatedAt and Total) with one
	// item per known account of appIDs, those already open, in flight or not
	// offered as skipped, and calls queue with the pending ones, all in one
	// transaction. When no account is known nothing is written and Total is
	// 0; a token already used returns ErrRunExists.
	CreateRun(ctx context.Context, run *Run, appIDs []string, token string, queue QueueFunc) error
	// RunIDByToken returns the run a confirmation token started.
	RunIDByToken(ctx context.Context, token string) (int64, error)
	// Run returns a run without its counts, or a not-found error.
	Run(ctx context.Context, id int64) (*Run, error)
	// ListRuns returns the newest runs first, without their counts.
	ListRuns(ctx context.Context, limit, offset int) ([]*Run, error)
	// CountItems fills the runs' States and Outcomes, and with withRate
	// their RatePerSecond.
	CountItems(ctx context.Context, runs []*Run, withRate bool) error
	// Items returns the run's finished accounts, newest first.
	Items(ctx context.Context, id int64, limit int) ([]Item, error)
	// PauseRun, CancelRun and ResumeRun change a run's status; changed is
	// false when the run was not in a status that allows it (or is not
	// there). Cancelling cancels the accounts not yet called; resuming calls
	// queue with the pending accounts in the same transaction.
	PauseRun(ctx context.Context, id int64) (changed bool, err error)
	CancelRun(ctx context.Context, id int64) (changed bool, err error)
	ResumeRun(ctx context.Context, id int64, queue QueueFunc) (changed bool, err error)
}

// ItemStore keeps the accounts of runs as the worker calls them, one job
// per account.
type ItemStore interface {
	// WorkItem reads an account of a run as its job finds it (a not-found
	// error when the run is gone).
	WorkItem(ctx context.Context, runID int64, appID string) (*WorkItem, error)
	// AccountOpen reports whether the account's traffic master is open.
	AccountOpen(ctx context.Context, appID string) (bool, error)
	// ClaimItem moves a pending account of a running run to calling for
	// jobID, false when it is not pending or the run is not running.
	ClaimItem(ctx context.Context, runID int64, appID string, jobID int64) (bool, error)
	// RunCreator loads the staff member who started a run.
	RunCreator(ctx context.Context, staffID int64) (*core.Staff, error)
	// LastRunAttempt returns the run's latest attempt for the account and
	// how many it made (Count 0 when none).
	LastRunAttempt(ctx context.Context, runID int64, appID string) (RunAttempt, error)
	// RetryItem puts a called account back to pending (cancelled if the run
	// was cancelled meanwhile) with at, to be called no earlier than notBefore.
	RetryItem(ctx context.Context, runID int64, appID string, tries int, notBefore time.Time, at *traffic.Attempt) error
	// FinishItem records a pending or calling account's result, and finishes
	// the run after its last account.
	FinishItem(ctx context.Context, runID int64, appID string, r ItemResult) error
	// PauseForPlatform puts a called account back to be called on resume
	// and pauses the running run with at's code and message, in one
	// transaction; paused is false when the run was no longer running.
	PauseForPlatform(ctx context.Context, runID int64, appID string, tries int, at *traffic.Attempt) (paused bool, err error)
}

// SlotStore reserves call slots shared by every instance (see RateLimiter);
// internal/postgres implements it (postgres.RateSlots).
type SlotStore interface {
	// ReserveSlot takes the named limiter's next free slot, interval after
	// the previous one; wait is how long from now it is (0 or less: now).
	ReserveSlot(ctx context.Context, name string, interval time.Duration) (slot time.Time, wait time.Duration, err error)
}

// ErrRunExists is CreateRun's answer to a confirmation token already used.
var ErrRunExists = errors.New("a run was already started with this token")

// QueueFunc queues the jobs of pending accounts inside the transaction tx
// that writes them: River inserts within its caller's transaction.
type QueueFunc func(ctx context.Context, tx pgx.Tx, pending []PendingItem) error

// PendingItem is an account of a run waiting for its call.
type PendingItem struct {
	RunID int64
	AppID string
	// NotBefore is when its backoff lets it be called again (nil: now).
	NotBefore *time.Time
}

// WorkItem is an account of a run with its run's status, as the job that
// calls it reads them.
type WorkItem struct {
	RunStatus RunStatus
	Action    traffic.Action
	// Op and Params are an ad-operation run's (Action is then empty).
	Op         ams.Op
	Params     json.RawMessage
	CreatedBy  *int64
	State      traffic.ItemState
	ClaimedJob *int64
	Tries      int
}

// RunAttempt is the latest attempt a run made for an account.
type RunAttempt struct {
	// Count is how many attempts the run made for the account.
	Count   int
	ID      int64
	Status  string
	Outcome string
	Code    *int
	Message string
}

// ItemResult is an account's result in a run.
type ItemResult struct {
	State     traffic.ItemState
	Tries     int
	AttemptID *int64
	Outcome   string
	Code      *int
	Message   string
}
