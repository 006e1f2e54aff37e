package postgres

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// AccountRuns returns the bulk runs an account was part of, newest first,
// with ids below before (0 for the newest); next is the keyset of the
// following page, 0 on the last.
func (s *TrafficStore) AccountRuns(ctx context.Context, appID string, before int64, limit int) (list []traffic.AccountRun, next int64, err error) {
	if limit <= 0 {
		limit = 20
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.Pool.Query(ctx, `SELECT r.id, coalesce(r.action, CASE r.op WHEN 'slot_switch' THEN 'unit_update' ELSE r.op END), r.status, r.created_by, r.created_by_name, r.created_at,
			i.state, i.outcome, i.code, i.attempt_id, i.finished_at
		FROM run_items i JOIN runs r ON r.id = i.run_id
		WHERE i.appid = $1 AND i.run_id < $2
		ORDER BY i.run_id DESC LIMIT `+strconv.Itoa(limit+1), appID, before)
	if err != nil {
		return nil, 0, err
	}
	list, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (traffic.AccountRun, error) {
		var x traffic.AccountRun
		var action, outcome string
		err := r.Scan(&x.RunID, &action, &x.RunStatus, &x.CreatedBy, &x.CreatedByName, &x.CreatedAt,
			&x.ItemState, &outcome, &x.Code, &x.AttemptID, &x.FinishedAt)
		x.Action, x.Outcome = traffic.Action(action), traffic.Outcome(outcome)
		return x, err
	})
	if err != nil {
		return nil, 0, err
	}
	if len(list) > limit {
		list = list[:limit]
		next = list[limit-1].RunID
	}
	return list, next, nil
}
