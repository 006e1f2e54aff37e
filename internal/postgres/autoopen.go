package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/platform"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

var _ jobs.AutoOpenStore = (*PlatformStore)(nil)

// Settings returns the platform's settings, the defaults when none are stored.
func (s *PlatformStore) Settings(ctx context.Context, componentAppID string) (platform.Settings, error) {
	var st platform.Settings
	var at *time.Time
	err := s.Pool.QueryRow(ctx, `SELECT ps.open_on_authorization, coalesce(st.username, ''), ps.updated_at
		FROM platform_settings ps LEFT JOIN staff st ON st.id = ps.updated_by WHERE ps.component_appid = $1`, componentAppID).
		Scan(&st.OpenOnAuthorization, &st.UpdatedBy, &at)
	if notFound(err) {
		return platform.Settings{}, nil
	}
	if at != nil {
		st.UpdatedAt = *at
	}
	return st, err
}

// SetOpenOnAuthorization stores the setting and its security-log line in
// one transaction, so a change is never made unrecorded.
func (s *PlatformStore) SetOpenOnAuthorization(ctx context.Context, componentAppID string, on bool, by *core.Staff, m core.Meta) error {
	detail := "open_on_authorization: off"
	if on {
		detail = "open_on_authorization: on"
	}
	return inTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO platform_settings (component_appid, open_on_authorization, updated_by, updated_at) VALUES ($1, $2, $3, now())
			ON CONFLICT (component_appid) DO UPDATE SET open_on_authorization = excluded.open_on_authorization,
				updated_by = excluded.updated_by, updated_at = now()`, componentAppID, on, by.ID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO security_log (event, success, actor_id, username, client_ip, request_id, detail)
			VALUES ($1, true, $2, $3, $4, $5, $6)`, core.EventPlatformSetting, by.ID, by.Username, m.ClientIP, m.RequestID, detail)
		return err
	})
}

// startAutoOpen records, inside the transaction that records an
// `authorized` push, an auto-open for the account when the platform's
// setting is on and the account has none for its current authorization
// (none at all, or one whose authorization a revocation ended). WeChat
// repeating the push finds the row and adds nothing.
func (s *PlatformStore) startAutoOpen(ctx context.Context, tx pgx.Tx, componentAppID, appID string, at time.Time) error {
	tag, err := tx.Exec(ctx, `INSERT INTO auto_opens (appid, state, authorized_at)
		SELECT $2, 'waiting', $3 FROM platform_settings WHERE component_appid = $1 AND open_on_authorization
		ON CONFLICT (appid) DO UPDATE SET state = 'waiting', authorized_at = excluded.authorized_at, queued_at = NULL,
			finished_at = NULL, ended_at = NULL, result = '', check_attempt_id = NULL, eligible = false, open_attempt_id = NULL, tries = 0,
			created_at = now(), updated_at = now()
		WHERE auto_opens.ended_at IS NOT NULL`, componentAppID, appID, at)
	if err != nil || tag.RowsAffected() == 0 {
		return err
	}
	return s.queueAutoOpen(ctx, tx, appID)
}

// queueAutoOpen queues the account's waiting auto-open, inside tx, once the
// account is ready: its profile is known and, for a Mini Program, its
// refresh token (the push brings neither; the profile is read right after
// it, the token comes with the authorization's redirect or the next sync).
// An account that is not a Mini Program finishes it at once.
func (s *PlatformStore) queueAutoOpen(ctx context.Context, tx pgx.Tx, appID string) error {
	if s.QueueAutoOpen == nil {
		return nil
	}
	var mini bool
	err := tx.QueryRow(ctx, `UPDATE auto_opens o SET
			state = CASE WHEN a.is_mini_program THEN 'queued' ELSE 'done' END,
			queued_at = CASE WHEN a.is_mini_program THEN now() END,
			finished_at = CASE WHEN a.is_mini_program THEN NULL ELSE now() END,
			result = CASE WHEN a.is_mini_program THEN '' ELSE $2 END,
			updated_at = now()
		FROM authorizers a
		WHERE o.appid = $1 AND a.appid = o.appid AND o.state = 'waiting' AND o.ended_at IS NULL
		  AND a.revoked_at IS NULL AND a.info_synced_at IS NOT NULL
		  AND (NOT a.is_mini_program OR a.refresh_token_enc IS NOT NULL)
		RETURNING a.is_mini_program`, appID, jobs.AutoOpenNotMiniProgram).Scan(&mini)
	if notFound(err) || (err == nil && !mini) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.QueueAutoOpen(ctx, tx, appID)
}

// AutoOpen reads an account's auto-open with the setting and the account as
// they are now.
func (s *PlatformStore) AutoOpen(ctx context.Context, appID string) (jobs.AutoOpen, error) {
	var ao jobs.AutoOpen
	err := s.Pool.QueryRow(ctx, `SELECT o.state, coalesce(ps.open_on_authorization, false), a.revoked_at IS NOT NULL OR o.ended_at IS NOT NULL,
			a.is_mini_program, o.tries, o.eligible
		FROM auto_opens o JOIN authorizers a USING (appid)
		LEFT JOIN platform_settings ps ON ps.component_appid = a.component_appid
		WHERE o.appid = $1`, appID).Scan(&ao.State, &ao.SettingOn, &ao.Revoked, &ao.MiniProgram, &ao.Tries, &ao.Eligible)
	if notFound(err) {
		return ao, core.Errorf(core.ENOTFOUND, "No automatic opening for %s.", appID)
	}
	return ao, err
}

// NoteAutoOpenCall counts a call the job made and keeps a check's attempt.
func (s *PlatformStore) NoteAutoOpenCall(ctx context.Context, appID string, action traffic.Action, attemptID int64, eligible bool) error {
	_, err := s.Pool.Exec(ctx, `UPDATE auto_opens SET tries = tries + 1, updated_at = now(),
		check_attempt_id = CASE WHEN $2 = 'check' THEN $3 ELSE check_attempt_id END,
		eligible = CASE WHEN $2 = 'check' THEN $4 ELSE eligible END WHERE appid = $1`, appID, string(action), attemptID, eligible)
	return err
}

// ClaimAutoOpen moves a queued auto-open to opening before the open call.
func (s *PlatformStore) ClaimAutoOpen(ctx context.Context, appID string) (bool, error) {
	tag, err := s.Pool.Exec(ctx, "UPDATE auto_opens SET state = 'opening', updated_at = now() WHERE appid = $1 AND state = 'queued'", appID)
	return tag.RowsAffected() == 1, err
}

// ReleaseAutoOpen moves a claimed auto-open back to queued: nothing was sent.
func (s *PlatformStore) ReleaseAutoOpen(ctx context.Context, appID string) error {
	_, err := s.Pool.Exec(ctx, "UPDATE auto_opens SET state = 'queued', updated_at = now() WHERE appid = $1 AND state = 'opening'", appID)
	return err
}

// FinishAutoOpen records an auto-open's result.
func (s *PlatformStore) FinishAutoOpen(ctx context.Context, appID, result string, openAttemptID *int64) error {
	_, err := s.Pool.Exec(ctx, `UPDATE auto_opens SET state = 'done', result = $2, open_attempt_id = coalesce($3, open_attempt_id),
		finished_at = now(), updated_at = now() WHERE appid = $1 AND state <> 'done'`, appID, result, openAttemptID)
	return err
}
