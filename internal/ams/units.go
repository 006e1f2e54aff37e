package ams

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// MaxUnitName bounds an ad unit's name. WeChat documents no limit; its own
// console stops at 30 characters, and a longer name only gets a 1700 back.
const MaxUnitName = 30

// CreatableSlots are the slots a unit can be created in, in the order the
// form offers them (the cover slot has no units).
var CreatableSlots = []string{wechat.SlotBanner, wechat.SlotRewardVideo, wechat.SlotInterstitial,
	wechat.SlotVideoFeeds, wechat.SlotVideoBegin, wechat.SlotBox, wechat.SlotTemplate}

// Check says, field by field, why WeChat would refuse to create the unit:
// each error names its form field (name, slot, video_duration_min,
// video_duration_max, tmpl_type, tmpl_id) and is translatable. Nil when it
// may be sent.
func (n NewUnit) Check() []*core.Error {
	var errs []*core.Error
	if err := CheckUnitName(n.Name); err != nil {
		errs = append(errs, err)
	}
	switch n.Slot {
	case wechat.SlotRewardVideo:
		if !slices.Contains(wechat.RewardVideoMaxDurations, n.VideoMax) {
			errs = append(errs, core.FieldError("video_duration_max", "The longest video is 15, 30 or 60 seconds."))
		}
		hi := max(n.VideoMax, wechat.RewardVideoMinDuration)
		if n.VideoMin < wechat.RewardVideoMinDuration || n.VideoMin > hi {
			errs = append(errs, core.FieldError("video_duration_min", "The shortest video is at least %d seconds and no longer than the longest.", wechat.RewardVideoMinDuration))
		}
	case wechat.SlotTemplate:
		switch {
		case n.TmplID != "" && n.TmplType != 0:
			errs = append(errs, core.FieldError("tmpl_type", "Choose a template type or one of your templates, not both."))
		case n.TmplID == "" && n.TmplType <= 0:
			errs = append(errs, core.FieldError("tmpl_type", "Choose a template type or one of your templates."))
		}
	default:
		if !slices.Contains(CreatableSlots, n.Slot) {
			errs = append(errs, core.FieldError("slot", "Choose the kind of ad."))
		}
	}
	if len(errs) == 0 && n.wechat().Validate() != nil {
		// The client's own check is the last word on what is sent.
		errs = append(errs, core.FieldError("slot", "WeChat would refuse this ad unit as it is."))
	}
	return errs
}

// CheckUnitName says why name cannot name an ad unit (nil when it can).
func CheckUnitName(name string) *core.Error {
	switch {
	case strings.TrimSpace(name) == "":
		return core.FieldError("name", "An ad unit needs a name.")
	case utf8.RuneCountInString(name) > MaxUnitName:
		return core.FieldError("name", "A name has at most %d characters.", MaxUnitName)
	case core.CleanText(name, 0) != name:
		return core.FieldError("name", "A name cannot contain line breaks or control characters.")
	}
	return nil
}

// StoredUnits returns the stored snapshot of the units without asking
// WeChat; ok is false when none is stored.
func (s *Service) StoredUnits(ctx context.Context, appID string) (snap Snapshot[[]wechat.AdUnit], ok bool, err error) {
	body, at, ok, err := s.Store.Snapshot(ctx, appID, KindUnits)
	if err != nil || !ok {
		return snap, false, err
	}
	if json.Unmarshal(body, &snap.Value) != nil {
		return Snapshot[[]wechat.AdUnit]{}, false, nil
	}
	snap.FetchedAt = at
	return snap, true, nil
}

// TemplatePageSize is the page size the provider's templates are read with.
const TemplatePageSize = 100

// Templates returns the provider's own native templates, each with this Mini
// Program's units that use it, all pages read.
func (s *Service) Templates(ctx context.Context, appID string, refresh bool) (Snapshot[[]wechat.CustomTemplate], error) {
	return read(ctx, s, appID, KindTemplates, refresh, func(ctx context.Context) ([]wechat.CustomTemplate, error) {
		var all []wechat.CustomTemplate
		err := s.withToken(ctx, appID, func(tok string) error {
			all = all[:0]
			for page := 1; ; page++ {
				l, err := s.WeChat.GetAgencyAdUnitList(ctx, tok, wechat.CustomTemplateQuery{Page: page, PageSize: TemplatePageSize, AdSlot: wechat.SlotTemplate, WithBindList: true})
				if err != nil {
					return err
				}
				all = append(all, l.Templates...)
				if len(l.Templates) == 0 || len(all) >= int(l.TotalNum) {
					return nil
				}
			}
		})
		return all, err
	})
}

// UnitCode returns the snippet that shows the unit in the Mini Program (a
// read: not audited, not stored).
func (s *Service) UnitCode(ctx context.Context, appID, adUnitID string) (string, error) {
	var code string
	err := s.withToken(ctx, appID, func(tok string) error {
		var err error
		code, err = s.WeChat.GetAdUnitCode(ctx, tok, adUnitID)
		return err
	})
	return code, err
}
