package postgres

import (
	"cmp"
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trafficmaster/trafficmaster/internal/revenue"
)

// A principal that selects more than a few accounts (defaultKeptFrom)
// reads sums kept for it (migration 00101) instead of looking up its
// accounts' days one by one or scanning every account's slot rows of the
// days shown.
// Any part of a name can be typed, but only the parts held by many
// principals select that many accounts: at 100,000 accounts, a few hundred
// groups of them (a city, a brand, a city's brand, a number's first digits,
// 公司), where parts that select the same accounts (深圳, 深, 圳) share one
// group and its sums. They are chosen again once a day (the
// revenue_principals schedule).
//
// Like the per-slot and per-state rollups, the groups hold every
// authorizer of the database (one platform's).

// principalMembersPerAccount bounds the groups kept: their accounts
// together at most this many times the authorizers. Summing a day again
// joins each of the day's slot rows to every group of its account (about
// 0.3 µs each: 3 s a day at 100,000 accounts in 698 groups, 14 an
// account), so the bound is the cost of a day. Groups are kept by the
// time they save: the most accounts to look up first (a scan costs about
// as much as looking up lookupLimit), then the smallest.
const principalMembersPerAccount = 16

// defaultKeptFrom: the parts held by the principals of more than this many
// accounts are kept (FewAccounts when fewer). A principal of a few dozen
// accounts, looked up, reads every one of their days: on a year of slot
// rows, 62 accounts over 300 days took 0.9 s (BENCHMARKS.md).
const defaultKeptFrom = 20

