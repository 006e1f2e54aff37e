package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/platform"
	"github.com/trafficmaster/trafficmaster/internal/secretbox"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// PlatformStore implements platform.Store. Tokens and refresh tokens are
// sealed with Box before they reach the database.
type PlatformStore struct {
	Pool *pgxpool.Pool
	Box  *secretbox.Box
	// QueueAutoOpen queues an account's opening on authorization in the
	// transaction that makes it ready (autoopen.go); nil queues nothing.
	QueueAutoOpen jobs.AutoOpenQueue
}

var _ platform.Store = (*PlatformStore)(nil)

func (s *PlatformStore) seal(v string) ([]byte, error) {
	if v == "" {
		return nil, nil
	}
	return s.Box.Seal([]byte(v))
}

func (s *PlatformStore) open(b []byte) (string, error) {
	if len(b) == 0 {
		return "", nil
	}
	p, err := s.Box.Open(b)
	return string(p), err
}

// The component token lives in a text column, so it is sealed then base64'd.
func (s *PlatformStore) sealText(v string) (string, error) {
	b, err := s.seal(v)
	return base64.StdEncoding.EncodeToString(b), err
}

func (s *PlatformStore) openText(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return "", fmt.Errorf("component token column: %w", err)
	}
	return s.open(b)
}

// EnsurePlatform creates the platform's row on first use.
func (s *PlatformStore) EnsurePlatform(ctx context.Context, appID string) error {
	_, err := s.Pool.Exec(ctx, "INSERT INTO platforms (component_appid) VALUES ($1) ON CONFLICT DO NOTHING", appID)
	return err
}

func (s *PlatformStore) componentToken(ctx context.Context, q querier, appID string) (platform.Token, string, error) {
	var enc string
	var ticketEnc []byte
	var exp *time.Time
	err := q.QueryRow(ctx, "SELECT component_token, component_token_expires_at, verify_ticket_enc FROM platforms WHERE component_appid = $1", appID).Scan(&enc, &exp, &ticketEnc)
	if notFound(err) {
		return platform.Token{}, "", nil
	}
	if err != nil {
		return platform.Token{}, "", err
	}
	v, err := s.openText(enc)
	if err != nil {
		return platform.Token{}, "", err
	}
	ticket, err := s.open(ticketEnc)
	if err != nil {
		return platform.Token{}, "", err
	}
	t := platform.Token{Value: v}
	if exp != nil {
		t.ExpiresAt = *exp
	}
	return t, ticket, nil
}

// ComponentToken reads the stored component token without locking.
func (s *PlatformStore) ComponentToken(ctx context.Context, appID string) (platform.Token, error) {
	t, _, err := s.componentToken(ctx, s.Pool, appID)
	return t, err
}

// lock takes a transaction-scoped advisory lock shared by every instance.
func lock(ctx context.Context, tx pgx.Tx, key string) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "trafficmaster:"+key)
	return err
}

