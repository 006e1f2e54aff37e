package wechatsim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

const coverInterval = time.Hour

// coverNextOpen is when the cover slot may next be switched: an hour after
// the last switch and an hour after the traffic master was opened.
func (s *Sim) coverNextOpen(appID string, acc *amsAccount) time.Time {
	next := acc.coverToggled.Add(coverInterval)
	if at, ok := s.ams.openedAt[appID]; ok && at.Add(coverInterval).After(next) {
		next = at.Add(coverInterval)
	}
	return next
}

func (s *Sim) coverStatus(appID string, _ map[string]any) (int, map[string]any) {
	acc := s.account(appID)
	status := wechat.CoverOff
	if acc.coverOn {
		status = wechat.CoverOn
	}
	next := int64(0)
	if n := s.coverNextOpen(appID, acc); n.After(s.cfg.Now()) {
		next = n.Unix()
	}
	return 0, map[string]any{"status": status, "next_open_time": next}
}

// setCoverStatus applies WeChat's limits in its order: already on (2067),
// within an hour of opening (2068), within an hour of the last switch (2008).
func (s *Sim) setCoverStatus(appID string, body map[string]any) (int, map[string]any) {
	acc := s.account(appID)
	status, ok := num(body, "status", 0)
	if !ok || (status != wechat.CoverOn && status != wechat.CoverOff) {
		return 1700, nil
	}
	now := s.cfg.Now()
	on := status == wechat.CoverOn
	switch {
	case on && acc.coverOn:
		return 2067, nil
	case !on && !acc.coverOn:
		return 0, nil
	}
	if at, ok := s.ams.openedAt[appID]; ok && on && now.Before(at.Add(coverInterval)) {
		return 2068, nil
	}
	if !acc.coverToggled.IsZero() && now.Before(acc.coverToggled.Add(coverInterval)) {
		return 2008, nil
	}
	acc.coverOn, acc.coverToggled = on, now
	return 0, nil
}

func (s *Sim) coverScene(appID string, _ map[string]any) (int, map[string]any) {
	acc := s.account(appID)
	parts := make([]string, len(acc.coverScenes))
	for i, v := range acc.coverScenes {
		parts[i] = strconv.Itoa(v)
	}
	return 0, map[string]any{"scene_list": strings.Join(parts, ",")}
}

func (s *Sim) setCoverScene(appID string, body map[string]any) (int, map[string]any) {
	raw, ok := body["cover_scene_list"].(string)
	if !ok || strings.TrimSpace(raw) == "" {
		return 1700, nil
	}
	var scenes []int
	for _, p := range strings.Split(raw, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1000 || n > 9999 {
			return 1700, nil
		}
		if !slices.Contains(scenes, n) {
			scenes = append(scenes, n)
		}
	}
	s.account(appID).coverScenes = scenes
	return 0, nil
}

var blockKeys = map[int]string{
	wechat.BlockOfficialAccount: "blacklist_biz",
	wechat.BlockIOSApp:          "blacklist_ios",
	wechat.BlockAndroidApp:      "blacklist_android",
	wechat.BlockMiniProgram:     "blacklist_weapp",
}

func blockJSON(kind int, e blockEntry) map[string]any {
	m := map[string]any{"id": e.id, "name": e.name}
	switch kind {
	case wechat.BlockIOSApp:
		m["url"] = "https://apps.apple.com/cn/app/id" + e.id
	case wechat.BlockAndroidApp:
		m["url"] = "https://app.mi.com/details?id=" + e.id
	default:
		m["icon"] = "http://mmbiz.qpic.cn/mmbiz_png/" + e.id + "/0"
	}
	return m
}

func (s *Sim) blackList(appID string, _ map[string]any) (int, map[string]any) {
	acc := s.account(appID)
	out := map[string]any{}
	for kind, key := range blockKeys {
		list := []any{}
		for _, e := range acc.block[kind] {
			list = append(list, blockJSON(kind, e))
		}
		out[key] = list
	}
	return 0, out
}

// setBlackList answers agency_set_black_list. list must be a JSON string
// (an array is refused, as WeChat does); caps per kind give 2035.
func (s *Sim) setBlackList(appID string, body map[string]any) (int, map[string]any) {
	op, ok := num(body, "op", 0)
	raw, isString := body["list"].(string)
	if !ok || (op != 1 && op != 2) || !isString {
		return 1700, nil
	}
	var entries []struct {
		Type json.Number `json:"type"`
		ID   any         `json:"id"`
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&entries); err != nil || len(entries) == 0 {
		return 1700, nil
	}
	acc := s.account(appID)
	next := map[int][]blockEntry{}
	for k, v := range acc.block {
		next[k] = slices.Clone(v)
	}
	for _, e := range entries {
		kind64, err := e.Type.Int64()
		kind := int(kind64)
		id := fmt.Sprint(e.ID)
		if _, known := wechat.BlockCaps[kind]; err != nil || !known || e.ID == nil || id == "" {
			return 1700, nil
		}
		has := slices.ContainsFunc(next[kind], func(b blockEntry) bool { return b.id == id })
		switch {
		case op == 1 && !has:
			next[kind] = append(next[kind], blockEntry{id: id, name: fmt.Sprintf("广告主%s", id)})
		case op == 2:
			next[kind] = slices.DeleteFunc(next[kind], func(b blockEntry) bool { return b.id == id })
		}
	}
	for kind, list := range next {
		if len(list) > wechat.BlockCaps[kind] {
			return 2035, nil
		}
	}
	acc.block = next
	return 0, nil
}

func (s *Sim) industries(appID string, _ map[string]any) (int, map[string]any) {
	return 0, map[string]any{"ams_category": strings.Join(s.account(appID).industries, "|")}
}

func (s *Sim) setIndustries(appID string, body map[string]any) (int, map[string]any) {
	raw, ok := body["ams_category"].(string)
	if !ok {
		return 1700, nil
	}
	var cats []string
	for _, c := range strings.Split(raw, "|") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		if !slices.Contains(wechat.AmsCategories, c) {
			return 1700, nil
		}
		if !slices.Contains(cats, c) {
			cats = append(cats, c)
		}
	}
	s.account(appID).industries = cats
	return 0, nil
}