// principalKept reports whether f's principal is one of the kept texts:
// its top and movers are ranked from the vectors, however few its
// accounts, since its days come from its sums, not from its rows.
func (s *RevenueStore) principalKept(ctx context.Context, f revenue.Filter) (bool, error) {
	if f.Principal == "" || s.FewAccounts < 0 {
		return false, nil
	}
	var kept bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM revenue_principal_terms WHERE term = $1)`, f.Principal).Scan(&kept)
	return kept, err
}

// principalRollupDays is FilteredSlotDays for a principal (maybe with a
// state or a slot) when its text is kept, no authorizer has changed since
// the last fold and no day of [from, to] waits to be summed again; ok is
// false otherwise, and the caller reads the rows. With a state, the sums
// are corrected for the group's accounts whose state changed since the
// states' fold, as a state alone is (stateFigures).
func (s *RevenueStore) principalRollupDays(ctx context.Context, f revenue.Filter, from, to time.Time) (days []revenue.SlotDay, ok bool, err error) {
	if f.Principal == "" || s.FewAccounts < 0 {
		return nil, false, nil
	}
	var canon string
	err = s.Pool.QueryRow(ctx, `SELECT canon FROM revenue_principal_terms
		WHERE term = $1 AND NOT EXISTS (SELECT 1 FROM revenue_principal_moves)
		  AND NOT EXISTS (SELECT 1 FROM revenue_principal_days WHERE day BETWEEN $2::date AND $3::date)`,
		f.Principal, dateText(from), dateText(to)).Scan(&canon)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	q, args := stateFigures(true), stateArgs(f, from, to, canon)
	if f.State == "" {
		q, args = `
			SELECT day, slot, sum(req_succ), sum(exposure), sum(clicks), sum(income_fen) FROM revenue_principal_rollup
			WHERE canon = $1 AND ($2::text = '' OR slot = $2::text) AND day BETWEEN $3::date AND $4::date
			GROUP BY day, slot ORDER BY day, slot`, []any{canon, f.Slot, dateText(from), dateText(to)}
	}
	rows, err := s.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, false, err
	}
	days, err = pgx.CollectRows(rows, scanSlotDay)
	return days, err == nil, err
}

// lookupLimit is the most accounts a principal's days are looked up for
// one by one: FewAccounts, or one in LookupShare of the accounts with
// figures (their positions, one each, never reused) when more.
func (s *RevenueStore) lookupLimit(ctx context.Context, q querier) (int, error) {
	var positions int
	if err := q.QueryRow(ctx, `SELECT coalesce(max(pos) + 1, 0) FROM revenue_account_pos`).Scan(&positions); err != nil {
		return 0, err
	}
	return max(cmp.Or(s.FewAccounts, defaultFewAccounts), positions/cmp.Or(s.LookupShare, defaultLookupShare)), nil
}

// ChoosePrincipals chooses the principals' texts kept again, under the
// rollups' lock, and returns how many texts and groups it keeps.
func (s *RevenueStore) ChoosePrincipals(ctx context.Context) (terms, groups int, err error) {
	err = inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		// Reading every name's parts takes longer than the console's
		// statement timeout at a million accounts (about 12 s for 35,892
		// names): the caller's context bounds it instead (the schedule's
		// timeout; pgx cancels the statement when it ends).
		if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('revenue_slot_rollup'))`); err != nil {
			return err
		}
		// A new group sums every stored day: hashed in memory, not sorted
		// on disk.
		if _, err := tx.Exec(ctx, "SET LOCAL work_mem = '"+monthlyWorkMem+"'"); err != nil {
			return err
		}
		if err := s.choosePrincipals(ctx, tx); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*), count(DISTINCT canon) FROM revenue_principal_terms`).Scan(&terms, &groups)
	})
	return terms, groups, err
}

// choosePrincipals keeps the texts held by the principals of more than
// defaultKeptFrom accounts (FewAccounts when fewer), grouped by the accounts they select (a group's
// canon is its shortest text), as many groups as principalMembersPerAccount
// allows; the caller holds the rollups' lock. A group kept before keeps its
// sums; a new one is summed over every day stored, a group no longer kept
// is dropped.
func (s *RevenueStore) choosePrincipals(ctx context.Context, tx pgx.Tx) error {
	if _, err := foldPrincipalMoves(ctx, tx); err != nil {
		return err
	}
	lookup, err := s.lookupLimit(ctx, tx)
	if err != nil {
		return err
	}
	// Every part of every distinct name once per name (kept for the new
	// groups' members below), then the parts of more than defaultKeptFrom
	// accounts and the names holding each: parts held by the same names
	// select the same accounts.
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE principal_parts ON COMMIT DROP AS
		WITH names AS (
			SELECT principal_name AS name, count(*) AS n FROM authorizers WHERE principal_name <> '' GROUP BY 1)
		SELECT DISTINCT n.name, n.n, substr(n.name, i, l) AS term
		FROM names n, generate_series(1, length(n.name)) i, generate_series(1, length(n.name) - i + 1) l`); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `
		WITH held AS (
			SELECT term, sum(n) AS accounts, md5(string_agg(name, E'\n' ORDER BY name)) AS names
			FROM principal_parts GROUP BY term HAVING sum(n) > $1),
		grouped AS (
			SELECT term, accounts, first_value(term) OVER (PARTITION BY names ORDER BY length(term), term) AS canon FROM held),
		kept AS (
			SELECT canon FROM (
				SELECT canon, sum(accounts) OVER (ORDER BY least(accounts, $2) DESC, accounts, canon) AS members
				FROM grouped WHERE term = canon) g
			WHERE members <= $3 * (SELECT count(*) FROM authorizers))
		SELECT g.term, g.canon FROM grouped g JOIN kept USING (canon)`,
		min(cmp.Or(s.FewAccounts, defaultFewAccounts), defaultKeptFrom), lookup, principalMembersPerAccount)
	if err != nil {
		return err
	}
	var terms, canons []string
	var term, canon string
	if _, err := pgx.ForEachRow(rows, []any{&term, &canon}, func() error {
		terms, canons = append(terms, term), append(canons, canon)
		return nil
	}); err != nil {
		return err
	}
	return runSteps(ctx, tx, []sqlStep{
		// The groups no longer kept, then the texts.
		{`DELETE FROM revenue_principal_members WHERE NOT canon = ANY($1::text[])`, []any{canons}},
		{`DELETE FROM revenue_principal_rollup WHERE NOT canon = ANY($1::text[])`, []any{canons}},
		{`DELETE FROM revenue_principal_terms`, nil},
		{`INSERT INTO revenue_principal_terms (term, canon) SELECT * FROM unnest($1::text[], $2::text[])`, []any{terms, canons}},
		// The new groups: their accounts, then their sums of every day.
		{`CREATE TEMP TABLE new_principals ON COMMIT DROP AS
			SELECT DISTINCT c.canon FROM unnest($1::text[]) c(canon)
			WHERE NOT EXISTS (SELECT 1 FROM revenue_principal_members m WHERE m.canon = c.canon)`, []any{canons}},
		// A group's members are the accounts whose principal holds its
		// canon: the names with that part, then their accounts (not every
		// account's name searched for every canon: at a million accounts
		// and thousands of groups, billions of comparisons).
		{`INSERT INTO revenue_principal_members (appid, canon)
			SELECT a.appid, c.canon FROM new_principals c JOIN principal_parts p ON p.term = c.canon
			JOIN authorizers a ON a.principal_name = p.name`, nil},
		{principalSums + `WHERE m.canon IN (SELECT canon FROM new_principals) GROUP BY 1, 2, 3, 4`, nil},
		{`DROP TABLE new_principals, principal_parts`, nil},
	})
}

