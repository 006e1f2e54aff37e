package traffic

import "time"

// ItemState is where one account stands in a bulk run; the values are
// stored in run_items.state.
type ItemState string

// Item states of one account in a run.
const (
	ItemPending   ItemState = "pending"   // waiting for its turn
	ItemCalling   ItemState = "calling"   // claimed by a worker: WeChat may be called
	ItemDone      ItemState = "done"      // called; the outcome is recorded
	ItemSkipped   ItemState = "skipped"   // not called (already open, refused, or left as it was)
	ItemCancelled ItemState = "cancelled" // the run was cancelled before its turn
)

// AccountRun is one bulk run as one account saw it: the run, and what became
// of the account's item in it.
type AccountRun struct {
	RunID         int64
	Action        Action
	RunStatus     string
	CreatedBy     *int64
	CreatedByName string
	CreatedAt     time.Time
	// ItemState is the account's place in the run.
	ItemState  ItemState
	Outcome    Outcome
	Code       *int
	AttemptID  *int64
	FinishedAt *time.Time
}
