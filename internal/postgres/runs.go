package postgres

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/alert"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// RunStore keeps bulk runs and their items: jobs.Store (the runs' store
// and the worker's) on Postgres.
type RunStore struct {
	Pool *pgxpool.Pool
	// Alerts records a run's finishing or pausing itself in the same
	// transaction (nil: no alerts).
	Alerts *AlertStore
}

var _ jobs.Store = (*RunStore)(nil)

// MatchFilter lists the accounts a run over f takes, in appid order: those
// the list shows for f's selection that are neither revoked nor Official
// Accounts (the list's Runnable count).
func (s *RunStore) MatchFilter(ctx context.Context, f traffic.Filter) ([]string, error) {
	w := &where{}
	from := AccountFilter(f.Selection()).selection(w, true)
	w.add(runnableCond)
	rows, err := s.Pool.Query(ctx, "SELECT s.appid"+from+w.sql()+" ORDER BY s.appid", w.args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Names returns the names of the first limit of appIDs, in name order.
func (s *RunStore) Names(ctx context.Context, appIDs []string, limit int) ([]jobs.Named, error) {
	rows, err := s.Pool.Query(ctx, `SELECT appid, nick_name FROM authorizers WHERE appid = ANY($1) ORDER BY nick_name, appid LIMIT $2`, appIDs, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (jobs.Named, error) {
		var n jobs.Named
		err := row.Scan(&n.AppID, &n.Name)
		return n, err
	})
}

// OpenCautions counts, among appIDs, the accounts whose last outcome is
// unknown and those WeChat will not open (frozen, banned, deregistered).
func (s *RunStore) OpenCautions(ctx context.Context, appIDs []string) (unknown, notOffered int, err error) {
	err = s.Pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE s.state = 'unknown'), count(*) FILTER (WHERE a.account_status IN (14, 16, 19))
		FROM authorizers a LEFT JOIN authorizer_state s USING (appid) WHERE a.appid = ANY($1)`, appIDs).Scan(&unknown, &notOffered)
	return unknown, notOffered, err
}

// BelowThreshold lists the Mini Programs refused with 2013 whose platform
// and account both have the retry switched on, in appid order, with those
// opened on authorization whose check said "not yet" (they were never
// refused, because the open was not sent).
func (s *RunStore) BelowThreshold(ctx context.Context) ([]string, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT a.appid FROM authorizers a
		JOIN authorizer_state s USING (appid)
		JOIN platforms p ON p.component_appid = a.component_appid
		LEFT JOIN auto_opens o ON o.appid = a.appid AND o.ended_at IS NULL
		WHERE (s.state = 'below_threshold' OR (s.state = 'not_eligible' AND o.result = 'not_eligible'))
		  AND a.retry_below_threshold AND p.retry_below_threshold
		  AND a.is_mini_program AND a.revoked_at IS NULL
		ORDER BY a.appid`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// errNoItems rolls back a run none of whose accounts is known.
var errNoItems = errors.New("no known account")

// CreateRun inserts run and one item per known account of appIDs (already
// open, in flight or not offered ones as skipped), and queues the pending
// ones, in one transaction; see jobs.RunStore.
func (s *RunStore) CreateRun(ctx context.Context, run *jobs.Run, appIDs []string, token string, queue jobs.QueueFunc) error {
	err := inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		var params []byte
		if run.Op != "" {
			params = run.Params
		}
		if err := tx.QueryRow(ctx, `INSERT INTO runs (action, op, params, created_by, created_by_name, description, create_token) VALUES (NULLIF($1, ''), NULLIF($2, ''), $3, $4, $5, $6, NULLIF($7, '')) RETURNING id, created_at`,
			string(run.Action), string(run.Op), params, run.CreatedBy, run.CreatedByName, run.Description, token).Scan(&run.ID, &run.CreatedAt); err != nil {
			return err
		}
		query, args := createItemsSQL, []any{run.ID, appIDs, string(run.Action)}
		if run.Op != "" {
			query, args = createOpItemsSQL, []any{run.ID, appIDs}
		}
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		var pending []jobs.PendingItem
		total := 0
		var appID string
		var state traffic.ItemState
		if _, err := pgx.ForEachRow(rows, []any{&appID, &state}, func() error {
			total++
			if state == traffic.ItemPending {
				pending = append(pending, jobs.PendingItem{RunID: run.ID, AppID: appID})
			}
			return nil
		}); err != nil {
			return err
		}
		if total == 0 {
			return errNoItems
		}
		run.Total = total
		if _, err := tx.Exec(ctx, `UPDATE runs SET total = $2 WHERE id = $1`, run.ID, total); err != nil {
			return err
		}
		if len(pending) > 0 {
			if err := queue(ctx, tx, pending); err != nil {
				return err
			}
		}
		return s.finishIfDone(ctx, tx, run.ID)
	})
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, errNoItems):
		run.ID, run.Total = 0, 0
		return nil
	case token != "" && errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "runs_create_token_key":
		return jobs.ErrRunExists
	}
	return err
}

