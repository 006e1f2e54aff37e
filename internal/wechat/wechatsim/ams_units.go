package wechatsim

import (
	"fmt"
	"slices"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

func (s *Sim) unitByID(acc *amsAccount, id string) *simUnit {
	for _, u := range acc.units {
		if u.id == id {
			return u
		}
	}
	return nil
}

func (s *Sim) nameTaken(acc *amsAccount, name string, except *simUnit) bool {
	for _, u := range acc.units {
		if u != except && u.name == name {
			return true
		}
	}
	return false
}

func validDurations(lo, hi int) bool {
	return slices.Contains(wechat.RewardVideoMaxDurations, hi) && lo >= wechat.RewardVideoMinDuration && lo <= hi
}

// createAdUnit answers agency_create_adunit. Duplicate names are refused
// with 1803, as community reports say WeChat does.
func (s *Sim) createAdUnit(appID string, body map[string]any) (int, map[string]any) {
	acc := s.account(appID)
	name, slot := str(body, "name"), str(body, "type")
	sp, known := slotTable[slot]
	if name == "" || !known || slot == wechat.SlotCover {
		return 1700, nil
	}
	u := &simUnit{name: name, slot: slot, on: true, width: sp.width, height: sp.height}
	switch slot {
	case wechat.SlotRewardVideo:
		lo, ok1 := num(body, "video_duration_min", 0)
		hi, ok2 := num(body, "video_duration_max", 0)
		if !ok1 || !ok2 || !validDurations(lo, hi) {
			return 1700, nil
		}
		u.durMin, u.durMax = lo, hi
	case wechat.SlotTemplate:
		tmplType, okType := num(body, "tmpl_type", 0)
		tmplID := fmt.Sprint(body["tmpl_id"]) // a string, or a number on one page
		if _, has := body["tmpl_id"]; !has {
			tmplID = ""
		}
		switch {
		case !okType || (tmplType != 0 && tmplID != "") || (tmplType <= 0 && tmplID == ""):
			return 1700, nil
		case tmplID != "" && !slices.ContainsFunc(s.ams.templates, func(t customTemplate) bool { return t.id == tmplID }):
			return 1701, nil
		}
		u.tmplType, u.tmplID = tmplType, tmplID
	}
	if s.nameTaken(acc, name, nil) {
		return 1803, nil
	}
	s.ams.unitSeq++
	u.id = fmt.Sprintf("adunit-%016x", seed(appID, name, fmt.Sprint(s.ams.unitSeq)))
	acc.units = append([]*simUnit{u}, acc.units...)
	return 0, map[string]any{"ad_unit_id": u.id}
}

// updateAdUnit answers agency_update_adunit.
func (s *Sim) updateAdUnit(appID string, body map[string]any) (int, map[string]any) {
	acc := s.account(appID)
	u := s.unitByID(acc, str(body, "ad_unit_id"))
	if u == nil {
		return 1700, nil
	}
	name := str(body, "name")
	on := u.on
	switch str(body, "status") {
	case "AD_UNIT_STATUS_ON":
		on = true
	case "AD_UNIT_STATUS_OFF":
		on = false
	case "":
	default:
		return 1700, nil
	}
	lo, hi := u.durMin, u.durMax
	if _, has := body["video_duration_max"]; has {
		var ok1, ok2 bool
		lo, ok1 = num(body, "video_duration_min", 0)
		hi, ok2 = num(body, "video_duration_max", 0)
		if u.slot != wechat.SlotRewardVideo || !ok1 || !ok2 || !validDurations(lo, hi) {
			return 1700, nil
		}
	}
	if name != "" && s.nameTaken(acc, name, u) {
		return 1803, nil
	}
	if name != "" {
		u.name = name
	}
	u.on, u.durMin, u.durMax = on, lo, hi
	return 0, nil
}

func (s *Sim) unitJSON(appID string, u *simUnit) map[string]any {
	status := wechat.AdUnitOff
	if u.on {
		status = wechat.AdUnitOn
	}
	sizes := []any{}
	if u.width > 0 {
		sizes = append(sizes, map[string]any{"width": u.width, "height": u.height})
	}
	return map[string]any{
		"ad_slot": u.slot, "ad_unit_id": u.id, "ad_unit_name": u.name, "ad_unit_size": sizes,
		"ad_unit_status": status, "ad_unit_type": u.tmplType, "appid": appID,
		"video_duration_min": u.durMin, "video_duration_max": u.durMax,
	}
}

// adUnitList answers agency_get_adunit_list: newest first, never the cover slot.
func (s *Sim) adUnitList(appID string, body map[string]any) (int, map[string]any) {
	pg, ok1 := num(body, "page", 1)
	size, ok2 := num(body, "page_size", 10)
	if !ok1 || !ok2 || pg < 1 || size < 1 {
		return 1700, nil
	}
	slot, id := str(body, "ad_slot"), str(body, "ad_unit_id")
	var match []any
	for _, u := range s.account(appID).units {
		if (slot == "" || u.slot == slot) && (id == "" || u.id == id) {
			match = append(match, s.unitJSON(appID, u))
		}
	}
	lo, hi := page(len(match), pg, size)
	return 0, map[string]any{"ad_unit": append([]any{}, match[lo:hi]...), "total_num": len(match)}
}

// adUnitCode answers agency_get_adunit_code with the snippet for the unit's kind.
func (s *Sim) adUnitCode(appID string, body map[string]any) (int, map[string]any) {
	u := s.unitByID(s.account(appID), str(body, "ad_unit_id"))
	if u == nil {
		return 1700, nil
	}
	code := fmt.Sprintf(`<ad unit-id="%s"></ad>`, u.id)
	switch u.slot {
	case wechat.SlotTemplate:
		code = fmt.Sprintf(`<ad-custom unit-id="%s"></ad-custom>`, u.id)
	case wechat.SlotVideoFeeds, wechat.SlotVideoBegin:
		code = fmt.Sprintf(`<ad unit-id="%s" ad-type="video"></ad>`, u.id)
	}
	return 0, map[string]any{"code": code}
}

// tmplType answers agency_get_tmpl_type for template units.
func (s *Sim) tmplType(appID string, body map[string]any) (int, map[string]any) {
	u := s.unitByID(s.account(appID), str(body, "ad_unit_id"))
	if u == nil || u.slot != wechat.SlotTemplate {
		return 1700, nil
	}
	return 0, map[string]any{"tmpl_type": u.tmplType}
}

// agencyAdUnitList answers get_agency_ad_unit_list: the provider's own
// templates and, when asked, this Mini Program's units that use each.
func (s *Sim) agencyAdUnitList(appID string, body map[string]any) (int, map[string]any) {
	pg, ok1 := num(body, "page", 1)
	size, ok2 := num(body, "page_size", 10)
	withList, ok3 := num(body, "is_return_tmpl_bind_list", 0)
	slot := str(body, "ad_slot")
	if !ok1 || !ok2 || !ok3 || pg < 1 || size < 1 || slot == "" {
		return 1700, nil
	}
	want := str(body, "tmpl_id")
	acc := s.account(appID)
	var rows []any
	for _, t := range s.ams.templates {
		if t.slot != slot || (want != "" && t.id != want) {
			continue
		}
		bound := []any{}
		for _, u := range acc.units {
			if u.tmplID == t.id {
				bound = append(bound, s.unitJSON(appID, u))
			}
		}
		row := map[string]any{"tmpl_id": t.id, "ad_unit_name": t.name, "slot_id": t.slot, "tmpl_bind_total_num": len(bound)}
		if withList == 1 {
			row["tmpl_bind_list"] = bound
		}
		rows = append(rows, row)
	}
	lo, hi := page(len(rows), pg, size)
	return 0, map[string]any{"ad_unit_list": append([]any{}, rows[lo:hi]...), "total_num": len(rows)}
}