// RefreshComponentToken runs fn under the platform's token lock.
func (s *PlatformStore) RefreshComponentToken(ctx context.Context, appID string, fn func(cur platform.Token, ticket string) (platform.Token, bool, error)) (platform.Token, error) {
	if err := s.EnsurePlatform(ctx, appID); err != nil {
		return platform.Token{}, err
	}
	var tok platform.Token
	err := inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, "component-token:"+appID); err != nil {
			return err
		}
		cur, ticket, err := s.componentToken(ctx, tx, appID)
		if err != nil {
			return err
		}
		t, refreshed, err := fn(cur, ticket)
		if err != nil || !refreshed {
			tok = t
			return err
		}
		enc, err := s.sealText(t.Value)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE platforms SET component_token = $2, component_token_expires_at = $3, component_token_refreshed_at = now(),
		component_token_refreshes = component_token_refreshes + 1, updated_at = now() WHERE component_appid = $1`, appID, enc, t.ExpiresAt); err != nil {
			return err
		}
		tok = t
		return nil
	})
	if err != nil {
		return platform.Token{}, err
	}
	return tok, nil
}

// InvalidateComponentToken expires the stored token if it is still token.
func (s *PlatformStore) InvalidateComponentToken(ctx context.Context, appID, token string) error {
	return inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, "component-token:"+appID); err != nil {
			return err
		}
		cur, _, err := s.componentToken(ctx, tx, appID)
		if err != nil || cur.Value != token {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE platforms SET component_token_expires_at = now() - interval '1 second' WHERE component_appid = $1", appID)
		return err
	})
}

// authorizerTokenSQL reads an account's token with its refresh token.
const authorizerTokenSQL = `SELECT a.revoked_at, a.refresh_token_enc, t.access_token_enc, t.expires_at
		FROM authorizers a LEFT JOIN authorizer_tokens t ON t.appid = a.appid WHERE a.appid = $1`

// usedTokenSQL reads it as a use: the token's used_at is brought up to date
// when it is a minute old or more (a write at most once a minute an
// account), unless a refresh holds the row: a read never waits for it.
const usedTokenSQL = `WITH used AS (
		UPDATE authorizer_tokens SET used_at = now() WHERE appid = (
			SELECT appid FROM authorizer_tokens WHERE appid = $1 AND used_at < now() - interval '1 minute' FOR UPDATE SKIP LOCKED))
	` + authorizerTokenSQL

func (s *PlatformStore) authorizerToken(ctx context.Context, q querier, sql, appID string) (platform.Token, string, error) {
	var revoked *time.Time
	var refreshEnc, tokEnc []byte
	var exp *time.Time
	err := q.QueryRow(ctx, sql, appID).Scan(&revoked, &refreshEnc, &tokEnc, &exp)
	if notFound(err) {
		return platform.Token{}, "", core.Errorf(core.ENOTFOUND, "The account %s has not authorized the platform.", appID)
	}
	if err != nil {
		return platform.Token{}, "", err
	}
	if revoked != nil {
		return platform.Token{}, "", core.Errorf(core.EINVALID, "The account %s has revoked its authorization.", appID)
	}
	v, err := s.open(tokEnc)
	if err != nil {
		return platform.Token{}, "", err
	}
	refresh, err := s.open(refreshEnc)
	if err != nil {
		return platform.Token{}, "", err
	}
	t := platform.Token{Value: v}
	if exp != nil {
		t.ExpiresAt = *exp
	}
	return t, refresh, nil
}

// AuthorizerToken reads an account's stored token for a call, without
// locking, and records the use (see TokensExpiringWithin).
func (s *PlatformStore) AuthorizerToken(ctx context.Context, appID string) (platform.Token, error) {
	t, _, err := s.authorizerToken(ctx, s.Pool, usedTokenSQL, appID)
	return t, err
}

func (s *PlatformStore) saveAuthorizerToken(ctx context.Context, tx pgx.Tx, appID string, tok platform.Token) error {
	enc, err := s.seal(tok.Value)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO authorizer_tokens (appid, access_token_enc, expires_at, refreshed_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (appid) DO UPDATE SET access_token_enc = excluded.access_token_enc, expires_at = excluded.expires_at, refreshed_at = now()`, appID, enc, tok.ExpiresAt)
	return err
}

// RefreshAuthorizerToken runs fn under the account's token lock.
func (s *PlatformStore) RefreshAuthorizerToken(ctx context.Context, componentAppID, appID string, fn func(cur platform.Token, refresh string) (platform.Token, string, bool, error)) (platform.Token, error) {
	var tok platform.Token
	err := inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, "authorizer-token:"+appID); err != nil {
			return err
		}
		cur, refresh, err := s.authorizerToken(ctx, tx, authorizerTokenSQL, appID)
		if err != nil {
			return err
		}
		t, newRefresh, refreshed, err := fn(cur, refresh)
		if err != nil || !refreshed {
			tok = t
			return err
		}
		if err := s.saveAuthorizerToken(ctx, tx, appID, t); err != nil {
			return err
		}
		if newRefresh != "" && newRefresh != refresh {
			enc, err := s.seal(newRefresh)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE authorizers SET refresh_token_enc = $2, updated_at = now() WHERE appid = $1", appID, enc); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE platforms SET authorizer_token_refreshes = authorizer_token_refreshes + 1 WHERE component_appid = $1", componentAppID); err != nil {
			return err
		}
		tok = t
		return nil
	})
	if err != nil {
		return platform.Token{}, err
	}
	return tok, nil
}

