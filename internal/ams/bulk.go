package ams

import (
	"encoding/json"
	"slices"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// ParseOp returns the bulk operation named s, if there is one.
func ParseOp(s string) (Op, bool) {
	for _, o := range Ops {
		if string(o) == s {
			return o, true
		}
	}
	return "", false
}

// Validate checks a bulk operation's settings before a run is started over
// many accounts, so a mistake is caught once on the form rather than by
// WeChat for every account. Errors name the form field they are about.
func Validate(op Op, params json.RawMessage) error {
	switch op {
	case OpCreateUnit:
		var p NewUnit
		if err := decode(params, &p); err != nil {
			return err
		}
		if p.Name == "" {
			return core.FieldError("unit_name", "Name the new ad unit.")
		}
		if p.Slot == wechat.SlotRewardVideo {
			if !slices.Contains(wechat.RewardVideoMaxDurations, p.VideoMax) {
				return core.FieldError("video_max", "The longest reward video is 15, 30 or 60 seconds.")
			}
			if p.VideoMin < wechat.RewardVideoMinDuration || p.VideoMin > p.VideoMax {
				return core.FieldError("video_min", "The shortest reward video is from %d seconds up to the longest.", wechat.RewardVideoMinDuration)
			}
		}
		if err := p.wechat().Validate(); err != nil {
			return core.FieldError("unit_slot", "Choose the kind of ad unit.")
		}
	case OpSwitchSlot:
		var p SlotSwitch
		if err := decode(params, &p); err != nil {
			return err
		}
		if !slices.Contains(SwitchableSlots, p.Slot) {
			return core.FieldError("switch_slot", "Choose the kind of ad unit.")
		}
	case OpSwitchCover:
		var p CoverSwitch
		return decode(params, &p)
	case OpCoverScenes:
		var p CoverScenes
		return decode(params, &p)
	case OpBlocklist:
		var p BlockChange
		if err := decode(params, &p); err != nil {
			return err
		}
		if len(p.Entries) == 0 {
			return core.FieldError("block_ids", "Enter at least one advertiser id.")
		}
		for _, e := range p.Entries {
			limit, ok := wechat.BlockCaps[e.Type]
			if !ok || e.ID == "" {
				return core.FieldError("block_type", "Choose the kind of advertiser.")
			}
			if p.Add && len(p.Entries) > limit {
				return core.FieldError("block_ids", "WeChat blocks at most %d advertisers of this kind.", limit)
			}
		}
	case OpIndustries:
		var p Industries
		if err := decode(params, &p); err != nil {
			return err
		}
		for _, c := range p.Categories {
			if !slices.Contains(wechat.AmsCategories, c) {
				return core.FieldError("categories", "Tick only the industries listed.")
			}
		}
	case OpShareRatio:
		var p ShareRatio
		if err := decode(params, &p); err != nil {
			return err
		}
		if p.Ratio < 0 || p.Ratio > 100 {
			return core.FieldError("ratio", "Enter a whole percentage from 0 to 100.")
		}
	default:
		return core.FieldError("op", "Choose an operation.")
	}
	return nil
}

// UnitSlots are the kinds of ad unit a bulk run can create (template ads
// need a template chosen per account, and cover ads have no units).
var UnitSlots = []string{wechat.SlotBanner, wechat.SlotRewardVideo, wechat.SlotInterstitial, wechat.SlotVideoFeeds, wechat.SlotVideoBegin, wechat.SlotBox}

// SwitchableSlots are the slots whose units a bulk run can switch on or off.
var SwitchableSlots = []string{wechat.SlotBanner, wechat.SlotRewardVideo, wechat.SlotInterstitial, wechat.SlotVideoFeeds, wechat.SlotVideoBegin, wechat.SlotBox, wechat.SlotTemplate}