// createItemsSQL inserts the items of a check or open run: accounts
// already open, with an attempt in flight, or (for opening) not offered are
// skipped.
const createItemsSQL = `
		INSERT INTO run_items (run_id, appid, state, outcome, message, finished_at)
		SELECT $1, a.appid,
		       CASE WHEN s.state = 'open' OR p.appid IS NOT NULL OR x.blocked THEN 'skipped' ELSE 'pending' END,
		       CASE WHEN s.state = 'open' THEN 'already_done' WHEN p.appid IS NOT NULL THEN 'in_progress' WHEN x.blocked THEN 'not_allowed' ELSE '' END,
		       CASE WHEN x.blocked AND s.state IS DISTINCT FROM 'open' AND p.appid IS NULL THEN 'Not offered: the account is frozen, banned or deregistered.' ELSE '' END,
		       CASE WHEN s.state = 'open' OR p.appid IS NOT NULL OR x.blocked THEN now() END
		FROM (SELECT DISTINCT unnest($2::text[]) AS appid) u
		JOIN authorizers a ON a.appid = u.appid
		LEFT JOIN authorizer_state s ON s.appid = a.appid
		LEFT JOIN LATERAL (SELECT appid FROM attempts t WHERE t.appid = a.appid AND t.status = 'pending' LIMIT 1) p ON true
		-- WeChat refuses to open deregistered (14), banned (16) and frozen (19) accounts.
		CROSS JOIN LATERAL (SELECT $3 = 'open' AND a.account_status IN (14, 16, 19) AS blocked) x
		ORDER BY a.appid
		RETURNING appid, state`

// createOpItemsSQL inserts the items of an ad-operation run: WeChat refuses
// every ad operation to an account whose traffic master is not open, so
// those are skipped. An attempt in flight is left to the write itself (each
// operation has its own lane), which refuses it as in progress.
const createOpItemsSQL = `
		INSERT INTO run_items (run_id, appid, state, outcome, message, finished_at)
		SELECT $1, a.appid,
		       CASE WHEN s.state = 'open' THEN 'pending' ELSE 'skipped' END,
		       CASE WHEN s.state = 'open' THEN '' ELSE 'not_allowed' END,
		       CASE WHEN s.state = 'open' THEN '' ELSE 'Not called: the traffic master is not open.' END,
		       CASE WHEN s.state = 'open' THEN NULL ELSE now() END
		FROM (SELECT DISTINCT unnest($2::text[]) AS appid) u
		JOIN authorizers a ON a.appid = u.appid
		LEFT JOIN authorizer_state s ON s.appid = a.appid
		ORDER BY a.appid
		RETURNING appid, state`

// RunIDByToken returns the run a confirmation token started.
func (s *RunStore) RunIDByToken(ctx context.Context, token string) (int64, error) {
	var id int64
	err := s.Pool.QueryRow(ctx, `SELECT id FROM runs WHERE create_token = $1`, token).Scan(&id)
	if notFound(err) {
		return 0, core.Errorf(core.ENOTFOUND, "Run not found.")
	}
	return id, err
}