// InvalidateAuthorizerToken expires the stored token if it is still token.
func (s *PlatformStore) InvalidateAuthorizerToken(ctx context.Context, appID, token string) error {
	return inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, "authorizer-token:"+appID); err != nil {
			return err
		}
		var enc []byte
		err := tx.QueryRow(ctx, "SELECT access_token_enc FROM authorizer_tokens WHERE appid = $1", appID).Scan(&enc)
		if notFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if cur, err := s.open(enc); err != nil || cur != token {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE authorizer_tokens SET expires_at = now() - interval '1 second' WHERE appid = $1", appID)
		return err
	})
}

// RecordEvent stores a push and applies its effect in one transaction, so a
// push answered `success` is never half applied.
func (s *PlatformStore) RecordEvent(ctx context.Context, ev platform.Event) (bool, error) {
	if err := s.EnsurePlatform(ctx, ev.ComponentAppID); err != nil {
		return false, err
	}
	var stored bool
	err := inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		var ct *time.Time
		if !ev.CreateTime.IsZero() {
			ct = &ev.CreateTime
		}
		tag, err := tx.Exec(ctx, `INSERT INTO wechat_events (received_at, component_appid, info_type, authorizer_appid, create_time, dedupe_key, raw_body, decrypted_xml, decoded)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (dedupe_key) DO NOTHING`,
			ev.ReceivedAt, ev.ComponentAppID, ev.InfoType, ev.AuthorizerAppID, ct, ev.DedupeKey, ev.RawBody, ev.DecryptedXML, ev.Decoded)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		at := ev.CreateTime
		if at.IsZero() {
			at = ev.ReceivedAt
		}
		switch ev.InfoType {
		case "component_verify_ticket":
			var enc []byte
			if enc, err = s.seal(ev.Ticket); err != nil {
				return err
			}
			// Freshness is judged by arrival, not by the CreateTime the push
			// claims: a ticket dated in the future would otherwise pin itself
			// and every newer ticket would be ignored.
			_, err = tx.Exec(ctx, `UPDATE platforms SET verify_ticket_enc = $2, verify_ticket_at = $3, updated_at = now()
			WHERE component_appid = $1 AND (verify_ticket_at IS NULL OR verify_ticket_at <= $3)`, ev.ComponentAppID, enc, ev.ReceivedAt)
		case "authorized", "updateauthorized":
			if ev.AuthorizerAppID != "" {
				_, err = tx.Exec(ctx, `INSERT INTO authorizers (appid, component_appid, authorized_at) VALUES ($1, $2, $3)
				ON CONFLICT (appid) DO UPDATE SET revoked_at = NULL, revoked_reason = '', updated_at = now()`, ev.AuthorizerAppID, ev.ComponentAppID, at)
				// Only a new authorization opens on its own; a change of
				// permissions (updateauthorized) does not.
				if err == nil && ev.InfoType == "authorized" {
					err = s.startAutoOpen(ctx, tx, ev.ComponentAppID, ev.AuthorizerAppID, at)
				}
			}
		case "unauthorized":
			if ev.AuthorizerAppID != "" {
				err = revoke(ctx, tx, ev.AuthorizerAppID, "unauthorized push", at)
			}
		}
		stored = err == nil
		return err
	})
	if err != nil {
		return false, err
	}
	return stored, nil
}

