package jobs

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// RunStatus is where a run is in its life.
type RunStatus string

// Run statuses.
const (
	RunRunning   RunStatus = "running"
	RunPaused    RunStatus = "paused"
	RunCancelled RunStatus = "cancelled"
	RunFinished  RunStatus = "finished"
)

// Run is a bulk run with its progress.
type Run struct {
	ID            int64
	Action        traffic.Action
	Status        RunStatus
	CreatedBy     *int64
	CreatedByName string
	Description   string
	Total         int
	CreatedAt     time.Time
	FinishedAt    *time.Time
	// PauseCode is the platform-wide WeChat code that paused the run by
	// itself (nil when running, or paused by staff), with WeChat's message.
	PauseCode    *int
	PauseMessage string
	PausedAt     *time.Time
	// Counts by item state and by outcome (filled by Get and List).
	States   map[traffic.ItemState]int
	Outcomes map[string]int
	// RatePerSecond is the recent rate of WeChat calls (retries included,
	// over the last 30 seconds, or since the run started or resumed if later):
	// the same measure the configured rate limits.
	RatePerSecond float64
	// ConfiguredRate is the global call rate bulk runs are held to.
	ConfiguredRate float64
}

// Done is how many accounts need no more work.
func (r *Run) Done() int {
	return r.States[traffic.ItemDone] + r.States[traffic.ItemSkipped] + r.States[traffic.ItemCancelled]
}

// Remaining is how many accounts are still to be called.
func (r *Run) Remaining() int { return r.States[traffic.ItemPending] + r.States[traffic.ItemCalling] }

// Percent is the share done, 0–100.
func (r *Run) Percent() int {
	if r.Total == 0 {
		return 100
	}
	return r.Done() * 100 / r.Total
}

// ShownRate is the rate worth showing: the recent one while the run is
// running, none while it is paused, the whole run's once it has ended.
func (r *Run) ShownRate() float64 {
	if r.Status == RunPaused {
		return 0
	}
	// A call's time is read a few milliseconds after the limiter grants its
	// slot, so a handful of calls can measure slightly faster than their
	// slots were; within that noise the calls kept to the limit.
	if r.ConfiguredRate > 0 && r.RatePerSecond > r.ConfiguredRate && r.RatePerSecond <= r.ConfiguredRate*rateNoise {
		return r.ConfiguredRate
	}
	return r.RatePerSecond
}

// rateNoise is how far above the configured rate a measured rate is still
// taken for timing noise rather than calls that really came faster.
const rateNoise = 1.1

// TimeLeft estimates the time to finish at the recent rate (0 when unknown).
func (r *Run) TimeLeft() time.Duration {
	if r.Status != RunRunning || r.RatePerSecond <= 0 || r.Remaining() == 0 {
		return 0
	}
	return time.Duration(float64(r.Remaining()) / r.RatePerSecond * float64(time.Second)).Round(time.Second)
}

// Active reports whether the run may still change.
func (r *Run) Active() bool {
	return r.Status == RunRunning || r.Status == RunPaused || (r.Status == RunCancelled && r.States[traffic.ItemCalling] > 0)
}

// Item is one account's result in a run.
type Item struct {
	AppID      string
	NickName   string
	State      traffic.ItemState
	Tries      int
	AttemptID  *int64
	Outcome    string
	Code       *int
	Message    string
	FinishedAt *time.Time
}

// Filter selects accounts for a run like the Mini Programs page does.
type Filter struct {
	// State is a traffic-master state ("" for any).
	State string
	// Q matches a substring of the name, appid or principal.
	Q string
	// Status is the list page's account-status filter ("", normal, abnormal,
	// revoked, official); runs only take Mini Programs that were not revoked.
	Status string
}

// Describe records the filter as the run's description, in a machine form
// (a URL query; empty for every Mini Program) that pages translate.
func (f Filter) Describe() string {
	v := url.Values{}
	for k, s := range map[string]string{"state": f.State, "q": f.Q, "status": f.Status} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

// SelectedDescription is the description of a run over n rows picked by hand.
func SelectedDescription(n int) string { return "selected=" + strconv.Itoa(n) }

// Named is an account's appid and name, for a confirmation that names them.
type Named struct {
	AppID, Name string
}

// Names returns the names of the first limit of appIDs, in name order.
func (r *Runs) Names(ctx context.Context, appIDs []string, limit int) ([]Named, error) {
	rows, err := r.Pool.Query(ctx, `SELECT appid, nick_name FROM authorizers WHERE appid = ANY($1) ORDER BY nick_name, appid LIMIT $2`, appIDs, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Named, error) {
		var n Named
		err := row.Scan(&n.AppID, &n.Name)
		return n, err
	})
}