// sqlStep is one statement of a sequence run in a transaction.
type sqlStep struct {
	sql  string
	args []any
}

// runSteps runs steps in order in tx, stopping at the first error.
func runSteps(ctx context.Context, tx pgx.Tx, steps []sqlStep) error {
	for _, st := range steps {
		if _, err := tx.Exec(ctx, st.sql, st.args...); err != nil {
			return err
		}
	}
	return nil
}

// FoldPrincipalMoves carries the authorizers added, removed or renamed
// since the last fold into the principals' groups, and sums the groups
// again for the latest few days pulls stored since (principalDaysAtOnce),
// unless a rebuild or a choice holds the rollups' lock; until then reads
// that touch them scan. It returns how many authorizers and days it
// folded.
func (s *RevenueStore) FoldPrincipalMoves(ctx context.Context) (moved, days int, err error) {
	// Whether there is anything to do, without counting it: while a choice
	// holds the lock, every try asks again (counting the distinct authorizers
	// of a million moves took a second each time).
	var pending bool
	if err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM revenue_principal_moves) OR EXISTS (SELECT 1 FROM revenue_principal_days)`).Scan(&pending); err != nil || !pending {
		return 0, 0, err
	}
	err = inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		var locked bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtext('revenue_slot_rollup'))`).Scan(&locked); err != nil || !locked {
			return err
		}
		var err error
		if moved, err = foldPrincipalMoves(ctx, tx); err != nil {
			return err
		}
		days, err = sumPrincipalDays(ctx, tx)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	return moved, days, nil
}

