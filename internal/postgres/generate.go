package postgres

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// GenComponentAppID is the platform the generated accounts belong to.
const GenComponentAppID = "wxgencomponent00001"

// genRunBands is how many bands of time the generated bulk runs fall in.
const genRunBands = 50

// GenAppID is the appid of generated account i (0-based), the same formula
// the SQL below uses, so benchmarks can name accounts that exist.
func GenAppID(i int) string { return fmt.Sprintf("wx%016x", uint64(0x6e0000000000)+uint64(i)) }

// Generate fills the database with accounts and attempts for benchmarks:
// generate_series in the server, attempts in batches, the attempts' secondary
// indexes dropped during the load and rebuilt after (much faster than
// maintaining them row by row). It refuses a database that already has attempts.
func Generate(ctx context.Context, timed *pgxpool.Pool, accounts, attempts int, progress io.Writer) error {
	// Each step is one long statement: no statement timeout.
	pool, err := Untimed(ctx, timed)
	if err != nil {
		return err
	}
	defer pool.Close()
	var n int64
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM (SELECT 1 FROM attempts LIMIT 1) x").Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("the database already has attempts; generate into an empty one")
	}
	step := func(what string, sql string, args ...any) error {
		start := time.Now()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		fmt.Fprintf(progress, "%-40s %s\n", what, time.Since(start).Round(time.Millisecond))
		return nil
	}
	if err := step("platform", "INSERT INTO platforms (component_appid) VALUES ($1) ON CONFLICT DO NOTHING", GenComponentAppID); err != nil {
		return err
	}
	if err := step("staff", `INSERT INTO staff (username, password_hash, role)
		SELECT 'gen-operator-' || g, 'not-a-hash', 'operator' FROM generate_series(1, 20) g ON CONFLICT DO NOTHING`); err != nil {
		return err
	}
	// The list rows' indexes (the bigram index holds dozens of entries per
	// row) are dropped while the accounts are inserted and their rows derived,
	// and built once at the end: much faster than maintaining them row by row.
	snames, sdefs, err := genIndexes(ctx, pool, "authorizer_state")
	if err != nil {
		return err
	}
	for _, name := range snames {
		if err := step("drop index "+name, "DROP INDEX "+name); err != nil {
			return err
		}
	}
	// The characters searched by name order (with each row's state) are
	// filled once after the accounts and their states, in their index's
	// order, rather than row by row.
	if err := step("pause search characters", "ALTER TABLE authorizer_state DISABLE TRIGGER account_search_chars_insert, DISABLE TRIGGER account_search_chars_update"); err != nil {
		return err
	}
	defer pool.Exec(context.WithoutCancel(ctx), "ALTER TABLE authorizer_state ENABLE TRIGGER account_search_chars_insert, ENABLE TRIGGER account_search_chars_update") //nolint:errcheck // on the way out after a failure; the step below reports its own
	// The kept counts per state take a delta row for every list row inserted
	// or changed; inside one statement over a million rows nothing reclaims
	// them, and the list pages, which read the table whole, then read millions
	// of dead rows (migration 00095). They are paused while the rows are made
	// and counted once at the end.
	for _, pause := range countTriggers("DISABLE") {
		if err := step("pause counts", pause); err != nil {
			return err
		}
	}
	counted := false
	defer func() {
		if !counted {
			recountStates(context.WithoutCancel(ctx), pool) //nolint:errcheck // on the way out after a failure; the step below reports its own
		}
	}()
	// Names mix Chinese words and numbers so search hits realistic fractions.
	if err := step(fmt.Sprintf("%d accounts", accounts), `INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, head_img, user_name, principal_name, account_status, revoked_at, authorized_at)
		SELECT 'wx' || lpad(to_hex(x'6e0000000000'::bigint + g), 16, '0'), $2, g % 50 <> 0,
			(ARRAY['鲜果','晨光','城市','小鹿','云端','拼图','天气','花间','健身','萌宠','汉字','宝宝','极简','社区','旅行','答题'])[1 + g % 16]
				|| (ARRAY['日记','书店','助手','优选','记账','大师','早知道','茶舍','打卡','相册','消消乐','识字','番茄钟','团购','清单','王者'])[1 + (g / 16) % 16] || ' ' || g,
			'', 'gh_' || lpad(to_hex(g), 12, '0'),
			(ARRAY['深圳','上海','北京','杭州','广州','成都'])[1 + g % 6] || (ARRAY['鲜果','晨光','云端','星河','山海','青禾'])[1 + (g / 6) % 6] || '科技有限公司 ' || (g % 997),
			CASE WHEN g % 101 = 0 THEN 16 WHEN g % 103 = 0 THEN 19 ELSE 1 END,
			CASE WHEN g % 97 = 0 THEN now() - interval '3 days' END,
			now() - (g % 1000) * interval '1 hour'
		FROM generate_series(0, $1 - 1) g`, accounts, GenComponentAppID); err != nil {
		return err
	}
	// Bulk runs: genRunBands time bands of 60 runs each; run k of a band has
	// the action and staff of the attempts whose number is k modulo 60 (60 is
	// a multiple of the 3 actions and the 20 staff), so a run's attempts agree
	// with it and lie close together in time, as a real run's do.
	if err := step(fmt.Sprintf("%d runs", genRunBands*60), `INSERT INTO runs (action, status, created_by, created_by_name, description, total, created_at, started_at, finished_at)
		SELECT CASE WHEN k % 3 = 0 THEN 'check' ELSE 'open' END, 'finished', (SELECT min(id) FROM staff) + k % 20,
			'gen-operator-' || (1 + k % 20), 'generated', 0, t, t, t
		FROM generate_series(0, $1 - 1) b, generate_series(0, 59) k,
			LATERAL (SELECT now() - interval '365 days' + (b::float8 / $1) * interval '365 days' AS t) x
		ORDER BY b, k`, genRunBands); err != nil {
		return err
	}
	// Drop the attempts' secondary indexes for the load and rebuild them after.
	names, defs, err := genIndexes(ctx, pool, "attempts")
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := step("drop index "+name, "DROP INDEX "+name); err != nil {
			return err
		}
	}
	var runBase int64
	if err := pool.QueryRow(ctx, "SELECT coalesce(max(id), 0) - $1 + 1 FROM runs", genRunBands*60).Scan(&runBase); err != nil {
		return err
	}
	// A superuser loads the attempts with their row triggers and foreign key
	// checks off (session_replication_role = replica): every generated row is
	// completed (nothing for the in-flight or completion triggers to do) and
	// names an account, a staff member and a run made above.
	var super bool
	if err := pool.QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil {
		return err
	}
	load := func(what, sql string, args ...any) error {
		if !super {
			return step(what, sql, args...)
		}
		start := time.Now()
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, sql, args...)
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		fmt.Fprintf(progress, "%-40s %s\n", what, time.Since(start).Round(time.Millisecond))
		return nil
	}
	const batch = 1_000_000
	// Attempts are spread over the last 365 days, ids ascending with time.
	for from := 0; from < attempts; from += batch {
		to := min(from+batch, attempts)
		if err := load(fmt.Sprintf("attempts %d-%d", from, to), `INSERT INTO attempts (appid, action, staff_id, run_id, request_id, client_ip, instance_id, started_at, finished_at, status, outcome, code, message, check_status, raw, latency_ms)
			SELECT 'wx' || lpad(to_hex(x'6e0000000000'::bigint + (g * 7919) % $3), 16, '0'),
				CASE WHEN g % 3 = 0 THEN 'check' ELSE 'open' END,
				(SELECT min(id) FROM staff) + g % 20,
				CASE WHEN g % 7 = 0 THEN $5::bigint + least($6::bigint - 1, g * $6::bigint / $4::bigint) * 60 + g % 60 END,
				'gen-' || g, '10.0.' || (g % 250) || '.' || (g % 200),
				'gen',
				now() - interval '365 days' + (g::float8 / $4) * interval '365 days',
				now() - interval '365 days' + (g::float8 / $4) * interval '365 days' + interval '180 milliseconds',
				CASE WHEN g % 211 = 0 THEN 'rejected' WHEN g % 1009 = 0 THEN 'interrupted' ELSE 'completed' END,
				o.outcome, o.code, o.msg,
				CASE WHEN g % 3 = 0 AND o.code = 0 THEN (g / 3) % 2 END,
				convert_to('{"ret":' || coalesce(o.code, 0) || ',"err_msg":"' || o.msg || '"}', 'UTF8'),
				120 + g % 300
			FROM generate_series($1::bigint, $2::bigint - 1) g
			CROSS JOIN LATERAL (SELECT (ARRAY['success','already_done','retryable','needs_merchant','rate_limited','not_yet_eligible','provider_config','failed','unknown','needs_merchant'])[1 + g % 10] AS outcome,
				(ARRAY[0, 2021, -202, 1735, 1737, 2013, 2056, NULL, NULL, 1807])[1 + g % 10] AS code,
				(ARRAY['', 'traffic master already open', 'system error', 'publisher have not authorized agency', 'operate too fast', 'not reach threshold', 'no ams account', 'HTTP 502 from WeChat', '', 'invalid publisher'])[1 + g % 10] AS msg) o`,
			from, to, accounts, attempts, runBase, genRunBands); err != nil {
			return err
		}
	}
	for i, def := range defs {
		if err := step("create index "+names[i], def); err != nil {
			return err
		}
	}
	if err := step("derive account states", `UPDATE authorizer_state s SET last_attempt_id = x.id, last_attempt_at = x.started_at, last_outcome = x.outcome, last_code = x.code,
			state = tm_next_state('never', x.action, x.outcome, x.check_status)
		FROM (SELECT DISTINCT ON (appid) appid, id, started_at, outcome, code, action, check_status FROM attempts
			WHERE status IN ('completed', 'interrupted') ORDER BY appid, id DESC) x
		WHERE x.appid = s.appid`); err != nil {
		return err
	}
	if err := step("search characters", `INSERT INTO account_search_chars (ch, nick_name, appid, state, status_class, nexts)
		SELECT c.ch, s.nick_name, s.appid, s.state, s.status_class, c.nexts FROM authorizer_state s, tm_search_chars(s.search_grams) c
		ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING`); err != nil {
		return err
	}
	if err := step("resume search characters", "ALTER TABLE authorizer_state ENABLE TRIGGER account_search_chars_insert, ENABLE TRIGGER account_search_chars_update"); err != nil {
		return err
	}
	start := time.Now()
	if err := recountStates(ctx, pool); err != nil {
		return fmt.Errorf("count states: %w", err)
	}
	counted = true
	fmt.Fprintf(progress, "%-40s %s\n", "count states", time.Since(start).Round(time.Millisecond))
	for i, def := range sdefs {
		if err := step("create index "+snames[i], def); err != nil {
			return err
		}
	}
	// VACUUM as autovacuum would have by then: it sets the visibility map that
	// index-only scans rely on.
	return step("vacuum analyze", "VACUUM ANALYZE authorizers, authorizer_state, account_state_counts, platform_account_counts, account_search_chars, attempts, staff")
}