func revoke(ctx context.Context, tx pgx.Tx, appID, reason string, at time.Time) error {
	// The refresh token dies with the authorization too: authorizing again
	// brings a new one, and an old one kept would make the account look
	// ready to be called (opening on authorization waits for a token).
	if _, err := tx.Exec(ctx, "UPDATE authorizers SET revoked_at = $2, revoked_reason = $3, refresh_token_enc = NULL, updated_at = now() WHERE appid = $1 AND revoked_at IS NULL", appID, at, reason); err != nil {
		return err
	}
	// Its tokens stopped working at WeChat; keeping them would only mislead.
	if _, err := tx.Exec(ctx, "DELETE FROM authorizer_tokens WHERE appid = $1", appID); err != nil {
		return err
	}
	// Its authorization is over: authorizing again opens again.
	_, err := tx.Exec(ctx, "UPDATE auto_opens SET ended_at = $2, updated_at = now() WHERE appid = $1 AND ended_at IS NULL", appID, at)
	return err
}

// Revoke marks an account revoked (it is never deleted).
func (s *PlatformStore) Revoke(ctx context.Context, appID, reason string, at time.Time) error {
	return inTx(ctx, s.Pool, func(tx pgx.Tx) error { return revoke(ctx, tx, appID, reason, at) })
}

// EachAuthorizerState hands fn every stored account of the platform, one
// row at a time, for sync: a million accounts are streamed, not gathered.
func (s *PlatformStore) EachAuthorizerState(ctx context.Context, componentAppID string, fn func(platform.AuthorizerState) error) error {
	rows, err := s.Pool.Query(ctx, "SELECT appid, authorized_at, refresh_token_enc, revoked_at IS NOT NULL, info_synced_at FROM authorizers WHERE component_appid = $1", componentAppID)
	if err != nil {
		return err
	}
	defer rows.Close()
	var enc []byte
	for rows.Next() {
		var st platform.AuthorizerState
		var authAt, infoAt *time.Time
		if err := rows.Scan(&st.AppID, &authAt, &enc, &st.Revoked, &infoAt); err != nil {
			return err
		}
		if authAt != nil {
			st.AuthTime = *authAt
		}
		if infoAt != nil {
			st.InfoSyncedAt = *infoAt
		}
		if st.RefreshToken, err = s.open(enc); err != nil {
			return err
		}
		if err := fn(st); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SaveAuthorization upserts an authorized account and un-revokes it.
func (s *PlatformStore) SaveAuthorization(ctx context.Context, componentAppID, appID, refreshToken string, authTime time.Time, access *platform.Token) error {
	_, err := s.saveAuthorization(ctx, componentAppID, appID, refreshToken, authTime, access, nil)
	return err
}

// SyncAuthorization records an account the authorizer list shows, as
// SaveAuthorization does, unless whether it is revoked is no longer
// wasRevoked, what the sync read before it asked for the list: a push that
// came meanwhile is newer than the list and stands. It reports whether the
// account was written.
func (s *PlatformStore) SyncAuthorization(ctx context.Context, componentAppID, appID, refreshToken string, authTime time.Time, wasRevoked bool) (bool, error) {
	return s.saveAuthorization(ctx, componentAppID, appID, refreshToken, authTime, nil, &wasRevoked)
}

func (s *PlatformStore) saveAuthorization(ctx context.Context, componentAppID, appID, refreshToken string, authTime time.Time, access *platform.Token, wasRevoked *bool) (bool, error) {
	if err := s.EnsurePlatform(ctx, componentAppID); err != nil {
		return false, err
	}
	enc, err := s.seal(refreshToken)
	if err != nil {
		return false, err
	}
	var at *time.Time
	if !authTime.IsZero() {
		at = &authTime
	}
	saved := false
	err = inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO authorizers (appid, component_appid, refresh_token_enc, authorized_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (appid) DO UPDATE SET component_appid = excluded.component_appid,
				refresh_token_enc = COALESCE(excluded.refresh_token_enc, authorizers.refresh_token_enc),
				authorized_at = COALESCE(excluded.authorized_at, authorizers.authorized_at),
				revoked_at = NULL, revoked_reason = '', updated_at = now()
			WHERE $5::boolean IS NULL OR (authorizers.revoked_at IS NOT NULL) = $5
			RETURNING true`, appID, componentAppID, enc, at, wasRevoked).Scan(&saved)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if access != nil {
			if err := s.saveAuthorizerToken(ctx, tx, appID, *access); err != nil {
				return err
			}
		}
		return s.queueAutoOpen(ctx, tx, appID)
	})
	return saved, err
}

// SaveAuthorizerInfo stores an account's profile and the raw reply.
func (s *PlatformStore) SaveAuthorizerInfo(ctx context.Context, componentAppID string, info wechat.AuthorizerInfo, now time.Time) error {
	raw := info.Raw
	if len(raw) == 0 || !json.Valid(raw) {
		raw = json.RawMessage("null")
	}
	// The reply repeats the refresh token (kept encrypted elsewhere only) and
	// may hold text Postgres refuses.
	raw = platform.CleanReply(raw)
	// The reply's refresh token fills one the account lacks (an account known
	// from its push alone): it is ready at once, rather than at the next sync.
	// One already stored is left alone; sync and the redirect keep it.
	refresh, err := s.seal(info.RefreshToken)
	if err != nil {
		return err
	}
	return inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO authorizers (appid, component_appid, is_mini_program, nick_name, head_img, user_name, principal_name, account_status, service_type, verify_type, raw_info, info_synced_at, refresh_token_enc)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (appid) DO UPDATE SET is_mini_program = excluded.is_mini_program, nick_name = excluded.nick_name, head_img = excluded.head_img,
			refresh_token_enc = coalesce(authorizers.refresh_token_enc, excluded.refresh_token_enc),
			user_name = excluded.user_name, principal_name = excluded.principal_name, account_status = excluded.account_status,
			service_type = excluded.service_type, verify_type = excluded.verify_type, raw_info = excluded.raw_info,
			info_synced_at = excluded.info_synced_at, updated_at = now()`,
			info.AppID, componentAppID, info.IsMiniProgram, info.NickName, info.HeadImg, info.UserName, info.PrincipalName,
			info.AccountStatus, info.ServiceType, info.VerifyType, raw, now, refresh); err != nil {
			return err
		}
		return s.queueAutoOpen(ctx, tx, info.AppID)
	})
}

