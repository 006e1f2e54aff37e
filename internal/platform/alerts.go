package platform

import (
	"context"
	"errors"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/alert"
	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// Alerter records an alert and queues its deliveries (postgres.AlertStore).
type Alerter interface {
	Emit(ctx context.Context, e alert.Event) error
}

// platformAlertEvery is how often a component token that keeps failing is
// reported: every call fails meanwhile, and one alert an hour is enough.
const platformAlertEvery = time.Hour

// alertNoComponentToken reports that the component token cannot be
// obtained: every call to WeChat fails until an administrator acts. Errors
// of the console's own (the database, a cancelled request) are not the
// platform's and are not reported.
func (m *TokenManager) alertNoComponentToken(ctx context.Context, err error) {
	if m.Alerts == nil || ctx.Err() != nil {
		return
	}
	e := alert.Event{Kind: alert.EventPlatformError, Path: "/platform", At: m.Now(),
		Dedupe: "platform:component_token", DedupeFor: platformAlertEvery}
	var (
		we *wechat.Error
		te *wechat.TransportError
		he *wechat.HTTPStatusError
		de *wechat.DecodeError
	)
	switch {
	case errors.Is(err, ErrNoTicket):
		e.Message = core.ErrorMessage(err)
	case errors.As(err, &we):
		e.Code, e.Message = &we.Code, we.Message
	case errors.As(err, &te), errors.As(err, &he), errors.As(err, &de):
		e.Message = err.Error() // these never carry the request's URL or tokens
	default:
		return
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if aerr := m.Alerts.Emit(actx, e); aerr != nil {
		m.Log.Warn("record platform alert", "err", aerr)
	}
}