// finishIfDone marks a running run finished once no account is left, and
// records the alert that says so in the same transaction: the update
// finishes a run once, so its alert is recorded once.
func (s *RunStore) finishIfDone(ctx context.Context, tx pgx.Tx, runID int64) error {
	e := alert.Event{Kind: alert.EventRunFinished, RunID: runID, Path: "/runs/" + strconv.FormatInt(runID, 10)}
	err := tx.QueryRow(ctx, `
		WITH f AS (
			UPDATE runs SET status = 'finished', finished_at = now(), updated_at = now()
			WHERE id = $1 AND status = 'running'
			  AND NOT EXISTS (SELECT 1 FROM run_items WHERE run_id = $1 AND state IN ('pending', 'calling'))
			RETURNING coalesce(action, op) AS action, total, finished_at
		)
		SELECT f.action, f.total, f.finished_at,
		       (SELECT count(*) FROM run_items WHERE run_id = $1 AND outcome IN ('success', 'already_done')),
		       (SELECT count(*) FROM run_items WHERE run_id = $1 AND outcome = 'needs_merchant')
		FROM f`, runID).Scan(&e.Action, &e.Total, &e.At, &e.Succeeded, &e.NeedsMerchant)
	if notFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.Alerts.emit(ctx, tx, e)
}

// PauseRun pauses a running run; changed is false when it was not running.
func (s *RunStore) PauseRun(ctx context.Context, id int64) (changed bool, err error) {
	tag, err := s.Pool.Exec(ctx, `UPDATE runs SET status = 'paused', pause_code = NULL, pause_message = '', paused_at = now(), updated_at = now() WHERE id = $1 AND status = 'running'`, id)
	return err == nil && tag.RowsAffected() > 0, err
}

// CancelRun cancels a running or paused run and its accounts not yet
// called; changed is false when it was neither.
func (s *RunStore) CancelRun(ctx context.Context, id int64) (changed bool, err error) {
	err = inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE runs SET status = 'cancelled', finished_at = now(), updated_at = now() WHERE id = $1 AND status IN ('running', 'paused')`, id)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		changed = true
		_, err = tx.Exec(ctx, `UPDATE run_items SET state = 'cancelled', finished_at = now() WHERE run_id = $1 AND state = 'pending'`, id)
		return err
	})
	return changed && err == nil, err
}

// ResumeRun sets a paused run running and queues its pending accounts, each
// no earlier than its backoff allows; changed is false when it was not paused.
func (s *RunStore) ResumeRun(ctx context.Context, id int64, queue jobs.QueueFunc) (changed bool, err error) {
	err = inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE runs SET status = 'running', pause_code = NULL, pause_message = '', paused_at = NULL, updated_at = now() WHERE id = $1 AND status = 'paused'`, id)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		changed = true
		rows, err := tx.Query(ctx, `SELECT appid, not_before FROM run_items WHERE run_id = $1 AND state = 'pending'`, id)
		if err != nil {
			return err
		}
		var pending []jobs.PendingItem
		var (
			appID     string
			notBefore *time.Time
		)
		if _, err := pgx.ForEachRow(rows, []any{&appID, &notBefore}, func() error {
			it := jobs.PendingItem{RunID: id, AppID: appID}
			if notBefore != nil {
				t := *notBefore // the scan may reuse the pointer for the next row
				it.NotBefore = &t
			}
			pending = append(pending, it)
			return nil
		}); err != nil {
			return err
		}
		if len(pending) > 0 {
			if err := queue(ctx, tx, pending); err != nil {
				return err
			}
		}
		return s.finishIfDone(ctx, tx, id)
	})
	return changed && err == nil, err
}

const runColumns = `id, coalesce(action, ''), coalesce(op, ''), params, status, created_by, created_by_name, description, total, created_at, finished_at, pause_code, pause_message, paused_at`