// SealStoredSecrets encrypts a verify ticket that an older version stored in
// clear. It runs at every start and does nothing once done; migration 00007
// did what SQL alone can (redacting stored pushes and replies).
func (s *PlatformStore) SealStoredSecrets(ctx context.Context) error {
	return inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, "seal-stored-secrets"); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT component_appid, verify_ticket FROM platforms WHERE verify_ticket <> '' FOR UPDATE")
		if err != nil {
			return err
		}
		type clear struct{ appID, ticket string }
		var todo []clear
		var c clear
		if _, err := pgx.ForEachRow(rows, []any{&c.appID, &c.ticket}, func() error { todo = append(todo, c); return nil }); err != nil {
			return err
		}
		for _, c := range todo {
			enc, err := s.seal(c.ticket)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE platforms SET verify_ticket_enc = $2, verify_ticket = '' WHERE component_appid = $1", c.appID, enc); err != nil {
				return err
			}
		}
		return nil
	})
}

// SyncStarted records the start of a sync.
func (s *PlatformStore) SyncStarted(ctx context.Context, appID string, at time.Time) error {
	if err := s.EnsurePlatform(ctx, appID); err != nil {
		return err
	}
	_, err := s.Pool.Exec(ctx, "UPDATE platforms SET last_sync_started_at = $2, updated_at = now() WHERE component_appid = $1", appID, at)
	return err
}

