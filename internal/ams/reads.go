package ams

import (
	"context"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// Units returns every ad unit of the Mini Program, of every slot but cover
// (which has none), all pages read.
func (s *Service) Units(ctx context.Context, appID string, refresh bool) (Snapshot[[]wechat.AdUnit], error) {
	return read(ctx, s, appID, KindUnits, refresh, func(ctx context.Context) ([]wechat.AdUnit, error) {
		var units []wechat.AdUnit
		err := s.withToken(ctx, appID, func(tok string) error {
			var err error
			units, err = s.WeChat.AllAdUnits(ctx, tok, "")
			return err
		})
		return units, err
	})
}

// Cover is the cover-ad status and its scenes.
type Cover struct {
	Status wechat.CoverStatus `json:"status"`
	Scenes []int              `json:"scenes"`
}

// Cover returns the cover-ad status (with when it may next be switched on) and its scenes.
func (s *Service) Cover(ctx context.Context, appID string, refresh bool) (Snapshot[Cover], error) {
	return read(ctx, s, appID, KindCover, refresh, func(ctx context.Context) (Cover, error) {
		var c Cover
		err := s.withToken(ctx, appID, func(tok string) error {
			st, err := s.WeChat.GetCoverAdposStatus(ctx, tok)
			if err != nil {
				return err
			}
			scenes, err := s.WeChat.GetCoverAdposScene(ctx, tok)
			c = Cover{Status: st, Scenes: scenes}
			return err
		})
		return c, err
	})
}

// Blocking is the blocked advertisers and industries.
type Blocking struct {
	Advertisers wechat.BlackList `json:"advertisers"`
	Industries  []string         `json:"industries"`
}

// Blocking returns the blocked advertisers of every kind and the blocked industries.
func (s *Service) Blocking(ctx context.Context, appID string, refresh bool) (Snapshot[Blocking], error) {
	return read(ctx, s, appID, KindBlocklist, refresh, func(ctx context.Context) (Blocking, error) {
		var b Blocking
		err := s.withToken(ctx, appID, func(tok string) error {
			adv, err := s.WeChat.GetBlackList(ctx, tok)
			if err != nil {
				return err
			}
			ind, err := s.WeChat.GetAmsCategoryBlacklist(ctx, tok)
			b = Blocking{Advertisers: adv, Industries: ind}
			return err
		})
		return b, err
	})
}

// Ratio is the share ratio in effect and the custom one, if set. A custom
// ratio differing from the one in effect is pending the merchant's confirmation.
type Ratio struct {
	InEffect  int  `json:"in_effect"`
	Custom    int  `json:"custom"`
	CustomSet bool `json:"custom_set"`
}

// Pending reports whether a custom ratio waits for the merchant's confirmation.
func (r Ratio) Pending() bool { return r.CustomSet && r.Custom != r.InEffect }

// Ratio returns the share ratio in effect and the custom one (component token).
func (s *Service) Ratio(ctx context.Context, appID string, refresh bool) (Snapshot[Ratio], error) {
	return read(ctx, s, appID, KindRatio, refresh, func(ctx context.Context) (Ratio, error) {
		var r Ratio
		err := s.Tokens.WithComponentToken(ctx, func(tok string) error {
			var err error
			if r.InEffect, err = s.WeChat.GetShareRatio(ctx, tok, appID); err != nil {
				return err
			}
			r.Custom, r.CustomSet, err = s.WeChat.GetCustomShareRatio(ctx, tok, appID)
			return err
		})
		return r, err
	})
}
