package app

import (
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/ams"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// newAMS builds the ad operations: snapshots in Postgres, writes through the
// traffic service's audited attempt.
func newAMS(pool *pgxpool.Pool, componentAppID string, wc *wechat.Client, tokens ams.Tokens, writer *traffic.Service, log *slog.Logger, now func() time.Time) *ams.Service {
	return &ams.Service{Store: &postgres.AMSStore{Pool: pool}, WeChat: wc, Tokens: tokens, Writer: writer, Log: log, Now: now,
		ComponentAppID: componentAppID, Security: &postgres.StaffStore{Pool: pool}}
}
