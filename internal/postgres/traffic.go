package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/alert"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// TrafficStore keeps attempts and the accounts' derived state.
type TrafficStore struct {
	Pool *pgxpool.Pool
	// Completing lists this instance's attempts whose outcome is being
	// recorded right now (retried while the database is away): recovery
	// never takes them.
	Completing func() []int64
	// HandOverJobKinds are the queue job kinds that recovery hands back to
	// the queue as soon as the instance running them is known dead.
	HandOverJobKinds []string
	// Alerts records, with the outcome, that an account needs the merchant
	// (nil: no alerts).
	Alerts *AlertStore
	// SearchCap is how many of a search's matches are counted at most
	// (SearchCountCap when 0).
	SearchCap int
}

var _ traffic.Store = (*TrafficStore)(nil)

// SearchCountCap is how many of a search's matches are counted at most. A
// search matching more (one common character matches tens of thousands of
// accounts at a million) shows "1,000+": its counts per state are those of
// the first matches found, lower bounds, and its page comes from a walk in
// the list's order (searchWalk) instead of sorting every match.
const SearchCountCap = 1000

// searchWalk is how many rows a broad search's page examines, in the list's
// order, looking for a page of matches. Past it (matches that are broad but
// rare beside a state filter) the page sorts every match instead.
const searchWalk = 10_000

// searchSample is how many of a broad character's first entries broadChar
// checks against the whole query before a walk.
const searchSample = 100

func (s *TrafficStore) searchCap() int {
	if s.SearchCap > 0 {
		return s.SearchCap
	}
	return SearchCountCap
}

const accountCols = `a.appid, a.nick_name, a.head_img, a.user_name, a.principal_name, a.is_mini_program,
	a.account_status, a.revoked_at, a.revoked_reason, a.authorized_at,
	COALESCE(s.state, 'never'), s.last_attempt_id, s.last_attempt_at, COALESCE(s.last_outcome, ''), s.last_code`

const accountFrom = ` FROM authorizers a LEFT JOIN authorizer_state s ON s.appid = a.appid`

func scanAccount(row pgx.Row) (*traffic.Account, error) {
	var a traffic.Account
	var state, outcome string
	err := row.Scan(&a.AppID, &a.NickName, &a.HeadImg, &a.UserName, &a.PrincipalName, &a.IsMiniProgram,
		&a.AccountStatus, &a.RevokedAt, &a.RevokedReason, &a.AuthorizedAt,
		&state, &a.LastAttemptID, &a.LastAttemptAt, &outcome, &a.LastCode)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.ENOTFOUND, "Mini Program not found.")
	} else if err != nil {
		return nil, err
	}
	a.State, a.LastOutcome = traffic.State(state), traffic.Outcome(outcome)
	return &a, nil
}

// Account returns one account with its state.
func (s *TrafficStore) Account(ctx context.Context, appID string) (*traffic.Account, error) {
	return scanAccount(s.Pool.QueryRow(ctx, "SELECT "+accountCols+accountFrom+" WHERE a.appid = $1", appID))
}

// BeginAttempt inserts the pending row in its own transaction; the partial
// unique index on pending rows makes it the per-account lock.
func (s *TrafficStore) BeginAttempt(ctx context.Context, a *traffic.Attempt, instanceID string) error {
	a.Status = traffic.AttemptPending
	err := s.Pool.QueryRow(ctx, `INSERT INTO attempts (appid, action, params, staff_id, run_id, request_id, client_ip, instance_id, started_at, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending') RETURNING id`,
		a.AppID, a.Action, jsonParams(a.Params), a.StaffID, a.RunID, a.RequestID, a.ClientIP, instanceID, a.StartedAt).Scan(&a.ID)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "attempts_one_pending" {
		return traffic.ErrInFlight
	}
	return err
}

// RecordRejected inserts a finished refusal.
func (s *TrafficStore) RecordRejected(ctx context.Context, a *traffic.Attempt) error {
	return s.Pool.QueryRow(ctx, `INSERT INTO attempts (appid, action, params, staff_id, run_id, request_id, client_ip, started_at, finished_at, status, outcome, message)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'rejected', $10, $11) RETURNING id`,
		a.AppID, a.Action, jsonParams(a.Params), a.StaffID, a.RunID, a.RequestID, a.ClientIP, a.StartedAt, a.FinishedAt, a.Outcome, a.Message).Scan(&a.ID)
}

// jsonParams passes a write's params as JSON text (nil as NULL).
func jsonParams(p []byte) any {
	if len(p) == 0 {
		return nil
	}
	return string(p)
}

// CompleteAttempt completes the pending row; the attempts_derive_state
// trigger moves the account's state in the same statement.
//
// It returns the state the trigger derives, computed in the same statement by
// the same function from the state before it (RETURNING sees the row as the
// statement found it, the trigger runs after), so the caller has the
// account's new state without reading it again.
func (s *TrafficStore) CompleteAttempt(ctx context.Context, a *traffic.Attempt) (traffic.State, error) {
	if a.Outcome == traffic.OutcomeNeedsMerchant && a.RunID == nil && s.Alerts != nil {
		// The alert is recorded with the outcome, or neither is. A run's
		// accounts are counted in the run's own alert instead.
		var state traffic.State
		err := inTx(ctx, s.Pool, func(tx pgx.Tx) error {
			var err error
			if state, err = completeAttempt(ctx, tx, a); err != nil {
				return err
			}
			return s.Alerts.emit(ctx, tx, needsMerchant(ctx, tx, a))
		})
		if err != nil && !errors.Is(err, traffic.ErrNotPending) {
			err = completeErr(err)
		}
		return state, err
	}
	return completeAttempt(ctx, s.Pool, a)
}

// needsMerchant is the alert for an account whose attempt ended needing
// the merchant: one a day per account at most.
func needsMerchant(ctx context.Context, db querier, a *traffic.Attempt) alert.Event {
	e := alert.Event{Kind: alert.EventNeedsMerchant, AppID: a.AppID, Action: string(a.Action), Code: a.Code, Message: a.Message,
		Path: "/apps/" + a.AppID, Dedupe: "needs_merchant:" + a.AppID, DedupeFor: 24 * time.Hour}
	if a.FinishedAt != nil {
		e.At = *a.FinishedAt
	}
	_ = db.QueryRow(ctx, `SELECT nick_name FROM authorizers WHERE appid = $1`, a.AppID).Scan(&e.Name) // the appid names it otherwise
	return e
}