// SyncFinished records how a sync ended.
func (s *PlatformStore) SyncFinished(ctx context.Context, appID string, at time.Time, ok bool, message string, res platform.SyncResult) error {
	_, err := s.Pool.Exec(ctx, `UPDATE platforms SET last_sync_finished_at = $2, last_sync_ok = $3, last_sync_message = $4, last_sync_result = $5, updated_at = now()
		WHERE component_appid = $1`, appID, at, ok, message, res)
	return err
}

// Status gathers the platform page's figures.
func (s *PlatformStore) Status(ctx context.Context, appID string) (platform.Status, error) {
	st := platform.Status{ComponentAppID: appID}
	var ticketAt, expAt, refAt, syncStart, syncEnd *time.Time
	var result []byte
	err := s.Pool.QueryRow(ctx, `SELECT verify_ticket_at, component_token_expires_at, component_token_refreshed_at, component_token_refreshes, authorizer_token_refreshes,
		last_sync_started_at, last_sync_finished_at, last_sync_ok, last_sync_message, last_sync_result FROM platforms WHERE component_appid = $1`, appID).
		Scan(&ticketAt, &expAt, &refAt, &st.ComponentTokenRefreshes, &st.AuthorizerTokenRefreshes, &syncStart, &syncEnd, &st.LastSyncOK, &st.LastSyncMessage, &result)
	if err != nil && !notFound(err) {
		return st, err
	}
	for _, p := range []struct {
		src *time.Time
		dst *time.Time
	}{{ticketAt, &st.TicketAt}, {expAt, &st.ComponentTokenExpiresAt}, {refAt, &st.ComponentTokenRefreshed}, {syncStart, &st.LastSyncStarted}, {syncEnd, &st.LastSyncFinished}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	if len(result) > 0 {
		var r platform.SyncResult
		if json.Unmarshal(result, &r) == nil {
			st.LastSyncResult = &r
		}
	}
	// The counts kept as the accounts change (migration 00102): a few rows,
	// not the accounts.
	err = s.Pool.QueryRow(ctx, `SELECT coalesce(sum(n), 0)::bigint,
		coalesce(sum(n) FILTER (WHERE mini_program AND NOT revoked), 0)::bigint,
		coalesce(sum(n) FILTER (WHERE NOT mini_program AND info_synced AND NOT revoked), 0)::bigint,
		coalesce(sum(n) FILTER (WHERE revoked), 0)::bigint,
		coalesce(sum(n) FILTER (WHERE no_refresh AND NOT revoked), 0)::bigint
		FROM platform_account_counts WHERE component_appid = $1`, appID).Scan(&st.Authorizers, &st.MiniPrograms, &st.OfficialAccount, &st.Revoked, &st.MissingRefresh)
	if err != nil {
		return st, err
	}
	// The pushes' count is kept as they are stored (migration 00104).
	if err := s.Pool.QueryRow(ctx, "SELECT coalesce(sum(n), 0)::bigint FROM platform_event_counts WHERE component_appid = $1", appID).Scan(&st.Events); err != nil {
		return st, err
	}
	rows, err := s.Pool.Query(ctx, "SELECT received_at, info_type, authorizer_appid FROM wechat_events WHERE component_appid = $1 ORDER BY id DESC LIMIT 10", appID)
	if err != nil {
		return st, err
	}
	st.RecentEvents, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (platform.EventSummary, error) {
		var e platform.EventSummary
		return e, r.Scan(&e.ReceivedAt, &e.InfoType, &e.AuthorizerAppID)
	})
	return st, err
}

// TokensExpiringWithin lists the accounts, not revoked, whose stored access
// token expires within d and was used for a call within used: the ones the
// token schedule refreshes ahead. A token no call asked for since is left to
// lapse (the next call refreshes it), or every account ever called would be
// refreshed every two hours for ever.
func (s *PlatformStore) TokensExpiringWithin(ctx context.Context, d, used time.Duration) ([]string, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT t.appid FROM authorizer_tokens t JOIN authorizers a USING (appid)
		WHERE a.revoked_at IS NULL AND t.expires_at < now() + $1::interval AND t.used_at > now() - $2::interval`, d.String(), used.String())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
