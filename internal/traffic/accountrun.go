package traffic

import "time"

// AccountRun is one bulk run as one account saw it: the run, and what became
// of the account's item in it.
type AccountRun struct {
	RunID         int64
	Action        Action
	RunStatus     string
	CreatedBy     *int64
	CreatedByName string
	CreatedAt     time.Time
	// ItemState is the account's place in the run (pending, calling, done, skipped, cancelled).
	ItemState  string
	Outcome    Outcome
	Code       *int
	AttemptID  *int64
	FinishedAt *time.Time
}
