package ams

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// NewUnit is what creating an ad unit asks (the params of unit_create).
type NewUnit struct {
	Name     string `json:"name"`
	Slot     string `json:"slot"`
	VideoMin int    `json:"video_duration_min,omitempty"`
	VideoMax int    `json:"video_duration_max,omitempty"`
	TmplType int    `json:"tmpl_type,omitempty"`
	TmplID   string `json:"tmpl_id,omitempty"`
}

func (n NewUnit) wechat() wechat.NewAdUnit {
	return wechat.NewAdUnit{Name: n.Name, Slot: n.Slot, VideoDurationMin: n.VideoMin, VideoDurationMax: n.VideoMax, TmplType: n.TmplType, TmplID: n.TmplID}
}

// UnitChange is what changing one ad unit asks: WeChat takes the name and
// the status together, so both are always sent.
type UnitChange struct {
	AdUnitID string `json:"ad_unit_id"`
	Name     string `json:"name"`
	On       bool   `json:"on"`
	VideoMin int    `json:"video_duration_min,omitempty"`
	VideoMax int    `json:"video_duration_max,omitempty"`
}

// SlotSwitch switches every unit of one slot on or off (one audited write per unit that changes).
type SlotSwitch struct {
	Slot string `json:"slot"`
	On   bool   `json:"on"`
}

// CoverSwitch switches cover ads on or off.
type CoverSwitch struct {
	On bool `json:"on"`
}

// CoverScenes sets the scenes cover ads show in.
type CoverScenes struct {
	Scenes []int `json:"scenes"`
}

// BlockChange adds or removes blocked advertisers.
type BlockChange struct {
	Add     bool                `json:"add"`
	Entries []wechat.BlockEntry `json:"entries"`
}

// Industries sets the blocked industries (the whole list).
type Industries struct {
	Categories []string `json:"categories"`
}

// ShareRatio sets the Mini Program's custom share ratio (the provider's
// percentage); it takes effect when the merchant confirms it.
type ShareRatio struct {
	Ratio int `json:"ratio"`
}

// CreateUnit creates an ad unit and returns the attempt and the new unit's id.
func (s *Service) CreateUnit(ctx context.Context, r Request, p NewUnit) (*traffic.Attempt, string, error) {
	if err := p.wechat().Validate(); err != nil {
		return nil, "", core.FieldError("name", "%s", err.Error())
	}
	var id string
	a, err := s.Writer.Write(ctx, r.write(traffic.ActionUnitCreate, p, func(ctx context.Context, tok string) ([]byte, error) {
		var err error
		id, err = s.WeChat.CreateAdUnit(ctx, tok, p.wechat())
		return unitReply(id), err
	}))
	s.forget(ctx, a, KindUnits, KindTemplates)
	return a, id, err
}

// refuse sends the request of staff who may not act (viewers) straight to
// the audited write, before anything is checked: the write records the
// refusal and answers forbidden, so a viewer is refused whatever was asked.
// refused is false for everyone else.
func (s *Service) refuse(ctx context.Context, r Request, action traffic.Action, params any) (refused bool, a *traffic.Attempt, err error) {
	if r.Staff == nil || r.Staff.CanOperate() {
		return false, nil, nil
	}
	a, err = s.Writer.Write(ctx, r.write(action, params, func(context.Context, string) ([]byte, error) {
		return nil, errNotAllowed // never reached: the write refuses the role first
	}))
	if err == nil {
		err = errNotAllowed
	}
	return true, a, err
}

var errNotAllowed = core.Errorf(core.EFORBIDDEN, "Your role does not allow this.")

// unitReply is the part of a creation's answer worth keeping with the attempt.
func unitReply(id string) []byte {
	if id == "" {
		return nil
	}
	b, _ := json.Marshal(map[string]string{"ad_unit_id": id})
	return b
}

