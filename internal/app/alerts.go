package app

import (
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/alert"
	"github.com/trafficmaster/trafficmaster/internal/config"
	"github.com/trafficmaster/trafficmaster/internal/i18n"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/secretbox"
)

// newAlerts builds the alerts' store (targets sealed at rest, deliveries
// queued in the transaction of the event that caused them), the service the
// settings page calls and the sender the queue's workers use. It comes
// before the stores that record events, which hold the store.
func newAlerts(cfg config.Config, pool *pgxpool.Pool, now func() time.Time) (*postgres.AlertStore, *alert.Service, *alert.Sender, error) {
	box, err := secretbox.New(cfg.Key("at-rest"))
	if err != nil {
		return nil, nil, nil, err
	}
	queue, err := jobs.NewAlertQueue(pool)
	if err != nil {
		return nil, nil, nil, err
	}
	store := &postgres.AlertStore{Pool: pool, Box: box, Queue: queue}
	// http:// to this machine only while the console itself is not on https
	// (dev, tests): a robot in production is always reached over https.
	svc := &alert.Service{Store: store, AllowLoopback: !cfg.Secure(), Now: now}
	lang, _ := i18n.Parse(cfg.AlertLang)
	sender := &alert.Sender{HTTP: &http.Client{Timeout: 10 * time.Second}, Lang: lang, BaseURL: cfg.PublicURL, Now: now}
	return store, svc, sender, nil
}
