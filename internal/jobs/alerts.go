package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/trafficmaster/trafficmaster/internal/alert"
	"github.com/trafficmaster/trafficmaster/internal/core"
)

// AlertQueueFunc queues the jobs of alert deliveries inside the transaction
// tx that recorded them.
type AlertQueueFunc func(ctx context.Context, tx pgx.Tx, deliveryIDs []int64) error

// NewAlertQueue returns the function that queues alert deliveries. It
// inserts through an insert-only queue client of its own, so the stores
// that record events (built before the workers' client) can queue their
// deliveries in the same transaction; the workers' client sends them.
func NewAlertQueue(pool *pgxpool.Pool) (AlertQueueFunc, error) {
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		return nil, fmt.Errorf("alert queue client: %w", err)
	}
	return func(ctx context.Context, tx pgx.Tx, ids []int64) error {
		if len(ids) == 0 {
			return nil
		}
		params := make([]river.InsertManyParams, len(ids))
		for i, id := range ids {
			params[i] = river.InsertManyParams{Args: AlertArgs{DeliveryID: id}}
		}
		if _, err := rc.InsertManyFastTx(ctx, tx, params); err != nil {
			return fmt.Errorf("queue alert deliveries: %w", err)
		}
		return nil
	}, nil
}

// AlertDeliveries keeps the deliveries of alerts; internal/postgres implements it.
type AlertDeliveries interface {
	// Delivery opens a delivery with its event and target (a not-found
	// error once the target is deleted).
	Delivery(ctx context.Context, id int64) (*alert.Delivery, error)
	// RecordDelivery records a try's result on the delivery and its target.
	RecordDelivery(ctx context.Context, id int64, r alert.Result) error
}

// AlertSender sends one delivery once (alert.Sender).
type AlertSender interface {
	Send(ctx context.Context, d alert.Dest, e alert.Event) error
}

// alertAttempts bounds the tries of one delivery. River's backoff (the
// attempt to the fourth power, in seconds) spaces them 1 s, 16 s, 81 s, …
// apart: the last one about an hour and a quarter after the first.
const alertAttempts = 8

// AlertArgs is the queue job that sends one event to one target.
type AlertArgs struct {
	DeliveryID int64 `json:"delivery_id"`
}

// Kind names the job in the queue.
func (AlertArgs) Kind() string { return "alert_delivery" }

// InsertOpts puts deliveries on the maintenance queue, beside the
// schedules, never behind a bulk run's thousands of calls.
func (AlertArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: alertAttempts}
}

type alertWorker struct {
	river.WorkerDefaults[AlertArgs]
	c *Client
}

// Timeout bounds one try: the sender's own timeout is shorter.
func (w *alertWorker) Timeout(*river.Job[AlertArgs]) time.Duration { return 30 * time.Second }

func (w *alertWorker) Work(ctx context.Context, job *river.Job[AlertArgs]) error {
	store, sender := w.c.cfg.Alerts, w.c.cfg.AlertSender
	if store == nil || sender == nil {
		return river.JobCancel(errors.New("alerts are not configured"))
	}
	d, err := store.Delivery(ctx, job.Args.DeliveryID)
	if core.ErrorCode(err) == core.ENOTFOUND {
		return nil // the target was deleted
	} else if err != nil {
		return err
	}
	if d.Status != "pending" || (!d.Dest.Enabled && d.Event.Kind != alert.EventTest) {
		return nil // sent already, or switched off since
	}
	sendErr := sender.Send(ctx, d.Dest, d.Event)
	res := alert.Result{Status: alert.StatusSent}
	var perm *alert.PermanentError
	if sendErr != nil {
		res = alert.Result{Status: alert.StatusRetrying, Error: sendErr.Error()}
		if errors.As(sendErr, &perm) || job.Attempt >= job.MaxAttempts {
			res.Status = alert.StatusFailed
		}
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := store.RecordDelivery(rctx, d.ID, res); err != nil {
		return errors.Join(sendErr, err)
	}
	if perm != nil {
		return river.JobCancel(sendErr)
	}
	return sendErr
}
