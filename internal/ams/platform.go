package ams

import (
	"context"
	"fmt"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// DefaultRatio reads the platform's default share ratio (the provider's
// percentage for every Mini Program without a custom one): get_share_ratio
// with the platform's own appid and the component token.
func (s *Service) DefaultRatio(ctx context.Context) (int, error) {
	var r int
	err := s.Tokens.WithComponentToken(ctx, func(tok string) error {
		var err error
		r, err = s.WeChat.GetShareRatio(ctx, tok, s.ComponentAppID)
		return err
	})
	return r, err
}

// SetDefaultRatio sets the platform's default share ratio (admins only). It
// belongs to no account, so it is recorded in the security log rather than
// the audit, with the ratio before and after and whether WeChat took it.
// Like a custom ratio, it takes effect for each Mini Program only once its
// merchant confirms it.
func (s *Service) SetDefaultRatio(ctx context.Context, staff *core.Staff, ratio int, m core.Meta) (old int, err error) {
	if !staff.IsAdmin() {
		return 0, errNotAllowed
	}
	if ratio < 0 || ratio > 100 {
		return 0, core.FieldError("ratio", "The ratio is a percentage from 0 to 100.")
	}
	old, oldErr := s.DefaultRatio(ctx)
	before := fmt.Sprint(old)
	if oldErr != nil {
		before = "unknown"
	}
	err = s.Tokens.WithComponentToken(ctx, func(tok string) error {
		return s.WeChat.SetShareRatio(ctx, tok, ratio)
	})
	detail := fmt.Sprintf("default share ratio %s -> %d", before, ratio)
	if err != nil {
		if code, ok := wechat.CodeOf(err); ok {
			detail += fmt.Sprintf(" (WeChat code %d)", code)
		} else {
			detail += " (not answered)"
		}
	}
	ev := core.SecurityEvent{Event: core.EventShareRatioDefault, Success: err == nil, ActorID: &staff.ID, Username: staff.Username,
		ClientIP: m.ClientIP, RequestID: m.RequestID, Detail: detail}
	if lerr := s.Security.RecordSecurity(context.WithoutCancel(ctx), ev); lerr != nil {
		s.log().Error("record default share ratio", "err", lerr)
		if err == nil {
			err = lerr
		}
	}
	if err != nil {
		return old, fmt.Errorf("set the default share ratio: %w", err)
	}
	return old, nil
}
