package wechat

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Ad unit statuses: the list reports numbers, update takes strings.
const (
	AdUnitOn  = 1
	AdUnitOff = 2

	adUnitStatusOn  = "AD_UNIT_STATUS_ON"
	adUnitStatusOff = "AD_UNIT_STATUS_OFF"
)

// Reward-video duration limits: the shortest is 6 s, the longest one of 15, 30 or 60 s.
const RewardVideoMinDuration = 6

// RewardVideoMaxDurations are the allowed longest durations of a reward video, in seconds.
var RewardVideoMaxDurations = []int{15, 30, 60}

// MaxAdUnitPageSize is the page size the unit list is read with by AllAdUnits.
const MaxAdUnitPageSize = 100

// AdUnitSize is one allowed size of an ad unit.
type AdUnitSize struct {
	Width  Int `json:"width"`
	Height Int `json:"height"`
}

// AdUnit is one ad unit of a Mini Program.
type AdUnit struct {
	AdSlot           string           `json:"ad_slot"`
	AdUnitID         string           `json:"ad_unit_id"`
	Name             string           `json:"ad_unit_name"`
	Sizes            List[AdUnitSize] `json:"ad_unit_size"` // an array, or one object
	Status           Int              `json:"ad_unit_status"`
	Type             Int              `json:"ad_unit_type"`
	AppID            string           `json:"appid"`
	VideoDurationMin Int              `json:"video_duration_min"`
	VideoDurationMax Int              `json:"video_duration_max"`
}

// On reports whether the unit is switched on.
func (u AdUnit) On() bool { return u.Status == AdUnitOn }

// AdUnitList is one page of agency_get_adunit_list, newest first; it never lists the cover slot.
type AdUnitList struct {
	AdUnits  []AdUnit `json:"ad_unit"`
	TotalNum Int      `json:"total_num"`
}

// AdUnitQuery selects units; empty fields select all.
type AdUnitQuery struct {
	Page, PageSize int
	AdSlot         string
	AdUnitID       string
}

// GetAdUnitList lists a Mini Program's ad units; adSlot may be empty for all slots.
func (c *Client) GetAdUnitList(ctx context.Context, authorizerAccessToken string, page, pageSize int, adSlot string) (AdUnitList, error) {
	return c.ListAdUnits(ctx, authorizerAccessToken, AdUnitQuery{Page: page, PageSize: pageSize, AdSlot: adSlot})
}

// ListAdUnits reads one page of a Mini Program's ad units.
func (c *Client) ListAdUnits(ctx context.Context, authorizerAccessToken string, q AdUnitQuery) (AdUnitList, error) {
	if q.Page < 1 || q.PageSize < 1 {
		return AdUnitList{}, fmt.Errorf("wechat: ad unit page %d size %d: both start at 1", q.Page, q.PageSize)
	}
	body := map[string]any{"page": q.Page, "page_size": q.PageSize}
	if q.AdSlot != "" {
		body["ad_slot"] = q.AdSlot
	}
	if q.AdUnitID != "" {
		body["ad_unit_id"] = q.AdUnitID
	}
	var out AdUnitList
	_, err := c.mini(ctx, authorizerAccessToken, ActionGetAdUnitList, body, &out)
	return out, err
}

// AllAdUnits reads every page of a Mini Program's units (adSlot may be empty).
// It stops at the first error, returning what it has.
func (c *Client) AllAdUnits(ctx context.Context, authorizerAccessToken, adSlot string) ([]AdUnit, error) {
	var all []AdUnit
	for page := 1; ; page++ {
		l, err := c.ListAdUnits(ctx, authorizerAccessToken, AdUnitQuery{Page: page, PageSize: MaxAdUnitPageSize, AdSlot: adSlot})
		if err != nil {
			return all, err
		}
		all = append(all, l.AdUnits...)
		if len(l.AdUnits) == 0 || len(all) >= int(l.TotalNum) {
			return all, nil
		}
	}
}

// NewAdUnit describes a unit to create. Reward videos need the duration range;
// template ads need either a WeChat template type or the provider's own template id.
type NewAdUnit struct {
	Name             string
	Slot             string // one of the Slot constants, except SlotCover
	VideoDurationMin int    // reward video only
	VideoDurationMax int    // reward video only: 15, 30 or 60
	TmplType         int    // template ads: WeChat's template type
	TmplID           string // template ads: the provider's own template (get_agency_ad_unit_list)
}

// ErrInvalidAdUnit is returned, before anything is sent, for a unit WeChat would refuse with 1700.
var ErrInvalidAdUnit = errors.New("wechat: invalid ad unit")

// Validate reports, before anything is sent, why WeChat would refuse the unit (1700).
func (n NewAdUnit) Validate() error {
	_, err := n.body()
	return err
}

func (n NewAdUnit) body() (map[string]any, error) {
	bad := func(why string) error { return fmt.Errorf("%w: %s", ErrInvalidAdUnit, why) }
	if n.Name == "" {
		return nil, bad("a name is required")
	}
	body := map[string]any{"name": n.Name, "type": n.Slot}
	switch n.Slot {
	case SlotBanner, SlotInterstitial, SlotVideoFeeds, SlotVideoBegin, SlotBox:
	case SlotRewardVideo:
		if err := checkDurations(n.VideoDurationMin, n.VideoDurationMax); err != nil {
			return nil, bad(err.Error())
		}
		body["video_duration_min"] = n.VideoDurationMin
		body["video_duration_max"] = n.VideoDurationMax
	case SlotTemplate:
		switch {
		case n.TmplID != "" && n.TmplType != 0:
			return nil, bad("a template ad takes a template type or a template id, not both")
		case n.TmplID != "":
			body["tmpl_id"] = n.TmplID // a string, as in WeChat's samples
		case n.TmplType > 0:
			body["tmpl_type"] = n.TmplType
		default:
			return nil, bad("a template ad needs a template type or a template id")
		}
	case SlotCover:
		return nil, bad("the cover slot has no units; switch it with SetCoverAdposStatus")
	default:
		return nil, bad(fmt.Sprintf("unknown slot %q", n.Slot))
	}
	return body, nil
}