// countTriggers are the ALTER TABLE statements that enable or disable the
// triggers keeping account_state_counts (on the list rows) and
// platform_account_counts (on the accounts).
func countTriggers(how string) []string {
	var out []string
	for _, t := range [][2]string{{"authorizer_state", "authorizer_state_count"}, {"authorizers", "authorizers_platform_count"}} {
		out = append(out, "ALTER TABLE "+t[0]+" "+how+" TRIGGER "+t[1]+"_insert, "+how+" TRIGGER "+t[1]+"_update, "+how+" TRIGGER "+t[1]+"_delete")
	}
	return out
}

// recountStates turns the count triggers back on and counts the list rows
// into a compact account_state_counts and the accounts into a compact
// platform_account_counts, in one transaction: a change made between the
// two is counted either way.
func recountStates(ctx context.Context, pool *pgxpool.Pool) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for _, resume := range countTriggers("ENABLE") {
			if _, err := tx.Exec(ctx, resume); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, "SELECT tm_recount_state_counts(), tm_recount_platform_counts()")
		return err
	})
}

// genIndexes lists a table's secondary indexes (not its primary key) with
// the statements that build them again.
func genIndexes(ctx context.Context, pool *pgxpool.Pool, table string) (names, defs []string, err error) {
	rows, err := pool.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 AND indexname <> $1 || '_pkey'`, table)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return nil, nil, err
		}
		// A partitioned table's index is listed as ON ONLY the parent; built
		// again it must reach every partition.
		names, defs = append(names, name), append(defs, strings.Replace(def, " ON ONLY ", " ON ", 1))
	}
	return names, defs, rows.Err()
}