func scanRun(row pgx.Row) (*jobs.Run, error) {
	var r jobs.Run
	var params []byte
	err := row.Scan(&r.ID, &r.Action, &r.Op, &params, &r.Status, &r.CreatedBy, &r.CreatedByName, &r.Description, &r.Total, &r.CreatedAt, &r.FinishedAt, &r.PauseCode, &r.PauseMessage, &r.PausedAt)
	if notFound(err) {
		return nil, core.Errorf(core.ENOTFOUND, "Run not found.")
	}
	r.Params = params
	return &r, err
}

// Run returns a run without its counts.
func (s *RunStore) Run(ctx context.Context, id int64) (*jobs.Run, error) {
	return scanRun(s.Pool.QueryRow(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1`, id))
}

// ListRuns returns the newest runs first, without their counts.
func (s *RunStore) ListRuns(ctx context.Context, limit, offset int) ([]*jobs.Run, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+runColumns+` FROM runs ORDER BY id DESC LIMIT $1 OFFSET $2`, limit, offset)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*jobs.Run, error) { return scanRun(row) })
}

// CountItems fills the runs' counts by item state and by outcome, and with
// withRate their recent call rates.
func (s *RunStore) CountItems(ctx context.Context, runs []*jobs.Run, withRate bool) error {
	if len(runs) == 0 {
		return nil
	}
	byID := map[int64]*jobs.Run{}
	ids := make([]int64, len(runs))
	for i, run := range runs {
		run.States, run.Outcomes = map[traffic.ItemState]int{}, map[string]int{}
		byID[run.ID], ids[i] = run, run.ID
	}
	rows, err := s.Pool.Query(ctx, `
		SELECT run_id, state, outcome, count(*)
		FROM run_items WHERE run_id = ANY($1) GROUP BY 1, 2, 3`, ids)
	if err != nil {
		return err
	}
	var (
		id      int64
		state   traffic.ItemState
		outcome string
		n       int
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &state, &outcome, &n}, func() error {
		run := byID[id]
		run.States[state] += n
		if outcome != "" {
			run.Outcomes[outcome] += n
		}
		return nil
	}); err != nil {
		return err
	}
	if !withRate {
		return nil
	}
	// The rate counts calls made, not items finished (a retried item makes
	// several calls, and the configured rate limits calls): the calls after
	// the first one, divided by the time since it. n calls spaced 1/rate
	// apart take (n-1)/rate seconds, so this exceeds the configured rate
	// only if calls really came faster. While the run is running it covers
	// the last 30 seconds (or since it resumed) up to now, so a stall lowers
	// it; once ended, the whole run.
	rates, err := s.Pool.Query(ctx, `
		SELECT r.id, count(t.id),
		       extract(epoch FROM (CASE WHEN r.status = 'running' THEN now() ELSE max(t.started_at) END) - min(t.started_at))::float8
		FROM runs r JOIN attempts t ON t.run_id = r.id AND t.status <> 'rejected'
		     AND (r.status <> 'running' OR t.started_at > now() - least(interval '30 seconds', now() - r.updated_at))
		WHERE r.id = ANY($1) AND r.status <> 'paused' GROUP BY r.id, r.status`, ids)
	if err != nil {
		return err
	}
	var span float64
	_, err = pgx.ForEachRow(rates, []any{&id, &n, &span}, func() error {
		if n >= 2 && span > 0 {
			byID[id].RatePerSecond = float64(n-1) / span
		}
		return nil
	})
	return err
}

// Items returns the run's finished accounts, newest first.
func (s *RunStore) Items(ctx context.Context, id int64, limit int) ([]jobs.Item, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT i.appid, coalesce(a.nick_name, ''), i.state, i.tries, i.attempt_id, i.outcome, i.code, i.message, i.finished_at
		FROM run_items i LEFT JOIN authorizers a USING (appid)
		WHERE i.run_id = $1 AND i.finished_at IS NOT NULL
		ORDER BY i.finished_at DESC, i.appid LIMIT $2`, id, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (jobs.Item, error) {
		var it jobs.Item
		err := row.Scan(&it.AppID, &it.NickName, &it.State, &it.Tries, &it.AttemptID, &it.Outcome, &it.Code, &it.Message, &it.FinishedAt)
		return it, err
	})
}

// WorkItem reads an account of a run as its job finds it.
func (s *RunStore) WorkItem(ctx context.Context, runID int64, appID string) (*jobs.WorkItem, error) {
	var w jobs.WorkItem
	err := s.Pool.QueryRow(ctx, `
		SELECT r.status, coalesce(r.action, ''), coalesce(r.op, ''), r.params, r.created_by, i.state, i.claimed_job, i.tries
		FROM run_items i JOIN runs r ON r.id = i.run_id
		WHERE i.run_id = $1 AND i.appid = $2`, runID, appID).Scan(&w.RunStatus, &w.Action, &w.Op, &w.Params, &w.CreatedBy, &w.State, &w.ClaimedJob, &w.Tries)
	if notFound(err) {
		return nil, core.Errorf(core.ENOTFOUND, "Run item not found.")
	}
	if err != nil {
		return nil, err
	}
	return &w, nil
}

// AccountOpen reports whether the account's traffic master is open.
func (s *RunStore) AccountOpen(ctx context.Context, appID string) (bool, error) {
	var open bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM authorizer_state WHERE appid = $1 AND state = 'open')`, appID).Scan(&open)
	return open, err
}

// ClaimItem moves a pending account of a running run to calling for job;
// the run's status is checked in the same statement, so a pause or cancel
// that has committed stops the call.
func (s *RunStore) ClaimItem(ctx context.Context, runID int64, appID string, jobID int64) (bool, error) {
	tag, err := s.Pool.Exec(ctx, `
		UPDATE run_items SET state = 'calling', claimed_job = $3
		WHERE run_id = $1 AND appid = $2 AND state = 'pending'
		  AND EXISTS (SELECT 1 FROM runs WHERE id = $1 AND status = 'running')`, runID, appID, jobID)
	return err == nil && tag.RowsAffected() > 0, err
}

// RunCreator loads the staff member who started a run.
func (s *RunStore) RunCreator(ctx context.Context, staffID int64) (*core.Staff, error) {
	st := &core.Staff{}
	err := s.Pool.QueryRow(ctx, `SELECT id, username, role, disabled FROM staff WHERE id = $1`, staffID).
		Scan(&st.ID, &st.Username, &st.Role, &st.Disabled)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// LastRunAttempt returns the latest attempt for the account in the run and
// how many the run made for it (Count 0 when none).
func (s *RunStore) LastRunAttempt(ctx context.Context, runID int64, appID string) (jobs.RunAttempt, error) {
	var a jobs.RunAttempt
	err := s.Pool.QueryRow(ctx, `
		SELECT count(*) OVER (), id, status, outcome, code, message FROM attempts
		WHERE run_id = $1 AND appid = $2 ORDER BY id DESC LIMIT 1`, runID, appID).Scan(&a.Count, &a.ID, &a.Status, &a.Outcome, &a.Code, &a.Message)
	if notFound(err) {
		return jobs.RunAttempt{}, nil
	}
	return a, err
}

// releaseItem puts a called account back to pending with its latest
// attempt, or cancelled when a cancel came during the call.
func releaseItem(ctx context.Context, db querier, runID int64, appID string, tries int, notBefore *time.Time, at *traffic.Attempt) error {
	_, err := db.Exec(ctx, `
		UPDATE run_items SET claimed_job = NULL, tries = $3, not_before = $4, attempt_id = $5, outcome = $6, code = $7, message = $8,
		       -- a cancel that came during the call has already passed this item by
		       state = CASE WHEN r.status = 'cancelled' THEN 'cancelled' ELSE 'pending' END,
		       finished_at = CASE WHEN r.status = 'cancelled' THEN now() END
		FROM runs r WHERE r.id = run_items.run_id AND run_id = $1 AND appid = $2`, runID, appID, tries, notBefore, at.ID, string(at.Outcome), at.Code, at.Message)
	return err
}

// RetryItem puts the account back to be called again no earlier than notBefore.
func (s *RunStore) RetryItem(ctx context.Context, runID int64, appID string, tries int, notBefore time.Time, at *traffic.Attempt) error {
	return releaseItem(ctx, s.Pool, runID, appID, tries, &notBefore, at)
}

// FinishItem records the account's result and finishes the run after its
// last account.
func (s *RunStore) FinishItem(ctx context.Context, runID int64, appID string, r jobs.ItemResult) error {
	_, err := s.Pool.Exec(ctx, `
		UPDATE run_items SET state = $3, tries = $4, attempt_id = coalesce($5, attempt_id), outcome = $6, code = $7, message = $8, finished_at = now()
		WHERE run_id = $1 AND appid = $2 AND state IN ('pending', 'calling')`, runID, appID, r.State, r.Tries, r.AttemptID, r.Outcome, r.Code, r.Message)
	if err != nil {
		return err
	}
	// The item is committed before the run is checked, never in the same
	// transaction: two last accounts finishing at once would each see the
	// other still calling, and the run would never finish. Finishing the
	// run and recording its alert are one transaction of their own.
	return inTx(ctx, s.Pool, func(tx pgx.Tx) error { return s.finishIfDone(ctx, tx, runID) })
}

// PauseForPlatform puts the account back to be called on resume and pauses
// the run with the attempt's code and message, in one transaction; paused
// is false when the run was no longer running.
func (s *RunStore) PauseForPlatform(ctx context.Context, runID int64, appID string, tries int, at *traffic.Attempt) (paused bool, err error) {
	err = inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := releaseItem(ctx, tx, runID, appID, tries, nil, at); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
		UPDATE runs SET status = 'paused', pause_code = $2, pause_message = $3, paused_at = now(), updated_at = now()
		WHERE id = $1 AND status = 'running'`, runID, *at.Code, at.Message)
		if paused = tag.RowsAffected() > 0; !paused || err != nil {
			return err
		}
		return s.Alerts.emit(ctx, tx, alert.Event{Kind: alert.EventRunPaused, RunID: runID, Action: string(at.Action),
			Path: "/runs/" + strconv.FormatInt(runID, 10), Code: at.Code, Message: at.Message, AppID: appID})
	})
	return paused && err == nil, err
}