// OpenCautions counts, among appIDs, the accounts whose last outcome is
// unknown (they may already be open) and those WeChat will not open (frozen,
// banned, deregistered: an open run skips them), for the confirmation.
func (r *Runs) OpenCautions(ctx context.Context, appIDs []string) (unknown, notOffered int, err error) {
	err = r.Pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE s.state = 'unknown'), count(*) FILTER (WHERE a.account_status IN (14, 16, 19))
		FROM authorizers a LEFT JOIN authorizer_state s USING (appid) WHERE a.appid = ANY($1)`, appIDs).Scan(&unknown, &notOffered)
	return unknown, notOffered, err
}

// Runs creates and steers bulk runs.
type Runs struct {
	Pool   *pgxpool.Pool
	client *Client
}

// RunItemArgs is the queue job for one account of a run.
type RunItemArgs struct {
	RunID int64  `json:"run_id"`
	AppID string `json:"appid"`
}

// Kind names the job in the queue.
func (RunItemArgs) Kind() string { return "run_item" }

// InsertOpts puts run items on the bulk queue; a job may be re-queued by a
// resume, so the item's state, not the queue, guarantees one call. With
// NextRetry's backoff (1, 2, 4, then 8 s), 100 tries outlast a database
// outage of about thirteen minutes.
func (RunItemArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBulk, MaxAttempts: 100}
}

// MatchFilter lists the eligible Mini Programs (not revoked) matching f.
func (r *Runs) MatchFilter(ctx context.Context, f Filter) ([]string, error) {
	// The list's own search (tm_search_match, LIKE metacharacters taken
	// literally), so a run over the filter takes the rows the list counted;
	// left out without a search term so that a search uses its index.
	search := ""
	if f.Q != "" {
		search = "AND tm_search_match(s.search_grams, s.search_text, $2)"
	}
	rows, err := r.Pool.Query(ctx, `
		SELECT a.appid FROM authorizers a LEFT JOIN authorizer_state s USING (appid)
		WHERE a.is_mini_program AND a.revoked_at IS NULL
		  AND ($1 = '' OR coalesce(s.state, 'never') = $1)
		  AND $2::text IS NOT NULL `+search+`
		  AND ($3 = '' OR ($3 = 'normal' AND a.account_status = 1) OR ($3 = 'abnormal' AND a.account_status <> 1))
		  AND $3 NOT IN ('revoked', 'official')
		ORDER BY a.appid`, f.State, f.Q, f.Status)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Create starts a run of action over appIDs on behalf of staff (nil for a
// schedule). Unknown appids are dropped; accounts already open or with an
// attempt in flight are counted as skipped. One queue job per remaining
// account is inserted in the same transaction as the run.
func (r *Runs) Create(ctx context.Context, staff *core.Staff, action traffic.Action, appIDs []string, description string) (*Run, error) {
	run, _, err := r.CreateOnce(ctx, staff, action, appIDs, description, "")
	return run, err
}

// CreateOnce is Create for a confirmation form carrying a one-time token:
// the first request with a token starts the run, any later one (a double
// click, Back and submit again) returns that same run with existed set.
// An empty token starts a run every time.
func (r *Runs) CreateOnce(ctx context.Context, staff *core.Staff, action traffic.Action, appIDs []string, description, token string) (run *Run, existed bool, err error) {
	run, err = r.create(ctx, staff, action, appIDs, description, token)
	var pe *pgconn.PgError
	if token != "" && errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "runs_create_token_key" {
		var id int64
		if err := r.Pool.QueryRow(ctx, `SELECT id FROM runs WHERE create_token = $1`, token).Scan(&id); err != nil {
			return nil, false, err
		}
		run, err = r.Get(ctx, id)
		return run, true, err
	}
	return run, false, err
}

func (r *Runs) create(ctx context.Context, staff *core.Staff, action traffic.Action, appIDs []string, description, token string) (*Run, error) {
	if action != traffic.ActionCheck && action != traffic.ActionOpen {
		return nil, core.Errorf(core.EINVALID, "Unknown action.")
	}
	if len(appIDs) == 0 {
		return nil, core.Errorf(core.EINVALID, "Select at least one Mini Program.")
	}
	if staff != nil && !staff.CanOperate() {
		return nil, core.Errorf(core.EFORBIDDEN, "Your role does not allow this.")
	}
	tx, err := r.Pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	run := &Run{Action: action, Status: RunRunning, Description: description}
	if staff != nil {
		run.CreatedBy, run.CreatedByName = &staff.ID, staff.Username
	}
	if err := tx.QueryRow(ctx, `INSERT INTO runs (action, created_by, created_by_name, description, create_token) VALUES ($1, $2, $3, $4, NULLIF($5, '')) RETURNING id, created_at`,
		action, run.CreatedBy, run.CreatedByName, description, token).Scan(&run.ID, &run.CreatedAt); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `
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
		RETURNING appid, state`, run.ID, appIDs, string(action))
	if err != nil {
		return nil, err
	}
	var params []river.InsertManyParams
	total := 0
	for rows.Next() {
		var appID string
		var state traffic.ItemState
		if err := rows.Scan(&appID, &state); err != nil {
			return nil, err
		}
		total++
		if state == traffic.ItemPending {
			params = append(params, river.InsertManyParams{Args: RunItemArgs{RunID: run.ID, AppID: appID}})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if total == 0 {
		return nil, core.Errorf(core.EINVALID, "None of the selected accounts is known.")
	}
	run.Total = total
	if _, err := tx.Exec(ctx, `UPDATE runs SET total = $2 WHERE id = $1`, run.ID, total); err != nil {
		return nil, err
	}
	if len(params) > 0 {
		if _, err := r.client.River.InsertManyFastTx(ctx, tx, params); err != nil {
			return nil, fmt.Errorf("queue run items: %w", err)
		}
	}
	if err := finishIfDone(ctx, tx, run.ID); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return r.Get(ctx, run.ID)
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// finishIfDone marks a running run finished once no account is left.
func finishIfDone(ctx context.Context, db execer, runID int64) error {
	_, err := db.Exec(ctx, `
		UPDATE runs SET status = 'finished', finished_at = now(), updated_at = now()
		WHERE id = $1 AND status = 'running'
		  AND NOT EXISTS (SELECT 1 FROM run_items WHERE run_id = $1 AND state IN ('pending', 'calling'))`, runID)
	return err
}

// Pause stops new calls for the run; calls in progress finish.
func (r *Runs) Pause(ctx context.Context, id int64) error {
	return r.setStatus(ctx, id, `UPDATE runs SET status = 'paused', pause_code = NULL, pause_message = '', paused_at = now(), updated_at = now() WHERE id = $1 AND status = 'running'`, core.Errorf(core.ECONFLICT, "Only a running run can be paused."))
}

// Cancel stops the run for good; accounts not yet called are marked cancelled.
func (r *Runs) Cancel(ctx context.Context, id int64) error {
	tx, err := r.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	tag, err := tx.Exec(ctx, `UPDATE runs SET status = 'cancelled', finished_at = now(), updated_at = now() WHERE id = $1 AND status IN ('running', 'paused')`, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return r.notChanged(ctx, id, core.Errorf(core.ECONFLICT, "Only a running or paused run can be cancelled."))
	}
	if _, err := tx.Exec(ctx, `UPDATE run_items SET state = 'cancelled', finished_at = now() WHERE run_id = $1 AND state = 'pending'`, id); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Resume continues a paused run where it stopped: the jobs of its pending
// accounts are queued again, each no earlier than its backoff allows.
func (r *Runs) Resume(ctx context.Context, id int64) error {
	tx, err := r.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	tag, err := tx.Exec(ctx, `UPDATE runs SET status = 'running', pause_code = NULL, pause_message = '', paused_at = NULL, updated_at = now() WHERE id = $1 AND status = 'paused'`, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return r.notChanged(ctx, id, core.Errorf(core.ECONFLICT, "Only a paused run can be resumed."))
	}
	rows, err := tx.Query(ctx, `SELECT appid, not_before FROM run_items WHERE run_id = $1 AND state = 'pending'`, id)
	if err != nil {
		return err
	}
	var params []river.InsertManyParams
	for rows.Next() {
		var appID string
		var notBefore *time.Time
		if err := rows.Scan(&appID, &notBefore); err != nil {
			return err
		}
		p := river.InsertManyParams{Args: RunItemArgs{RunID: id, AppID: appID}}
		if notBefore != nil {
			p.InsertOpts = &river.InsertOpts{ScheduledAt: *notBefore}
		}
		params = append(params, p)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(params) > 0 {
		if _, err := r.client.River.InsertManyFastTx(ctx, tx, params); err != nil {
			return err
		}
	}
	if err := finishIfDone(ctx, tx, id); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (r *Runs) setStatus(ctx context.Context, id int64, sql string, refusal *core.Error) error {
	tag, err := r.Pool.Exec(ctx, sql, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return r.notChanged(ctx, id, refusal)
	}
	return nil
}

func (r *Runs) notChanged(ctx context.Context, id int64, refusal *core.Error) error {
	var one int
	if err := r.Pool.QueryRow(ctx, `SELECT 1 FROM runs WHERE id = $1`, id).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
		return core.Errorf(core.ENOTFOUND, "Run not found.")
	} else if err != nil {
		return err
	}
	return refusal
}

const runColumns = `id, action, status, created_by, created_by_name, description, total, created_at, finished_at, pause_code, pause_message, paused_at`

func scanRun(row pgx.Row) (*Run, error) {
	var r Run
	err := row.Scan(&r.ID, &r.Action, &r.Status, &r.CreatedBy, &r.CreatedByName, &r.Description, &r.Total, &r.CreatedAt, &r.FinishedAt, &r.PauseCode, &r.PauseMessage, &r.PausedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.ENOTFOUND, "Run not found.")
	}
	return &r, err
}

// Get returns a run with its counts.
func (r *Runs) Get(ctx context.Context, id int64) (*Run, error) {
	run, err := scanRun(r.Pool.QueryRow(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1`, id))
	if err != nil {
		return nil, err
	}
	return run, r.fillCounts(ctx, []*Run{run}, true)
}