func completeAttempt(ctx context.Context, db querier, a *traffic.Attempt) (traffic.State, error) {
	var state traffic.State
	err := db.QueryRow(ctx, `UPDATE attempts SET status = $2, outcome = $3, code = $4, message = $5, check_status = $6,
		raw = $7, latency_ms = $8, transport_error = $9, finished_at = $10
		WHERE id = $1 AND status = 'pending'
		RETURNING tm_next_state(COALESCE((SELECT s.state FROM authorizer_state s WHERE s.appid = attempts.appid), 'never'),
			action, outcome, check_status)`,
		a.ID, a.Status, a.Outcome, a.Code, a.Message, a.CheckStatus, a.Raw, a.LatencyMS, a.TransportError, a.FinishedAt).Scan(&state)
	if errors.Is(err, pgx.ErrNoRows) {
		// Another instance decided this process was gone and marked it interrupted.
		return "", fmt.Errorf("attempt %d: %w", a.ID, traffic.ErrNotPending)
	}
	if err != nil {
		return "", completeErr(err)
	}
	return state, nil
}

// completeErr marks the errors retrying cannot mend, so the service stops
// retrying; everything else (a lost connection, a restarting server) is
// worth another try.
func completeErr(err error) error {
	if permanent(err) {
		return &traffic.PermanentError{Err: err}
	}
	return err
}

// OwnPendingLimit is how old this instance's own pending row must be before
// recovery takes it: no call lasts that long (the WeChat client gives up after
// 15 s), and rows whose completion is still being retried are never taken
// (TrafficStore.Completing), so such a row is one whose completion failed for
// good, and left pending it would block its account forever.
const OwnPendingLimit = 5 * time.Minute

// Recovered counts what one recovery pass did.
type Recovered struct {
	// Attempts is how many pending attempts were marked interrupted.
	Attempts int64
	// Jobs is how many queue jobs of dead instances were handed over.
	Jobs int64
}

// RecoverInterrupted runs Recover and returns how many attempts it marked.
func (s *TrafficStore) RecoverInterrupted(ctx context.Context, self string) (int64, error) {
	r, err := s.Recover(ctx, self)
	return r.Attempts, err
}