// foldPrincipalMoves takes (deletes) the moves its snapshot sees, as
// foldStateMoves does, and for each taken account and kept group whose
// membership changed (its principal holds the group's canon now, or no
// longer), moves the account's rows of every day into or out of the
// group's sums; a text whose accounts no longer are its group's (its
// principal holds one but not the other) is no longer kept.
func foldPrincipalMoves(ctx context.Context, tx pgx.Tx) (int, error) {
	rows, err := tx.Query(ctx, `
		WITH taken AS (DELETE FROM revenue_principal_moves RETURNING appid)
		SELECT DISTINCT appid FROM taken`)
	if err != nil {
		return 0, err
	}
	taken, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(taken) == 0 {
		return 0, err
	}
	return len(taken), runSteps(ctx, tx, []sqlStep{
		{`DELETE FROM revenue_principal_terms t
		WHERE t.term <> t.canon AND EXISTS (
			SELECT 1 FROM authorizers a WHERE a.appid = ANY($1::text[])
			  AND (strpos(a.principal_name, t.term) > 0) <> (strpos(a.principal_name, t.canon) > 0))`, []any{taken}},
		{`CREATE TEMP TABLE principal_changes ON COMMIT DROP AS
		SELECT t.appid, g.canon, CASE WHEN m.appid IS NULL THEN 1 ELSE -1 END AS sign
		FROM unnest($1::text[]) t(appid)
		CROSS JOIN (SELECT DISTINCT canon FROM revenue_principal_terms) g
		LEFT JOIN authorizers a ON a.appid = t.appid
		LEFT JOIN revenue_principal_members m ON m.appid = t.appid AND m.canon = g.canon
		WHERE (m.appid IS NOT NULL) <> coalesce(strpos(a.principal_name, g.canon) > 0, false)`, []any{taken}},
		{`INSERT INTO revenue_principal_rollup AS s (canon, state, day, slot, slot_rows, req_succ, exposure, clicks, income_fen)
		SELECT c.canon, coalesce(sm.state, 'never'), a.day, r.slot, sum(c.sign), sum(c.sign * r.req_succ),
		       sum(c.sign * r.exposure), sum(c.sign * r.clicks), sum(c.sign * r.income_fen)
		FROM principal_changes c
		LEFT JOIN revenue_state_members sm ON sm.appid = c.appid ` + accountRows("c.appid") + `
		GROUP BY 1, 2, 3, 4
		ON CONFLICT (canon, state, day, slot) DO UPDATE SET ` + addedSums, nil},
		{`DELETE FROM revenue_principal_rollup WHERE slot_rows = 0 AND canon IN (SELECT canon FROM principal_changes)`, nil},
		{`DELETE FROM revenue_principal_members m USING principal_changes c
		WHERE c.sign < 0 AND m.appid = c.appid AND m.canon = c.canon`, nil},
		{`INSERT INTO revenue_principal_members (appid, canon) SELECT appid, canon FROM principal_changes WHERE sign > 0`, nil},
		{`DROP TABLE principal_changes`, nil},
	})
}

// principalSums sums the slot rows joined to the groups' members (m) per
// group, the state each account is counted under (as in the per-state
// rollup), day and slot; the caller adds the rows' condition and GROUP BY.
const principalSums = `
	INSERT INTO revenue_principal_rollup (canon, state, day, slot, slot_rows, req_succ, exposure, clicks, income_fen)
	SELECT m.canon, coalesce(sm.state, 'never'), r.day, r.slot, count(*), sum(r.req_succ), sum(r.exposure), sum(r.clicks), sum(r.income_fen)
	FROM revenue_slot_daily r JOIN revenue_principal_members m ON m.appid = r.appid
	LEFT JOIN revenue_state_members sm ON sm.appid = r.appid
	`

// principalDaysAtOnce is the most days one fold sums again: about three
// seconds each at 100,000 accounts, so a backfill's months are summed a
// week at a time, the latest first, without holding the rollups' lock for
// long.
const principalDaysAtOnce = 7

// stalePrincipalDays records the days [from, to] as waiting to be summed
// again per principal: what a pull's finish does (RebuildSlotRollup)
// instead of summing them itself.
func stalePrincipalDays(ctx context.Context, tx pgx.Tx, from, to time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO revenue_principal_days (day)
		SELECT generate_series($1::date, $2::date, interval '1 day')::date ON CONFLICT (day) DO NOTHING`, dateText(from), dateText(to))
	return err
}

// sumPrincipalDays sums the kept principals' groups again for the latest
// principalDaysAtOnce days waiting, under the rollups' lock, and returns
// how many it summed.
func sumPrincipalDays(ctx context.Context, tx pgx.Tx) (int, error) {
	rows, err := tx.Query(ctx, `DELETE FROM revenue_principal_days
		WHERE day IN (SELECT day FROM revenue_principal_days ORDER BY day DESC LIMIT $1) RETURNING day`, principalDaysAtOnce)
	if err != nil {
		return 0, err
	}
	days, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil || len(days) == 0 {
		return 0, err
	}
	return len(days), runSteps(ctx, tx, []sqlStep{
		{`DELETE FROM revenue_principal_rollup WHERE day = ANY($1::date[])`, []any{days}},
		{principalSums + `WHERE r.day = ANY($1::date[]) GROUP BY 1, 2, 3, 4`, []any{days}},
	})
}