// List returns the newest runs first.
func (r *Runs) List(ctx context.Context, limit, offset int) ([]*Run, error) {
	rows, err := r.Pool.Query(ctx, `SELECT `+runColumns+` FROM runs ORDER BY id DESC LIMIT $1 OFFSET $2`, limit, offset)
	if err != nil {
		return nil, err
	}
	var runs []*Run
	for rows.Next() {
		run, err := scanRun(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		runs = append(runs, run)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return runs, r.fillCounts(ctx, runs, false)
}

func (r *Runs) fillCounts(ctx context.Context, runs []*Run, withRate bool) error {
	if len(runs) == 0 {
		return nil
	}
	byID := map[int64]*Run{}
	ids := make([]int64, len(runs))
	for i, run := range runs {
		run.States, run.Outcomes = map[traffic.ItemState]int{}, map[string]int{}
		byID[run.ID], ids[i] = run, run.ID
	}
	rows, err := r.Pool.Query(ctx, `
		SELECT run_id, state, outcome, count(*)
		FROM run_items WHERE run_id = ANY($1) GROUP BY 1, 2, 3`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var state traffic.ItemState
		var outcome string
		var n int
		if err := rows.Scan(&id, &state, &outcome, &n); err != nil {
			return err
		}
		run := byID[id]
		run.States[state] += n
		if outcome != "" {
			run.Outcomes[outcome] += n
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if r.client != nil {
		for _, run := range runs {
			run.ConfiguredRate = r.client.cfg.RatePerSecond
		}
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
	rates, err := r.Pool.Query(ctx, `
		SELECT r.id, count(t.id),
		       extract(epoch FROM (CASE WHEN r.status = 'running' THEN now() ELSE max(t.started_at) END) - min(t.started_at))::float8
		FROM runs r JOIN attempts t ON t.run_id = r.id AND t.status <> 'rejected'
		     AND (r.status <> 'running' OR t.started_at > now() - least(interval '30 seconds', now() - r.updated_at))
		WHERE r.id = ANY($1) AND r.status <> 'paused' GROUP BY r.id, r.status`, ids)
	if err != nil {
		return err
	}
	defer rates.Close()
	for rates.Next() {
		var id int64
		var n int
		var span float64
		if err := rates.Scan(&id, &n, &span); err != nil {
			return err
		}
		if n >= 2 && span > 0 {
			byID[id].RatePerSecond = float64(n-1) / span
		}
	}
	return rates.Err()
}

// Items returns the run's finished accounts, newest first.
func (r *Runs) Items(ctx context.Context, id int64, limit int) ([]Item, error) {
	rows, err := r.Pool.Query(ctx, `
		SELECT i.appid, coalesce(a.nick_name, ''), i.state, i.tries, i.attempt_id, i.outcome, i.code, i.message, i.finished_at
		FROM run_items i LEFT JOIN authorizers a USING (appid)
		WHERE i.run_id = $1 AND i.finished_at IS NOT NULL
		ORDER BY i.finished_at DESC, i.appid LIMIT $2`, id, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Item, error) {
		var it Item
		err := row.Scan(&it.AppID, &it.NickName, &it.State, &it.Tries, &it.AttemptID, &it.Outcome, &it.Code, &it.Message, &it.FinishedAt)
		return it, err
	})
}