func checkDurations(lo, hi int) error {
	if !slices.Contains(RewardVideoMaxDurations, hi) {
		return fmt.Errorf("the longest reward video must be one of %v seconds, not %d", RewardVideoMaxDurations, hi)
	}
	if lo < RewardVideoMinDuration || lo > hi {
		return fmt.Errorf("the shortest reward video must be %d..%d seconds, not %d", RewardVideoMinDuration, hi, lo)
	}
	return nil
}

// CreateAdUnit creates a unit and returns its id.
func (c *Client) CreateAdUnit(ctx context.Context, authorizerAccessToken string, n NewAdUnit) (string, error) {
	body, err := n.body()
	if err != nil {
		return "", err
	}
	var out struct {
		AdUnitID Text `json:"ad_unit_id"`
	}
	raw, err := c.mini(ctx, authorizerAccessToken, ActionCreateAdUnit, body, &out)
	if err != nil {
		return "", err
	}
	if out.AdUnitID == "" {
		return "", missing(raw, "ad_unit_id")
	}
	return string(out.AdUnitID), nil
}

// AdUnitUpdate renames a unit and switches it on or off. The reward-video
// durations are sent only when set.
type AdUnitUpdate struct {
	AdUnitID         string
	Name             string
	On               bool
	VideoDurationMin int
	VideoDurationMax int
}

// UpdateAdUnit changes a unit. (WeChat's own example wrongly shows the create action.)
func (c *Client) UpdateAdUnit(ctx context.Context, authorizerAccessToken string, u AdUnitUpdate) error {
	if u.AdUnitID == "" || u.Name == "" {
		return fmt.Errorf("%w: an update needs the unit id and its name", ErrInvalidAdUnit)
	}
	status := adUnitStatusOff
	if u.On {
		status = adUnitStatusOn
	}
	body := map[string]any{"ad_unit_id": u.AdUnitID, "name": u.Name, "status": status}
	if u.VideoDurationMin != 0 || u.VideoDurationMax != 0 {
		if err := checkDurations(u.VideoDurationMin, u.VideoDurationMax); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidAdUnit, err)
		}
		body["video_duration_min"] = u.VideoDurationMin
		body["video_duration_max"] = u.VideoDurationMax
	}
	_, err := c.mini(ctx, authorizerAccessToken, ActionUpdateAdUnit, body, nil)
	return err
}

// GetAdUnitCode returns the snippet to paste into the Mini Program, such as <ad unit-id="…"></ad>.
func (c *Client) GetAdUnitCode(ctx context.Context, authorizerAccessToken, adUnitID string) (string, error) {
	var out struct {
		Code string `json:"code"`
	}
	raw, err := c.mini(ctx, authorizerAccessToken, ActionGetAdUnitCode, map[string]any{"ad_unit_id": adUnitID}, &out)
	if err != nil {
		return "", err
	}
	if out.Code == "" {
		return "", missing(raw, "code")
	}
	return out.Code, nil
}

// GetTmplType returns the template type of a template ad unit (a number or a string on the wire).
func (c *Client) GetTmplType(ctx context.Context, authorizerAccessToken, adUnitID string) (int, error) {
	var out struct {
		TmplType Int `json:"tmpl_type"`
	}
	_, err := c.mini(ctx, authorizerAccessToken, ActionGetTmplType, map[string]any{"ad_unit_id": adUnitID}, &out)
	return int(out.TmplType), err
}

// CustomTemplate is one of the provider's own native templates and the units that use it.
type CustomTemplate struct {
	TmplID    Text     `json:"tmpl_id"`
	Name      string   `json:"ad_unit_name"`
	SlotID    string   `json:"slot_id"`
	BindTotal Int      `json:"tmpl_bind_total_num"`
	BindList  []AdUnit `json:"tmpl_bind_list"`
}

// CustomTemplateList is one page of get_agency_ad_unit_list.
type CustomTemplateList struct {
	Templates []CustomTemplate `json:"ad_unit_list"`
	TotalNum  Int              `json:"total_num"`
}

// CustomTemplateQuery selects templates; AdSlot is required by WeChat.
type CustomTemplateQuery struct {
	Page, PageSize int
	AdSlot         string
	TmplID         string
	WithBindList   bool // is_return_tmpl_bind_list: also list the units using each template
}

// GetAgencyAdUnitList lists the provider's custom templates (get_agency_ad_unit_list).
func (c *Client) GetAgencyAdUnitList(ctx context.Context, authorizerAccessToken string, q CustomTemplateQuery) (CustomTemplateList, error) {
	if q.AdSlot == "" {
		return CustomTemplateList{}, errors.New("wechat: get_agency_ad_unit_list needs ad_slot")
	}
	if q.Page < 1 || q.PageSize < 1 {
		return CustomTemplateList{}, fmt.Errorf("wechat: template page %d size %d: both start at 1", q.Page, q.PageSize)
	}
	body := map[string]any{"page": q.Page, "page_size": q.PageSize, "ad_slot": q.AdSlot, "is_return_tmpl_bind_list": 0}
	if q.WithBindList {
		body["is_return_tmpl_bind_list"] = 1
	}
	if q.TmplID != "" {
		body["tmpl_id"] = q.TmplID
	}
	var out CustomTemplateList
	_, err := c.mini(ctx, authorizerAccessToken, ActionGetAgencyAdUnitList, body, &out)
	return out, err
}