// Recover marks interrupted the pending rows of instances known to be dead
// (see Liveness), and this instance's own rows older than OwnPendingLimit
// that it is not completing; and it hands the dead instances' running queue
// jobs of the kinds in HandOverJobKinds back to the queue at once, instead of
// after the queue's rescue delay. Rows and jobs of live instances are never
// taken, also just after a database restart.
func (s *TrafficStore) Recover(ctx context.Context, self string) (Recovered, error) {
	var r Recovered
	completing := []int64{} // never NULL: NOT id = ANY(NULL) takes nothing
	if s.Completing != nil {
		completing = append(completing, s.Completing()...)
	}
	err := inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		// An instance is dead when it said it stopped, or when its lease has
		// expired while the database was up (a restart gives everyone a lease to
		// come back); in both cases its lock must be free too. Taking the lock
		// (transaction-scoped, released at commit) proves it; a live instance
		// still holds it and the try fails. Pending rows of an instance without a
		// row (older versions) count as dead once their lock is free.
		var dead []string
		err := tx.QueryRow(ctx, `
		WITH cand AS (
		    SELECT id FROM instances
		    WHERE id <> $1 AND (stopped_at IS NOT NULL OR (expires_at < now() AND pg_postmaster_start_time() < now() - lease))
		    UNION
		    SELECT DISTINCT instance_id FROM attempts a
		    WHERE status = 'pending' AND instance_id <> $1 AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = a.instance_id)
		    OFFSET 0
		)
		SELECT coalesce(array_agg(id), '{}') FROM cand WHERE pg_try_advisory_xact_lock($2, hashtext(id))`, self, instanceLockClass).Scan(&dead)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE attempts SET status = 'interrupted', outcome = 'interrupted', finished_at = now(),
		message = CASE WHEN instance_id = $1
		  THEN 'The result of the call could not be recorded; the call may have reached WeChat.'
		  ELSE 'The process making the call stopped before WeChat answered; the call may have reached WeChat.' END
		WHERE status = 'pending' AND (
		  (instance_id = $1 AND started_at < now() - $3::interval AND NOT id = ANY($4::bigint[]))
		  OR instance_id = ANY($2::text[]))`, self, dead, OwnPendingLimit.String(), completing)
		if err != nil {
			return err
		}
		r.Attempts = tag.RowsAffected()
		if len(dead) > 0 && len(s.HandOverJobKinds) > 0 {
			// What River's rescuer does after its delay, now: the job runs again
			// on a live instance, and its own bookkeeping (the run item's claim)
			// keeps the call to one. Jobs out of attempts are left to the rescuer.
			tag, err := tx.Exec(ctx, `
			UPDATE river_job SET state = 'available', scheduled_at = now(),
			       errors = array_append(errors, jsonb_build_object('at', now(), 'attempt', attempt,
			                  'error', 'the process running the job stopped; handed over to a live instance', 'trace', ''))
			WHERE state = 'running' AND kind = ANY($1::text[]) AND attempt < max_attempts
			  AND attempted_by[array_upper(attempted_by, 1)] = ANY($2::text[])`, s.HandOverJobKinds, dead)
			if err != nil {
				return fmt.Errorf("hand over jobs: %w", err)
			}
			r.Jobs = tag.RowsAffected()
		}
		// Rows of instances long gone say nothing any more.
		_, err = tx.Exec(ctx, `DELETE FROM instances WHERE expires_at < now() - interval '1 day'
		AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.status = 'pending' AND a.instance_id = instances.id)`)
		return err
	})
	if err != nil {
		return Recovered{}, err
	}
	return r, nil
}

// AccountFilter is traffic.Filter as this package turns it into SQL (see
// selection): the same fields, so a traffic.Filter converts to it for free.
type AccountFilter traffic.Filter

// AccountPage is one page of accounts with the counts per state.
type AccountPage struct {
	Accounts []*traffic.Account
	// Next and Prev are the cursors of the following and preceding pages, "" when there is none.
	Next, Prev string
	// Start is the position (from 1) of the page's first row among Matching.
	Start int
	StateCounts
}

type cursor struct {
	K string `json:"k,omitempty"` // the sort key (name or time), empty for null
	N bool   `json:"n,omitempty"` // the sort key is null
	A string `json:"a"`           // appid tiebreak
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// AccountCursor is the name-order cursor that starts a page just after a.
func AccountCursor(a *traffic.Account) string { return encodeCursor(cursor{K: a.NickName, A: a.AppID}) }

func decodeCursor(s string) (cursor, bool) {
	var c cursor
	if s == "" {
		return c, false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, false
	}
	return c, true
}

type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1)
	}
	w.conds = append(w.conds, cond)
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// status adds the status filter to w.
func (f AccountFilter) status(w *where) { f.statusOf(w, "s") }

// statusOf adds the status filter on the status_class of the table aliased
// alias (the list rows, or a broad search's entries).
func (f AccountFilter) statusOf(w *where, alias string) {
	switch f.Status {
	case "normal", "abnormal", "revoked", "official":
		w.add(alias+".status_class = ?", f.Status)
	}
}

// searchText is the query as the searched text spells it (tm_search_text:
// ASCII letters lowercased, everything else as it is).
func searchText(q string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, q)
}

// entryMatch adds to w the conditions that test a broad search's entry of
// ch (account_search_chars, aliased c: the account's name, appid, state,
// status class and the characters that follow ch in its searched text)
// against the filter's search and status, and says whether they are the
// whole test. A query of ch alone matches every entry of ch; a query of two
// characters beginning with ch matches the entries whose nexts hold the
// second. For any other query the entry's nexts must hold the character
// after ch, and the search's own condition is added too, on the entry's
// list row, which the caller then joins (walkJoin).
func (f AccountFilter) entryMatch(w *where, ch string) (exact bool) {
	q := strings.TrimSpace(f.Q)
	r := []rune(searchText(q))
	f.statusOf(w, "c")
	i := slices.IndexFunc(r, func(x rune) bool { return x >= 128 })
	if i < 0 || string(r[i]) != ch {
		w.add(searchCond, q)
		return false
	}
	if i+1 < len(r) {
		w.add("strpos(c.nexts, ?) > 0", string(r[i+1]))
	}
	if len(r) == 1 || (len(r) == 2 && i == 0) {
		return true
	}
	w.add(searchCond, q)
	return false
}

// entryJoin is what a walk of a broad search's entries joins to them: each
// entry's list row when its conditions (entryMatch) are not the whole test.
func entryJoin(exact bool) string {
	if exact {
		return ""
	}
	return walkJoin
}

// searchCond is the list's search, the same SQL predicate bulk-run
// selection uses (tm_search_match: a substring of name, appid, principal or
// original id, found through the bigram index).
const searchCond = "tm_search_match(search_grams, search_text, ?)"

// from returns the list table, narrowed first to the search's matches. OFFSET
// 0 keeps the planner from walking the name index and filtering by the
// search: matches cluster in name order (a prefix search), so that walk can
// read most of the table before it finds a page.
func (f AccountFilter) from(w *where) string {
	q := strings.TrimSpace(f.Q)
	if q == "" {
		return " FROM authorizer_state s"
	}
	w.args = append(w.args, q)
	return " FROM (SELECT * FROM authorizer_state WHERE " + strings.Replace(searchCond, "?", "$"+strconv.Itoa(len(w.args)), 1) + " OFFSET 0) s"
}

// order is the list's order, or its reverse for walking back a page. Every
// order ends with the appid, so it is total and a cursor names one place.
func (f AccountFilter) order(back bool) string {
	switch {
	case f.Sort == "recent" && !back:
		return " ORDER BY s.last_attempt_at DESC NULLS LAST, s.appid"
	case f.Sort == "recent":
		return " ORDER BY s.last_attempt_at ASC NULLS FIRST, s.appid DESC"
	case f.Sort == "appid" && !back:
		return " ORDER BY s.appid"
	case f.Sort == "appid":
		return " ORDER BY s.appid DESC"
	case !back:
		return " ORDER BY s.nick_name, s.appid"
	}
	return " ORDER BY s.nick_name DESC, s.appid DESC"
}

// keyset adds the condition for the rows after the cursor in the list's
// order, or before it when back. The name comparison uses the column's
// pinyin collation, the same as the index and the ORDER BY.
func (f AccountFilter) keyset(w *where, cur cursor, back bool) {
	switch f.Sort {
	case "recent":
		t, err := time.Parse(time.RFC3339Nano, cur.K)
		switch {
		case cur.N && !back:
			w.add("(s.last_attempt_at IS NULL AND s.appid > ?)", cur.A)
		case cur.N:
			w.add("(s.last_attempt_at IS NOT NULL OR s.appid < ?)", cur.A)
		case err != nil:
			// A mangled cursor starts from the top rather than failing.
		case !back:
			w.add("(s.last_attempt_at < ? OR (s.last_attempt_at = ? AND s.appid > ?) OR s.last_attempt_at IS NULL)", t, t, cur.A)
		default:
			w.add("(s.last_attempt_at > ? OR (s.last_attempt_at = ? AND s.appid < ?))", t, t, cur.A)
		}
	case "appid":
		if back {
			w.add("s.appid < ?", cur.A)
		} else {
			w.add("s.appid > ?", cur.A)
		}
	default:
		if back {
			w.add("(s.nick_name, s.appid) < (?, ?)", cur.K, cur.A)
		} else {
			w.add("(s.nick_name, s.appid) > (?, ?)", cur.K, cur.A)
		}
	}
}

// cursorOf is the cursor that names a's place in the list's order.
func (f AccountFilter) cursorOf(a *traffic.Account) cursor {
	c := cursor{A: a.AppID}
	switch f.Sort {
	case "recent":
		if a.LastAttemptAt == nil {
			c.N = true
		} else {
			c.K = a.LastAttemptAt.UTC().Format(time.RFC3339Nano)
		}
	case "appid":
	default:
		c.K = a.NickName
	}
	return c
}

// selection is the one translation of a filter into SQL, over the list
// table authorizer_state (aliased s): it returns the FROM clause, narrowed
// first to the search's matches, and adds to w the account-status condition
// and, withState, the state condition. The page, its counts, a run's
// confirmation and the run's selection all read it (CountStates takes the
// same two steps itself, without the state, so the chips stay useful).
func (f AccountFilter) selection(w *where, withState bool) string {
	from := f.from(w)
	f.status(w)
	if withState && f.State != "" {
		w.add("s.state = ?", string(f.State))
	}
	return from
}

// runnableCond keeps the accounts a run may take: Mini Programs that have
// not revoked their authorization (the same test as StateCounts.Runnable).
const runnableCond = "s.status_class IN ('normal', 'abnormal')"

// ListAccounts returns one keyset page of accounts (after f.After, before
// f.Before, or the first), where it starts among the matches, and the counts
// per state for the same search (without the state filter, so the chips stay
// useful).
func (s *TrafficStore) ListAccounts(ctx context.Context, f AccountFilter) (*AccountPage, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	cur, hasCur := decodeCursor(f.After)
	back := false
	if !hasCur {
		cur, hasCur = decodeCursor(f.Before)
		back = hasCur
	}
	if strings.TrimSpace(f.Q) != "" {
		return s.searchAccounts(ctx, f, cur, hasCur, back, s.searchCap())
	}
	w := &where{}
	from := f.selection(w, true)
	if hasCur {
		f.keyset(w, cur, back)
	}
	// The page is chosen on the narrow list table; only its rows are joined
	// to the accounts. Walking back reads the rows before the cursor in
	// reverse order; the outer ORDER BY puts them the right way round.
	q := "SELECT " + accountCols + " FROM (SELECT s.*" + from + w.sql() + f.order(back) + " LIMIT " + strconv.Itoa(f.Limit+1) +
		") s JOIN authorizers a ON a.appid = s.appid" + f.order(false)
	rows, err := s.Pool.Query(ctx, q, w.args...)
	if err != nil {
		return nil, err
	}
	page := &AccountPage{StateCounts: StateCounts{Counts: map[traffic.State]int{}}, Start: 1}
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		page.Accounts = append(page.Accounts, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	n := len(page.Accounts)
	switch {
	case back && n <= f.Limit:
		// Fewer rows than a page lie before the cursor: that is the first
		// page, shown whole.
		f.Before = ""
		return s.ListAccounts(ctx, f)
	case back:
		page.Accounts = page.Accounts[1:]
		page.Next = encodeCursor(f.cursorOf(page.Accounts[f.Limit-1]))
	case n > f.Limit:
		page.Accounts = page.Accounts[:f.Limit]
		page.Next = encodeCursor(f.cursorOf(page.Accounts[f.Limit-1]))
	}
	if err := s.countStates(ctx, f, page); err != nil {
		return nil, err
	}
	if hasCur && len(page.Accounts) > 0 {
		// The page's position is counted exactly, walking the index from the
		// nearer end (as the link's position hint says): at most half the
		// matches are read however deep the page.
		first := f.cursorOf(page.Accounts[0])
		fromEnd := f.Pos > page.Matching/2
		pw := &where{}
		pfrom := f.selection(pw, true)
		f.keyset(pw, first, !fromEnd)
		var n int
		if err := s.Pool.QueryRow(ctx, "SELECT count(*)"+pfrom+pw.sql(), pw.args...).Scan(&n); err != nil {
			return nil, err
		}
		before := n
		if fromEnd {
			// n rows follow the first one of the page.
			before = max(page.Matching-n-1, 0)
		}
		page.Start = before + 1
		if before > 0 {
			page.Prev = encodeCursor(first)
		}
	}
	return page, nil
}

// StateCounts are the accounts per state for a filter's search and account
// status (not its state, so the chips stay useful).
type StateCounts struct {
	Counts map[traffic.State]int
	Total  int
	// Matching are the accounts in the filter's state (all when it names none);
	// Runnable are those of them a run would take (neither revoked nor closed).
	Matching, Runnable int
	// Capped says the search matched more accounts than it counts
	// (TrafficStore.SearchCap): every count is a lower bound.
	Capped bool
}

// CountStates counts the accounts per state for the filter. Without a
// search it reads the maintained counts (account_state_counts, a few hundred
// rows whatever the number of accounts: the status filter is part of their
// key); a search counts its matches on the narrow list table.
func (s *TrafficStore) CountStates(ctx context.Context, f AccountFilter) (StateCounts, error) {
	if strings.TrimSpace(f.Q) != "" {
		ch, err := s.broadChar(ctx, f)
		if err != nil {
			return StateCounts{}, err
		}
		if ch != "" {
			if sc, err := s.walkCounts(ctx, f, ch); err != nil || sc.Capped {
				return sc, err
			}
		}
	}
	sc := StateCounts{Counts: map[traffic.State]int{}}
	cw := &where{}
	var q string
	if strings.TrimSpace(f.Q) == "" {
		f.status(cw)
		q = "SELECT s.state, sum(s.n)::bigint, coalesce(sum(s.n) FILTER (WHERE s.status_class IN ('normal', 'abnormal')), 0)::bigint FROM account_state_counts s" +
			cw.sql() + " GROUP BY s.state HAVING sum(s.n) <> 0"
	} else {
		// At most SearchCap+1 matches are read: more make the counts lower bounds.
		cfrom := f.from(cw)
		f.status(cw)
		q = "SELECT s.state, count(*), count(*) FILTER (WHERE s.status_class IN ('normal', 'abnormal')) FROM (SELECT s.state, s.status_class" +
			cfrom + cw.sql() + " LIMIT " + strconv.Itoa(s.searchCap()+1) + ") s GROUP BY s.state"
	}
	crows, err := s.Pool.Query(ctx, q, cw.args...)
	if err != nil {
		return sc, err
	}
	defer crows.Close()
	for crows.Next() {
		var st string
		var n, runnable int
		if err := crows.Scan(&st, &n, &runnable); err != nil {
			return sc, err
		}
		sc.add(f, traffic.State(st), n, runnable)
	}
	sc.Capped = strings.TrimSpace(f.Q) != "" && sc.Total > s.searchCap()
	return sc, crows.Err()
}

// broadChar is the character a search's counts and page walk in name order
// when every non-ASCII character of the query is held by more accounts than
// a search counts (a broad search; the bigram index would hand over all of
// their matches, tens of thousands, before the first could be counted) and
// the query matches at least one in ten of that character's first entries,
// "" otherwise. It reads at most SearchCap+1 entries per character and
// searchSample entries (and their list rows for a query of more than two
// characters).
func (s *TrafficStore) broadChar(ctx context.Context, f AccountFilter) (string, error) {
	q := strings.TrimSpace(f.Q)
	var chars []string
	for _, r := range q {
		if c := string(r); r >= 128 && !slices.Contains(chars, c) {
			chars = append(chars, c)
		}
	}
	if len(chars) == 0 {
		return "", nil
	}
	var broad bool
	err := s.Pool.QueryRow(ctx, `SELECT bool_and((SELECT count(*) FROM (SELECT 1 FROM account_search_chars c WHERE c.ch = x LIMIT $2) y) >= $2)
		FROM unnest($1::text[]) x`, chars, s.searchCap()+1).Scan(&broad)
	if err != nil || !broad {
		return "", err
	}
	w := &where{}
	w.add("c.ch = ?", chars[0])
	mw := &where{args: w.args}
	exact := f.entryMatch(mw, chars[0])
	if exact && len(mw.conds) == 0 {
		// One character and no status: each of its entries is a match.
		return chars[0], nil
	}
	// Common characters can still make a narrow query: each character of
	// 花间日记 1 is in 62,500 accounts at a million, the query in about 430.
	// The walk caps only when at least one in ten of the entries it reads
	// match; for such a query it read all searchWalk of them for nothing
	// (0.2-0.5 s) before the bigram index found the matches in 15 ms. A
	// sample of the first entries tells the two apart.
	var n int
	if err := s.Pool.QueryRow(ctx, "SELECT count(*) FROM (SELECT c.* FROM account_search_chars c"+w.sql()+
		" ORDER BY c.nick_name, c.appid LIMIT "+strconv.Itoa(searchSample)+") c"+entryJoin(exact)+mw.sql(), mw.args...).Scan(&n); err != nil {
		return "", err
	}
	if n*10 < searchSample {
		return "", nil
	}
	return chars[0], nil
}

// walkJoin looks up each walked entry's list row by its key, in the walk's
// order (the fence keeps the planner from reading the search's matches
// through the bigram index and joining the entries to them).
const walkJoin = " CROSS JOIN LATERAL (SELECT * FROM authorizer_state s WHERE s.appid = c.appid OFFSET 0) s"

// walkCounts counts a broad search's matches per state by walking the
// entries of one of its characters in name order (account_search_chars),
// at most searchWalk of them, until SearchCap+1 matches: Capped when it found
// that many (the counts are then those of the first matches in name order,
// lower bounds). The entries carry the state and status it counts; for a
// query of one or two characters they decide the match too, so no list row
// is read (about 26 buffers for 1,001 entries, where a list row for each
// read 4,000).
func (s *TrafficStore) walkCounts(ctx context.Context, f AccountFilter, ch string) (StateCounts, error) {
	sc := StateCounts{Counts: map[traffic.State]int{}}
	w := &where{}
	w.add("c.ch = ?", ch)
	mw := &where{args: w.args}
	exact := f.entryMatch(mw, ch)
	// The state and status are the entry's own: a list row is read only for
	// a query its entries cannot decide.
	q := "SELECT c.state, count(*), count(*) FILTER (WHERE c.status_class IN ('normal', 'abnormal')) FROM (SELECT c.state, c.status_class FROM (SELECT c.* FROM account_search_chars c" +
		w.sql() + " ORDER BY c.nick_name, c.appid LIMIT " + strconv.Itoa(searchWalk) + ") c" + entryJoin(exact) +
		mw.sql() + " LIMIT " + strconv.Itoa(s.searchCap()+1) + ") c GROUP BY c.state"
	rows, err := s.Pool.Query(ctx, q, mw.args...)
	if err != nil {
		return sc, err
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n, runnable int
		if err := rows.Scan(&st, &n, &runnable); err != nil {
			return sc, err
		}
		sc.add(f, traffic.State(st), n, runnable)
	}
	sc.Capped = sc.Total > s.searchCap()
	return sc, rows.Err()
}

// add counts n accounts in state st, runnable of which a run would take.
func (sc *StateCounts) add(f AccountFilter, st traffic.State, n, runnable int) {
	sc.Counts[st] = n
	sc.Total += n
	if f.State == "" || st == f.State {
		sc.Matching += n
		sc.Runnable += runnable
	}
}

// countStates fills the page's counts per state.
func (s *TrafficStore) countStates(ctx context.Context, f AccountFilter, page *AccountPage) error {
	sc, err := s.CountStates(ctx, f)
	page.StateCounts = sc
	return err
}

// matchCols are the list-row columns a search carries (not its text and grams).
const matchCols = "appid, state, status_class, nick_name, last_attempt_id, last_attempt_at, last_outcome, last_code"

// searchAccounts is ListAccounts for a search, in one statement and one pass:
// the search's matches (through the bigram index) are read once, at most
// limit+1 of them (all when limit is 0), and the page, the counts per state
// and the page's position all come from them. When there are more than
// limit, the counts are lower bounds and the page comes from broadPage.
func (s *TrafficStore) searchAccounts(ctx context.Context, f AccountFilter, cur cursor, hasCur, back bool, limit int) (*AccountPage, error) {
	if limit > 0 {
		ch, err := s.broadChar(ctx, f)
		if err != nil {
			return nil, err
		}
		if ch != "" {
			sc, err := s.walkCounts(ctx, f, ch)
			if err != nil {
				return nil, err
			}
			if sc.Capped {
				return s.broadPage(ctx, f, cur, hasCur, back, &AccountPage{StateCounts: sc})
			}
		}
	}
	mw := &where{}
	mfrom := f.selection(mw, false)
	mlimit := ""
	if limit > 0 {
		mlimit = " LIMIT " + strconv.Itoa(limit+1)
	}
	pw := &where{args: mw.args}
	if f.State != "" {
		pw.add("s.state = ?", string(f.State))
	}
	if hasCur {
		f.keyset(pw, cur, back)
	}
	// k counts the rows on the page's side of the cursor (all of the state's
	// rows without one): the position follows from it and the counts.
	q := "WITH m AS MATERIALIZED (SELECT " + matchCols + mfrom + mw.sql() + mlimit + `),
		c AS (SELECT coalesce(array_agg(state), '{}') AS states, coalesce(array_agg(n), '{}') AS ns, coalesce(array_agg(r), '{}') AS rs
			FROM (SELECT state, count(*) AS n, count(*) FILTER (WHERE status_class IN ('normal', 'abnormal')) AS r FROM m GROUP BY state) x),
		k AS (SELECT count(*) AS n FROM m s` + pw.sql() + `),
		p AS (SELECT * FROM m s` + pw.sql() + f.order(back) + " LIMIT " + strconv.Itoa(f.Limit+1) + `)
		SELECT ` + accountCols + `, c.states, c.ns, c.rs, k.n FROM p s JOIN authorizers a ON a.appid = s.appid CROSS JOIN c CROSS JOIN k` + f.order(false)
	rows, err := s.Pool.Query(ctx, q, pw.args...)
	if err != nil {
		return nil, err
	}
	page := &AccountPage{StateCounts: StateCounts{Counts: map[traffic.State]int{}}, Start: 1}
	var states []string
	var ns, rs []int
	var side int
	for rows.Next() {
		var a traffic.Account
		var state, outcome string
		if err := rows.Scan(&a.AppID, &a.NickName, &a.HeadImg, &a.UserName, &a.PrincipalName, &a.IsMiniProgram,
			&a.AccountStatus, &a.RevokedAt, &a.RevokedReason, &a.AuthorizedAt,
			&state, &a.LastAttemptID, &a.LastAttemptAt, &outcome, &a.LastCode, &states, &ns, &rs, &side); err != nil {
			rows.Close()
			return nil, err
		}
		a.State, a.LastOutcome = traffic.State(state), traffic.Outcome(outcome)
		page.Accounts = append(page.Accounts, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	n := len(page.Accounts)
	if n == 0 {
		// Nothing on this side of the cursor among the matches read: the
		// counts alone, or, when they are capped, the walk.
		if err := s.countStates(ctx, f, page); err != nil {
			return nil, err
		}
		if limit > 0 && page.Capped {
			return s.broadPage(ctx, f, cur, hasCur, back, page)
		}
		if back {
			f.Before = ""
			return s.ListAccounts(ctx, f)
		}
		return page, nil
	}
	for i, st := range states {
		page.add(f, traffic.State(st), ns[i], rs[i])
	}
	if limit > 0 && page.Total > limit {
		page.Capped = true
		return s.broadPage(ctx, f, cur, hasCur, back, page)
	}
	before := 0
	switch {
	case back && n <= f.Limit:
		f.Before = ""
		return s.ListAccounts(ctx, f)
	case back:
		page.Accounts = page.Accounts[1:]
		page.Next = encodeCursor(f.cursorOf(page.Accounts[f.Limit-1]))
		before = side - f.Limit
	case n > f.Limit:
		page.Accounts = page.Accounts[:f.Limit]
		page.Next = encodeCursor(f.cursorOf(page.Accounts[f.Limit-1]))
	}
	if hasCur && !back {
		before = page.Matching - side
	}
	page.Start = before + 1
	if before > 0 {
		page.Prev = encodeCursor(f.cursorOf(page.Accounts[0]))
	}
	return page, nil
}

// searchChar is the character whose entries in account_search_chars a
// broad search walks: the query's first non-ASCII character ("" when it has
// none). Every match holds it, as one of its single-character grams.
func searchChar(q string) string {
	for _, r := range strings.TrimSpace(q) {
		if r >= 128 {
			return string(r)
		}
	}
	return ""
}

// broadPage fills page (whose counts are already there, capped) with one
// page of a search that matches more accounts than it counts. It walks
// candidates in the list's order from the cursor and keeps the matches,
// stopping at a page: for the name order the entries of the query's
// character (account_search_chars, a row per account that holds it), else
// the list's own index. At most searchWalk candidates are examined; a page
// not found within them is taken from every match, sorted (broad matches
// that are rare beside a state filter). The position is the link's hint:
// the page does not count what lies before it.
func (s *TrafficStore) broadPage(ctx context.Context, f AccountFilter, cur cursor, hasCur, back bool, page *AccountPage) (*AccountPage, error) {
	cw := &where{}
	var src, q string
	walk := " LIMIT " + strconv.Itoa(searchWalk)
	var mw *where
	if ch := searchChar(f.Q); ch != "" && f.Sort != "recent" && f.Sort != "appid" {
		cw.add("c.ch = ?", ch)
		if hasCur {
			if back {
				cw.add("(c.nick_name, c.appid) < (?, ?)", cur.K, cur.A)
			} else {
				cw.add("(c.nick_name, c.appid) > (?, ?)", cur.K, cur.A)
			}
		}
		order := " ORDER BY c.nick_name, c.appid"
		if back {
			order = " ORDER BY c.nick_name DESC, c.appid DESC"
		}
		src = "SELECT c.* FROM account_search_chars c" + cw.sql() + order
		// The entries test the search, status and state themselves where
		// they can (entryMatch): only the page's rows are then read.
		mw = &where{args: cw.args}
		exact := f.entryMatch(mw, ch)
		if f.State != "" {
			mw.add("c.state = ?", string(f.State))
		}
		q = "SELECT c.appid FROM (" + src + walk + ") c" + entryJoin(exact) + mw.sql() + order + " LIMIT " + strconv.Itoa(f.Limit+1)
		q = "SELECT " + accountCols + " FROM (" + q + ") c JOIN authorizer_state s ON s.appid = c.appid JOIN authorizers a ON a.appid = c.appid" + f.order(false)
	} else {
		if hasCur {
			f.keyset(cw, cur, back)
		}
		order := f.order(back)
		src = "SELECT s.* FROM authorizer_state s" + cw.sql() + order
		mw = &where{args: cw.args}
		mw.add(searchCond, strings.TrimSpace(f.Q))
		f.status(mw)
		if f.State != "" {
			mw.add("s.state = ?", string(f.State))
		}
		q = "SELECT s.* FROM (" + src + walk + ") s" + mw.sql() + order
		q = "SELECT " + accountCols + " FROM (" + q + " LIMIT " + strconv.Itoa(f.Limit+1) + ") s JOIN authorizers a ON a.appid = s.appid" + f.order(false)
	}
	rows, err := s.Pool.Query(ctx, q, mw.args...)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*traffic.Account, error) { return scanAccount(r) })
	if err != nil {
		return nil, err
	}
	n := len(list)
	if n <= f.Limit {
		// No further page on this side, or the walk ran out first: then every
		// match is read and sorted after all.
		var more bool
		if err := s.Pool.QueryRow(ctx, "SELECT count(*) > "+strconv.Itoa(searchWalk)+" FROM ("+src+" LIMIT "+strconv.Itoa(searchWalk+1)+") c", cw.args...).Scan(&more); err != nil {
			return nil, err
		}
		if more {
			return s.searchAccounts(ctx, f, cur, hasCur, back, 0)
		}
		if back {
			// Fewer than a page lie before the cursor: the first page.
			f.Before = ""
			return s.ListAccounts(ctx, f)
		}
	}
	page.Accounts, page.Start = list, 1
	switch {
	case back:
		page.Accounts = page.Accounts[1:]
		page.Next = encodeCursor(f.cursorOf(page.Accounts[f.Limit-1]))
		page.Prev = encodeCursor(f.cursorOf(page.Accounts[0]))
		page.Start = max(f.Pos-f.Limit+1, 2)
	case n > f.Limit:
		page.Accounts = page.Accounts[:f.Limit]
		page.Next = encodeCursor(f.cursorOf(page.Accounts[f.Limit-1]))
	}
	if hasCur && !back && n > 0 {
		page.Prev = encodeCursor(f.cursorOf(page.Accounts[0]))
		page.Start = max(f.Pos, 2)
	}
	return page, nil
}

// timeSkew bounds how far apart an attempt's start time and its place in id
// order can be: the clock difference between instances plus the moment
// between reading the clock and inserting. Ten minutes is generous.
const timeSkew = 10 * time.Minute

// AttemptFilter selects audit entries.
type AttemptFilter struct {
	AppID   string
	StaffID int64
	Action  traffic.Action
	Outcome traffic.Outcome
	// Group selects every outcome of a group (what staff do next).
	Group  traffic.Group
	RunID  int64
	Code   *int
	From   *time.Time
	To     *time.Time
	Before int64 // keyset: entries with a smaller id
	Limit  int

	// idAbove and idBelow are the id range From and To come to, once
	// looked up (idBounds, which sets idsKnown).
	idAbove, idBelow int64
	idsKnown         bool
}

// into adds the filter's conditions to w.
func (f AttemptFilter) into(w *where) *where {
	if f.AppID != "" {
		w.add("t.appid = ?", f.AppID)
	}
	if f.StaffID > 0 {
		w.add("t.staff_id = ?", f.StaffID)
	}
	if f.Action != "" {
		w.add("t.action = ?", string(f.Action))
	}
	if f.Outcome != "" {
		if f.Outcome == traffic.Outcome("pending") {
			w.add("t.status = 'pending'")
		} else {
			w.add("t.outcome = ?", string(f.Outcome))
		}
	}
	if f.Group == traffic.GroupPending {
		w.add("t.status = 'pending'")
	} else if f.Group != "" {
		var in []string
		for _, o := range traffic.OutcomesIn(f.Group) {
			in = append(in, string(o))
		}
		w.add("t.outcome = ANY(?) AND t.status <> 'pending'", in)
	}
	if f.RunID > 0 {
		w.add("t.run_id = ?", f.RunID)
		// A run has one action and one creator, which its attempts carry: a
		// run of the other action or of someone else has none of them, known
		// from its row before any attempt is read (a one-time filter).
		if f.Action != "" {
			// An ad-operation run's attempts carry its op's action (a slot
			// switch's are unit changes).
			w.add("EXISTS (SELECT 1 FROM runs r WHERE r.id = ? AND coalesce(r.action, CASE r.op WHEN 'slot_switch' THEN 'unit_update' ELSE r.op END) = ?)", f.RunID, string(f.Action))
		}
		if f.StaffID > 0 {
			w.add("EXISTS (SELECT 1 FROM runs r WHERE r.id = ? AND r.created_by = ?)", f.RunID, f.StaffID)
		}
	}
	if f.Code != nil {
		w.add("t.code = ?", *f.Code)
	}
	// Ids follow start times to within timeSkew, so a time range also bounds
	// the ids (two probes of the started_at index); the pages then walk the
	// primary key, or another filter's index (each ends in id), inside the
	// range instead of from the newest row down. Bounds looked up already
	// (idBounds) are written as numbers, so the planner knows how wide the
	// range is and reads a narrow one whole rather than walk an index.
	if f.From != nil {
		w.add("t.started_at >= ?", *f.From)
		if f.idsKnown {
			w.add("t.id > " + strconv.FormatInt(f.idAbove, 10))
		} else {
			w.add("t.id > coalesce((SELECT id FROM attempts WHERE started_at < ? ORDER BY started_at DESC, id DESC LIMIT 1), 0)", f.From.Add(-timeSkew))
		}
	}
	if f.To != nil {
		w.add("t.started_at < ?", *f.To)
		if f.idsKnown {
			w.add("t.id < " + strconv.FormatInt(f.idBelow, 10))
		} else {
			w.add("t.id < coalesce((SELECT id FROM attempts WHERE started_at >= ? ORDER BY started_at, id LIMIT 1), 9223372036854775807)", f.To.Add(timeSkew))
		}
	}
	if f.Before > 0 {
		w.add("t.id < ?", f.Before)
	}
	return w
}

const attemptCols = `t.id, t.appid, t.action, t.staff_id, COALESCE(st.username, ''), t.run_id, t.request_id, t.client_ip,
	t.started_at, t.finished_at, t.status, t.outcome, t.code, t.message, t.check_status, t.latency_ms, t.transport_error,
	COALESCE(au.nick_name, ''), t.params`

// The account's name is joined for the audit page and its CSV; appid is the
// account's primary key, so each row finds at most one.
const attemptFrom = ` FROM attempts t LEFT JOIN staff st ON st.id = t.staff_id LEFT JOIN authorizers au ON au.appid = t.appid`

func scanAttempt(row pgx.Row, withRaw bool) (*traffic.Attempt, error) {
	var a traffic.Attempt
	var action, status, outcome string
	dest := []any{&a.ID, &a.AppID, &action, &a.StaffID, &a.StaffName, &a.RunID, &a.RequestID, &a.ClientIP,
		&a.StartedAt, &a.FinishedAt, &status, &outcome, &a.Code, &a.Message, &a.CheckStatus, &a.LatencyMS, &a.TransportError,
		&a.AccountName, &a.Params}
	if withRaw {
		dest = append(dest, &a.Raw)
	}
	if err := row.Scan(dest...); errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.ENOTFOUND, "Audit entry not found.")
	} else if err != nil {
		return nil, err
	}
	a.Action, a.Status, a.Outcome = traffic.Action(action), traffic.AttemptStatus(status), traffic.Outcome(outcome)
	return &a, nil
}

// Attempt returns one audit entry with its raw reply.
func (s *TrafficStore) Attempt(ctx context.Context, id int64) (*traffic.Attempt, error) {
	return scanAttempt(s.Pool.QueryRow(ctx, "SELECT "+attemptCols+", t.raw"+attemptFrom+" WHERE t.id = $1", id), true)
}

// ListAttempts returns entries newest first; next is the keyset for the
// following page, 0 on the last.
func (s *TrafficStore) ListAttempts(ctx context.Context, f AttemptFilter) (list []*traffic.Attempt, next int64, err error) {
	return listAttempts(ctx, s.Pool, f)
}

func listAttempts(ctx context.Context, db querier, f AttemptFilter) (list []*traffic.Attempt, next int64, err error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Group != "" && f.Outcome != "" {
		// An outcome and a group: the outcome alone, or nothing when it is
		// not in the group (decided here, not by reading the outcome's rows).
		in := f.Group == traffic.GroupPending && f.Outcome == traffic.Outcome("pending")
		for _, o := range traffic.OutcomesIn(f.Group) {
			in = in || o == f.Outcome
		}
		if !in {
			return nil, 0, nil
		}
		f.Group = ""
	}
	if f.Code != nil && (f.Outcome == traffic.Outcome("pending") || f.Group == traffic.GroupPending) {
		// A pending attempt has no code yet.
		return nil, 0, nil
	}
	if err := f.idBounds(ctx, db); err != nil {
		return nil, 0, err
	}
	limit := " ORDER BY t.id DESC LIMIT " + strconv.Itoa(f.Limit+1)
	w := &where{}
	// One account's attempts are few: they are read through its index and
	// the other filters applied to them, rather than letting the planner
	// intersect them with another filter's index (all of a staff member's or
	// an outcome's entries).
	table := " attempts t"
	if f.AppID != "" {
		// The dates go inside too, so that only their months are read.
		tw := &where{}
		tw.add("t.appid = ?", f.AppID)
		if f.From != nil {
			tw.add("t.started_at >= ?", *f.From)
		}
		if f.To != nil {
			tw.add("t.started_at < ?", *f.To)
		}
		table = " (SELECT * FROM attempts t" + tw.sql() + " OFFSET 0) t"
		w.args = tw.args
	}
	q := "SELECT " + attemptCols + strings.Replace(attemptFrom, " attempts t ", table+" ", 1)
	if outcomes := traffic.OutcomesIn(f.Group); f.Group != "" && f.Group != traffic.GroupPending && f.Outcome == "" && len(outcomes) > 0 {
		// A group is several outcomes: each is read newest first through an
		// index on its own (outcome alone, or beside staff, action or run)
		// and the few rows of each merged, where outcome = ANY(...) could
		// only walk the newest rows of everything looking for the group, or
		// sort all of its rows.
		arms := make([]string, 0, len(outcomes))
		for _, o := range outcomes {
			fo := f
			fo.Group, fo.Outcome = "", o
			aw := fo.into(&where{args: w.args})
			w.args = aw.args
			arms = append(arms, "(SELECT t.id FROM"+table+aw.sql()+limit+")")
		}
		ow := &where{args: w.args}
		ow.add("t.id IN (SELECT id FROM (" + strings.Join(arms, " UNION ALL ") + ") u ORDER BY id DESC LIMIT " + strconv.Itoa(f.Limit+1) + ")")
		// The rows are looked up in the dates' months only.
		if f.From != nil {
			ow.add("t.started_at >= ?", *f.From)
		}
		if f.To != nil {
			ow.add("t.started_at < ?", *f.To)
		}
		w = ow
		q = "SELECT " + attemptCols + attemptFrom + ow.sql()
	} else {
		w = f.into(w)
		q += w.sql()
	}
	args := w.args
	if f.idsKnown {
		// Dated: planned for its arguments every time (an unnamed statement,
		// not one prepared and cached on the connection). Its text is new
		// for every range already (the id bounds are numbers in it), and
		// after five runs of one range Postgres could keep a generic plan,
		// which neither prunes the months at planning nor knows how narrow
		// the dates are: one day of one staff member's entries at 50,000,000
		// rows read the whole day through the primary key and sorted it,
		// 61 ms instead of 0.3 ms (BENCHMARKS.md).
		args = append([]any{pgx.QueryExecModeExec}, args...)
	}
	rows, err := db.Query(ctx, q+limit, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAttempt(rows, false)
		if err != nil {
			return nil, 0, err
		}
		list = append(list, a)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if len(list) > f.Limit {
		list = list[:f.Limit]
		next = list[f.Limit-1].ID
	}
	return list, next, nil
}

// idBounds looks up the id range of the filter's dates, once.
func (f *AttemptFilter) idBounds(ctx context.Context, db querier) error {
	if (f.From == nil && f.To == nil) || f.idsKnown {
		return nil
	}
	var from, to *time.Time
	if f.From != nil {
		v := f.From.Add(-timeSkew)
		from = &v
	}
	if f.To != nil {
		v := f.To.Add(timeSkew)
		to = &v
	}
	err := db.QueryRow(ctx, `SELECT coalesce((SELECT id FROM attempts WHERE started_at < $1 ORDER BY started_at DESC, id DESC LIMIT 1), 0),
		coalesce((SELECT id FROM attempts WHERE started_at >= $2 ORDER BY started_at, id LIMIT 1), 9223372036854775807)`, from, to).Scan(&f.idAbove, &f.idBelow)
	f.idsKnown = true
	return err
}

// EachBatch is how many entries EachAttempt reads per statement.
const EachBatch = 10_000

// FirstEachBatch is the size of EachAttempt's first batch: small, so the
// first rows go out at once even when they and their Mini Programs' names
// must be read from disk. With the buffers cold (50,000,000 rows, a
// database larger than the machine's memory) a first batch of EachBatch
// took 53 s, each row's name a random read.
const FirstEachBatch = 100

// EachAttempt streams every matching entry newest first to fn in keyset
// batches (FirstEachBatch, then EachBatch): each batch is a short LIMIT
// query that walks an index in id order (never a sort of the whole filter),
// read whole, and the pool connection goes back before fn sees its rows, so
// a slow reader holds no connection and the first rows come at once however
// large the export.
func (s *TrafficStore) EachAttempt(ctx context.Context, f AttemptFilter, fn func(*traffic.Attempt) error) error {
	f.Limit = FirstEachBatch
	if err := f.idBounds(ctx, s.Pool); err != nil {
		return err
	}
	for ; ; f.Limit = EachBatch {
		list, next, err := s.exportBatch(ctx, f)
		if err != nil {
			return err
		}
		for _, a := range list {
			if err := fn(a); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		f.Before = next
	}
}

// ExportStatementTimeout bounds one export batch. A filter pair that rarely
// occurs together may walk far through an index to fill a batch, longer
// than a page's statement may take.
const ExportStatementTimeout = 5 * time.Minute

func (s *TrafficStore) exportBatch(ctx context.Context, f AttemptFilter) (list []*traffic.Attempt, next int64, err error) {
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing; before, its error adds nothing to the one returned
	if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = "+strconv.FormatInt(ExportStatementTimeout.Milliseconds(), 10)); err != nil {
		return nil, 0, err
	}
	if list, next, err = listAttempts(ctx, tx, f); err != nil {
		return nil, 0, err
	}
	return list, next, tx.Commit(ctx)
}

// StaffNames lists staff for the audit filter.
func (s *TrafficStore) StaffNames(ctx context.Context) ([]core.Staff, error) {
	rows, err := s.Pool.Query(ctx, "SELECT id, username FROM staff ORDER BY username")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Staff, error) {
		var st core.Staff
		err := r.Scan(&st.ID, &st.Username)
		return st, err
	})
}

// AttemptMonthsAhead is how far ahead the audit's month partitions are
// kept: enough for the daily schedule to be down for weeks, few enough that
// a statement planned over all of them (one not pruned by dates) stays cheap.
const AttemptMonthsAhead = 3

// AddAttemptMonths creates the audit's month partitions from the month of
// now through AttemptMonthsAhead months later, those that do not exist yet,
// and returns how many it made: without them new attempts would land in the
// default partition, which every date filter reads.
func (s *TrafficStore) AddAttemptMonths(ctx context.Context, now time.Time) (int, error) {
	var made int
	err := s.Pool.QueryRow(ctx, "SELECT tm_attempts_add_months($1, $2)", now, now.AddDate(0, AttemptMonthsAhead, 0)).Scan(&made)
	return made, err
}