// ChangeUnit renames a unit or switches it on or off.
func (s *Service) ChangeUnit(ctx context.Context, r Request, p UnitChange) (*traffic.Attempt, error) {
	if p.AdUnitID == "" || p.Name == "" {
		return nil, core.FieldError("name", "An ad unit needs a name.")
	}
	a, err := s.Writer.Write(ctx, r.write(traffic.ActionUnitUpdate, p, func(ctx context.Context, tok string) ([]byte, error) {
		return nil, s.WeChat.UpdateAdUnit(ctx, tok, wechat.AdUnitUpdate{AdUnitID: p.AdUnitID, Name: p.Name, On: p.On, VideoDurationMin: p.VideoMin, VideoDurationMax: p.VideoMax})
	}))
	s.forget(ctx, a, KindUnits, KindTemplates)
	return a, err
}

// SwitchSlot switches every unit of a slot that is not already so: it reads
// the units (not audited) and changes each (audited, one attempt per unit).
func (s *Service) SwitchSlot(ctx context.Context, r Request, p SlotSwitch) ([]*traffic.Attempt, error) {
	var units []wechat.AdUnit
	err := s.withToken(ctx, r.AppID, func(tok string) error {
		if r.Pace != nil {
			if err := r.Pace(ctx); err != nil {
				return err
			}
		}
		var err error
		units, err = s.WeChat.AllAdUnits(ctx, tok, p.Slot)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list the ad units of %s: %w", r.AppID, err)
	}
	var out []*traffic.Attempt
	for _, u := range units {
		if u.On() == p.On {
			continue
		}
		a, err := s.ChangeUnit(ctx, r, UnitChange{AdUnitID: u.AdUnitID, Name: u.Name, On: p.On, VideoMin: int(u.VideoDurationMin), VideoMax: int(u.VideoDurationMax)})
		if a != nil {
			out = append(out, a)
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// SwitchCover switches cover ads on or off.
func (s *Service) SwitchCover(ctx context.Context, r Request, p CoverSwitch) (*traffic.Attempt, error) {
	if refused, a, err := s.refuse(ctx, r, traffic.ActionCoverStatus, p); refused {
		return a, err
	}
	a, err := s.Writer.Write(ctx, r.write(traffic.ActionCoverStatus, p, func(ctx context.Context, tok string) ([]byte, error) {
		return nil, s.WeChat.SetCoverAdposStatus(ctx, tok, p.On)
	}))
	s.forget(ctx, a, KindCover)
	return a, err
}

// SetCoverScenes sets the scenes cover ads show in.
func (s *Service) SetCoverScenes(ctx context.Context, r Request, p CoverScenes) (*traffic.Attempt, error) {
	if refused, a, err := s.refuse(ctx, r, traffic.ActionCoverScene, p); refused {
		return a, err
	}
	if len(p.Scenes) == 0 {
		return nil, core.FieldError("scene", "Choose at least one scene.")
	}
	a, err := s.Writer.Write(ctx, r.write(traffic.ActionCoverScene, p, func(ctx context.Context, tok string) ([]byte, error) {
		return nil, s.WeChat.SetCoverAdposScene(ctx, tok, wechat.SceneList(p.Scenes))
	}))
	s.forget(ctx, a, KindCover)
	return a, err
}

// ChangeBlocklist adds or removes blocked advertisers.
func (s *Service) ChangeBlocklist(ctx context.Context, r Request, p BlockChange) (*traffic.Attempt, error) {
	if refused, a, err := s.refuse(ctx, r, traffic.ActionBlocklist, p); refused {
		return a, err
	}
	if len(p.Entries) == 0 {
		return nil, core.FieldError("id", "Name at least one advertiser.")
	}
	for _, e := range p.Entries {
		if _, ok := wechat.BlockCaps[e.Type]; !ok || e.ID == "" {
			return nil, core.FieldError("id", "Each advertiser needs a kind and an id.")
		}
	}
	a, err := s.Writer.Write(ctx, r.write(traffic.ActionBlocklist, p, func(ctx context.Context, tok string) ([]byte, error) {
		return nil, s.WeChat.SetBlackList(ctx, tok, p.Add, p.Entries)
	}))
	s.forget(ctx, a, KindBlocklist)
	return a, err
}

// SetIndustries sets the blocked industries.
func (s *Service) SetIndustries(ctx context.Context, r Request, p Industries) (*traffic.Attempt, error) {
	if refused, a, err := s.refuse(ctx, r, traffic.ActionBlockIndustry, p); refused {
		return a, err
	}
	a, err := s.Writer.Write(ctx, r.write(traffic.ActionBlockIndustry, p, func(ctx context.Context, tok string) ([]byte, error) {
		return nil, s.WeChat.SetAmsCategoryBlacklist(ctx, tok, p.Categories)
	}))
	s.forget(ctx, a, KindBlocklist)
	return a, err
}

// SetShareRatio sets the custom share ratio (with the component token).
func (s *Service) SetShareRatio(ctx context.Context, r Request, p ShareRatio) (*traffic.Attempt, error) {
	if refused, a, err := s.refuse(ctx, r, traffic.ActionShareRatio, p); refused {
		return a, err
	}
	if p.Ratio < 0 || p.Ratio > 100 {
		return nil, core.FieldError("ratio", "The ratio is a percentage from 0 to 100.")
	}
	appID := r.AppID
	a, err := s.Writer.Write(ctx, r.write(traffic.ActionShareRatio, p, func(ctx context.Context, tok string) ([]byte, error) {
		return nil, s.WeChat.SetCustomShareRatio(ctx, tok, appID, p.Ratio)
	}))
	s.forget(ctx, a, KindRatio)
	return a, err
}

// Op names a write a bulk run applies to each account.
type Op string

// The bulk operations; each one's params are the type beside it.
const (
	OpCreateUnit  Op = "unit_create"    // NewUnit
	OpSwitchSlot  Op = "slot_switch"    // SlotSwitch
	OpSwitchCover Op = "cover_status"   // CoverSwitch
	OpCoverScenes Op = "cover_scene"    // CoverScenes
	OpBlocklist   Op = "blocklist"      // BlockChange
	OpIndustries  Op = "block_industry" // Industries
	OpShareRatio  Op = "share_ratio"    // ShareRatio
)

// Ops lists the bulk operations in the order the run form offers them.
var Ops = []Op{OpCreateUnit, OpSwitchSlot, OpSwitchCover, OpCoverScenes, OpBlocklist, OpIndustries, OpShareRatio}

// Apply runs one bulk operation with its JSON params for one account and
// returns the attempts it made (none when nothing needed changing).
func (s *Service) Apply(ctx context.Context, r Request, op Op, params json.RawMessage) ([]*traffic.Attempt, error) {
	one := func(a *traffic.Attempt, err error) ([]*traffic.Attempt, error) {
		if a == nil {
			return nil, err
		}
		return []*traffic.Attempt{a}, err
	}
	switch op {
	case OpCreateUnit:
		var p NewUnit
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		a, _, err := s.CreateUnit(ctx, r, p)
		return one(a, err)
	case OpSwitchSlot:
		var p SlotSwitch
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		return s.SwitchSlot(ctx, r, p)
	case OpSwitchCover:
		var p CoverSwitch
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		return one(s.SwitchCover(ctx, r, p))
	case OpCoverScenes:
		var p CoverScenes
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		return one(s.SetCoverScenes(ctx, r, p))
	case OpBlocklist:
		var p BlockChange
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		return one(s.ChangeBlocklist(ctx, r, p))
	case OpIndustries:
		var p Industries
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		return one(s.SetIndustries(ctx, r, p))
	case OpShareRatio:
		var p ShareRatio
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		return one(s.SetShareRatio(ctx, r, p))
	}
	return nil, core.Errorf(core.EINVALID, "Unknown operation.")
}

func decode(params json.RawMessage, v any) error {
	if err := json.Unmarshal(params, v); err != nil {
		return core.Errorf(core.EINVALID, "The operation's settings could not be read.")
	}
	return nil
}