// RateSlots reserves call slots for jobs.RateLimiter: jobs.SlotStore on Postgres.
type RateSlots struct {
	Pool *pgxpool.Pool
}

var _ jobs.SlotStore = (*RateSlots)(nil)

// ReserveSlot takes the next free slot of the named limiter, interval after
// the previous one, in one atomic statement on the database's clock (so
// instances with skewed clocks share one timeline); wait is how long from
// now the slot is.
func (s *RateSlots) ReserveSlot(ctx context.Context, name string, interval time.Duration) (slot time.Time, wait time.Duration, err error) {
	var waitUS int64
	err = s.Pool.QueryRow(ctx, `
		INSERT INTO rate_limiter AS r (name, next_slot) VALUES ($1, clock_timestamp() + make_interval(secs => $2::float8 / 1e6))
		ON CONFLICT (name) DO UPDATE
		   SET next_slot = greatest(r.next_slot, clock_timestamp()) + make_interval(secs => $2::float8 / 1e6)
		RETURNING r.next_slot - make_interval(secs => $2::float8 / 1e6),
		          (extract(epoch FROM (r.next_slot - clock_timestamp())) * 1e6)::bigint - $2::bigint`,
		name, interval.Microseconds()).Scan(&slot, &waitUS)
	return slot, time.Duration(waitUS) * time.Microsecond, err
}
