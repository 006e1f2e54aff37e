package platform

import (
	"context"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/core"
)

// Settings are the platform-wide choices admins make on the platform page.
type Settings struct {
	// OpenOnAuthorization has the system check and open the traffic master
	// of every Mini Program that newly authorizes the platform. Off by default.
	OpenOnAuthorization bool
	// UpdatedBy and UpdatedAt say who changed the settings last ("" and zero
	// when nobody has).
	UpdatedBy string
	UpdatedAt time.Time
}

// SettingsStore keeps the platform's settings; internal/postgres implements
// it (postgres.PlatformStore).
type SettingsStore interface {
	// Settings returns the platform's settings (the defaults when none are stored).
	Settings(ctx context.Context, componentAppID string) (Settings, error)
	// SetOpenOnAuthorization stores the setting and, in the same
	// transaction, the security-log line saying who changed it.
	SetOpenOnAuthorization(ctx context.Context, componentAppID string, on bool, by *core.Staff, m core.Meta) error
}

// Settings returns the platform's settings.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	return s.cfg.Store.Settings(ctx, s.appID)
}

// SetOpenOnAuthorization switches opening on authorization on or off; only
// admins may.
func (s *Service) SetOpenOnAuthorization(ctx context.Context, by *core.Staff, on bool, m core.Meta) error {
	if !by.IsAdmin() {
		return core.Errorf(core.EFORBIDDEN, "Only admins change platform settings.")
	}
	if err := s.cfg.Store.EnsurePlatform(ctx, s.appID); err != nil {
		return err
	}
	if err := s.cfg.Store.SetOpenOnAuthorization(ctx, s.appID, on, by, m); err != nil {
		return err
	}
	s.cfg.Log.Info("platform setting changed", "setting", "open_on_authorization", "on", on, "staff_id", by.ID)
	return nil
}
