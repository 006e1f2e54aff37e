package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/alert"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/secretbox"
)

// AlertStore keeps the alert targets (URLs and secrets sealed with Box),
// records events with one delivery per subscribed target and queues them
// through Queue in the same transaction. The other stores call emit inside
// their own transactions; a nil *AlertStore records nothing.
type AlertStore struct {
	Pool  *pgxpool.Pool
	Box   *secretbox.Box
	Queue jobs.AlertQueueFunc
}

var (
	_ alert.Store          = (*AlertStore)(nil)
	_ jobs.AlertDeliveries = (*AlertStore)(nil)
)

// Targets lists the targets, oldest first, without their URLs and secrets.
func (s *AlertStore) Targets(ctx context.Context) ([]alert.Target, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT id, name, kind, url_shown, secret_sealed IS NOT NULL, events, enabled, created_at, last_status, last_error, last_at, last_event
		FROM alert_targets ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (alert.Target, error) {
		var t alert.Target
		var events []string
		var last string
		err := row.Scan(&t.ID, &t.Name, &t.Kind, &t.URLShown, &t.HasSecret, &events, &t.Enabled, &t.CreatedAt, &t.LastStatus, &t.LastError, &t.LastAt, &last)
		for _, e := range events {
			t.Events = append(t.Events, alert.EventKind(e))
		}
		t.LastEvent = alert.EventKind(last)
		return t, err
	})
}

// AddTarget seals url and secret and inserts t.
func (s *AlertStore) AddTarget(ctx context.Context, t *alert.Target, url, secret string, by *int64) error {
	sealedURL, err := s.Box.Seal([]byte(url))
	if err != nil {
		return err
	}
	var sealedSecret []byte
	if secret != "" {
		if sealedSecret, err = s.Box.Seal([]byte(secret)); err != nil {
			return err
		}
	}
	events := make([]string, len(t.Events))
	for i, e := range t.Events {
		events[i] = string(e)
	}
	return s.Pool.QueryRow(ctx, `
		INSERT INTO alert_targets (name, kind, url_sealed, url_shown, secret_sealed, events, enabled, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, created_at`,
		t.Name, t.Kind, sealedURL, t.URLShown, sealedSecret, events, t.Enabled, by).Scan(&t.ID, &t.CreatedAt)
}

// SetTargetEnabled switches a target on or off.
func (s *AlertStore) SetTargetEnabled(ctx context.Context, id int64, enabled bool) (bool, error) {
	tag, err := s.Pool.Exec(ctx, `UPDATE alert_targets SET enabled = $2 WHERE id = $1`, id, enabled)
	return err == nil && tag.RowsAffected() > 0, err
}

// DeleteTarget deletes a target with its deliveries; their queued jobs
// find nothing and end.
func (s *AlertStore) DeleteTarget(ctx context.Context, id int64) (bool, error) {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM alert_targets WHERE id = $1`, id)
	return err == nil && tag.RowsAffected() > 0, err
}

// EmitTest records e for the one target, enabled or not, and queues it.
func (s *AlertStore) EmitTest(ctx context.Context, targetID int64, e alert.Event) (bool, error) {
	var n int
	err := inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		var err error
		n, err = s.record(ctx, tx, e, targetID)
		return err
	})
	return n > 0, err
}

// Emit records e and queues its deliveries in a transaction of its own, for
// an event no other write goes with (a platform-wide error).
func (s *AlertStore) Emit(ctx context.Context, e alert.Event) error {
	if s == nil {
		return nil
	}
	return inTx(ctx, s.Pool, func(tx pgx.Tx) error { return s.emit(ctx, tx, e) })
}

// emit records e with one delivery per enabled target subscribed to its
// kind and queues them, inside tx.
func (s *AlertStore) emit(ctx context.Context, tx pgx.Tx, e alert.Event) error {
	if s == nil {
		return nil
	}
	_, err := s.record(ctx, tx, e, 0)
	return err
}

// record writes the event and its deliveries (to only, or when 0 to every
// enabled subscriber) and queues them; n is how many.
func (s *AlertStore) record(ctx context.Context, tx pgx.Tx, e alert.Event, only int64) (n int, err error) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	if e.Dedupe != "" {
		// One event per key at a time: the check and the insert below are
		// not raced by another transaction with the same key.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('alert:' || $1, 0))`, e.Dedupe); err != nil {
			return 0, err
		}
		var dup bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM alert_events WHERE dedupe_key = $1 AND created_at > now() - make_interval(secs => $2))`,
			e.Dedupe, e.DedupeFor.Seconds()).Scan(&dup); err != nil || dup {
			return 0, err
		}
	}
	payload, err := json.Marshal(e)
	if err != nil {
		return 0, err
	}
	rows, err := tx.Query(ctx, `
		WITH t AS (
			SELECT id FROM alert_targets WHERE CASE WHEN $4 > 0 THEN id = $4 ELSE enabled AND $1 = ANY (events) END
		), ev AS (
			INSERT INTO alert_events (kind, dedupe_key, payload)
			SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM t) RETURNING id
		)
		INSERT INTO alert_deliveries (event_id, target_id) SELECT ev.id, t.id FROM ev, t RETURNING id`,
		string(e.Kind), e.Dedupe, payload, only)
	if err != nil {
		return 0, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return len(ids), s.Queue(ctx, tx, ids)
}

// Delivery opens a delivery with its event and its target's URL and secret.
func (s *AlertStore) Delivery(ctx context.Context, id int64) (*alert.Delivery, error) {
	var (
		d              alert.Delivery
		payload        []byte
		sealedURL, sec []byte
	)
	err := s.Pool.QueryRow(ctx, `
		SELECT d.id, d.status, e.payload, t.id, t.kind, t.url_sealed, t.secret_sealed, t.enabled
		FROM alert_deliveries d JOIN alert_events e ON e.id = d.event_id JOIN alert_targets t ON t.id = d.target_id
		WHERE d.id = $1`, id).Scan(&d.ID, &d.Status, &payload, &d.Dest.TargetID, &d.Dest.Kind, &sealedURL, &sec, &d.Dest.Enabled)
	if notFound(err) {
		return nil, core.Errorf(core.ENOTFOUND, "Alert delivery not found.")
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(payload, &d.Event); err != nil {
		return nil, err
	}
	u, err := s.Box.Open(sealedURL)
	if err != nil {
		return nil, err
	}
	d.Dest.URL = string(u)
	if sec != nil {
		p, err := s.Box.Open(sec)
		if err != nil {
			return nil, err
		}
		d.Dest.Secret = string(p)
	}
	return &d, nil
}

// RecordDelivery records a try on the delivery and, as its latest, on its target.
func (s *AlertStore) RecordDelivery(ctx context.Context, id int64, r alert.Result) error {
	status := "pending"
	switch r.Status {
	case alert.StatusSent:
		status = "sent"
	case alert.StatusFailed:
		status = "failed"
	}
	_, err := s.Pool.Exec(ctx, `
		WITH d AS (
			UPDATE alert_deliveries SET status = $2, tries = tries + 1, last_error = $4,
			       sent_at = CASE WHEN $2 = 'sent' THEN now() END
			WHERE id = $1 RETURNING target_id, event_id
		)
		UPDATE alert_targets t SET last_status = $3, last_error = $4, last_at = now(), last_event = e.kind
		FROM d JOIN alert_events e ON e.id = d.event_id WHERE t.id = d.target_id`,
		id, status, r.Status, r.Error)
	return err
}
