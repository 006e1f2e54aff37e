package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// Schedule is periodic work on the queue. River's leader enqueues it, so one
// instance runs it however many are up.
type Schedule struct {
	// Name identifies the schedule on the Jobs page and in the queue.
	Name string
	// Description says what it does (English, translated for display).
	Description string
	Every       time.Duration
	RunOnStart  bool
	// Timeout bounds one run, when it needs longer than Config.JobTimeout.
	Timeout time.Duration
	// Do performs the work and summarises it for the Jobs page.
	Do func(ctx context.Context, c *Client) (string, error)
}

// scheduleAttempts bounds the retries of a failed scheduled run: the next
// period tries again anyway, so a long retry tail would only add noise.
const scheduleAttempts = 3

// ScheduleArgs is the queue job of one scheduled run.
type ScheduleArgs struct {
	Name string `json:"name"`
}

// Kind names the job in the queue.
func (ScheduleArgs) Kind() string { return "schedule" }

type scheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	c *Client
}

// schedule is the configured schedule of that name.
func (w *scheduleWorker) schedule(name string) (Schedule, bool) {
	for _, s := range w.c.cfg.Schedules {
		if s.Name == name {
			return s, true
		}
	}
	return Schedule{}, false
}

// Timeout is the schedule's own, or the queue's for every job.
func (w *scheduleWorker) Timeout(job *river.Job[ScheduleArgs]) time.Duration {
	if s, ok := w.schedule(job.Args.Name); ok && s.Timeout > 0 {
		return s.Timeout
	}
	return w.c.cfg.JobTimeout
}

func (w *scheduleWorker) Work(ctx context.Context, job *river.Job[ScheduleArgs]) error {
	s, ok := w.schedule(job.Args.Name)
	if !ok {
		return river.JobCancel(fmt.Errorf("no schedule named %q", job.Args.Name))
	}
	summary, err := s.Do(ctx, w.c)
	if err != nil {
		return err
	}
	// The summary is kept on the job for the Jobs page.
	return river.RecordOutput(ctx, summary)
}

// RetryBelowThreshold is the schedule that opens, again, the traffic master
// of accounts WeChat refused with 2013 (fewer than 1,000 visitors), where both
// the platform and the account have the retry switched on.
func RetryBelowThreshold(every time.Duration) Schedule {
	return Schedule{
		Name:        "retry_below_threshold",
		Description: "Retry opening accounts below the 1,000-visitor threshold (2013)",
		Every:       every,
		Do: func(ctx context.Context, c *Client) (string, error) {
			runs := c.Runs
			ids, err := runs.Store.BelowThreshold(ctx)
			if err != nil {
				return "", err
			}
			if len(ids) == 0 {
				return "no accounts below the threshold", nil
			}
			run, err := runs.Create(ctx, nil, traffic.ActionOpen, ids, "scheduled retry of accounts below the threshold (2013)")
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("run %d over %d accounts", run.ID, run.Total), nil
		},
	}
}

// ScheduleStatus is a schedule with its latest run, for the Jobs page.
type ScheduleStatus struct {
	Schedule
	// LastState is the queue state of the latest job ("" if never run).
	LastState  string
	LastAt     *time.Time
	LastOutput string
	LastError  string
}

// Schedules reports each schedule's latest run, asked of the queue: every
// scheduled job carries its schedule's name as a tag (see New).
func (c *Client) Schedules(ctx context.Context) ([]ScheduleStatus, error) {
	out := make([]ScheduleStatus, len(c.cfg.Schedules))
	for i, s := range c.cfg.Schedules {
		out[i].Schedule = s
		res, err := c.River.JobList(ctx, river.NewJobListParams().Kinds(ScheduleArgs{}.Kind()).TagsAll(s.Name).
			OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(1))
		if err != nil {
			return nil, err
		}
		if len(res.Jobs) == 0 {
			continue
		}
		j := res.Jobs[0]
		out[i].LastState = string(j.State)
		at := j.ScheduledAt
		switch {
		case j.FinalizedAt != nil:
			at = *j.FinalizedAt
		case j.AttemptedAt != nil:
			at = *j.AttemptedAt
		}
		out[i].LastAt = &at
		if b := j.Output(); len(b) > 0 {
			var summary string
			if json.Unmarshal(b, &summary) == nil {
				out[i].LastOutput = summary
			} else {
				out[i].LastOutput = string(b)
			}
		}
		if n := len(j.Errors); n > 0 {
			out[i].LastError = j.Errors[n-1].Error
		}
	}
	return out, nil
}
