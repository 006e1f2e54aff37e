package wechatsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// The traffic-master agency family (ams): per Mini Program state for ad
// units, cover ads, blocklists and share ratios, and deterministic ad data
// and settlement. Everything is guarded by Sim.mu.

// InitialShareRatio is the provider's share (percent) in effect for every
// Mini Program until a new default or custom ratio is confirmed.
const InitialShareRatio = 30

// chinaTime is the zone WeChat's dates are in.
var chinaTime = time.FixedZone("CST", 8*3600)

// Dialect says how the simulator writes one action's replies, so tests can
// meet every shape and contradiction WeChat's pages document.
type Dialect struct {
	// Shape is "ret" ({ret, err_msg}), "base_resp" ({base_resp:{ret, err_msg}}),
	// "errcode" ({errcode, errmsg}) or "bare" (success without any code; a
	// failure still carries ret). "" is the action's usual shape.
	Shape string
	// NumbersAsStrings writes every number but the result code as a string.
	NumbersAsStrings bool
	// ObjectsForSingletons writes a one-element ad_unit_size, stat_item or
	// slot_revenue as the object alone.
	ObjectsForSingletons bool
	// AltSpelling writes income for publisher_income (where only one is
	// sent), and cover_scene_list for scene_list.
	AltSpelling bool
	// TemplateIDsAsNumbers writes tmpl_id as a number.
	TemplateIDsAsNumbers bool
}

// usualShape is the shape WeChat has been seen to use per action.
func usualShape(action string) string {
	switch action {
	case wechat.ActionGetAdposGeneral, wechat.ActionGetAdUnitGeneral, wechat.ActionGetSettlement:
		return wechat.ShapeBaseResp
	}
	return wechat.ShapeRet
}

type simUnit struct {
	id, name, slot string
	on             bool
	durMin, durMax int
	tmplType       int
	tmplID         string
	seeded         bool
	width, height  int
}

type ratioChange struct {
	from  string // yyyy-mm-dd (China) from which the ratio applies
	ratio int
}

type amsAccount struct {
	units        []*simUnit // newest first
	coverOn      bool
	coverToggled time.Time
	coverScenes  []int
	block        map[int][]blockEntry
	industries   []string
	ratios       []ratioChange // confirmed ratios, oldest first
	pending      *int          // awaiting the merchant's confirmation
	custom       *int
}

type blockEntry struct{ id, name string }

type failKey struct{ appID, date string }

type customTemplate struct{ id, name, slot string }

// amsSim is the family's state; its zero value is ready (maps are made on first use).
type amsSim struct {
	accounts       map[string]*amsAccount
	openedAt       map[string]time.Time
	dialects       map[string]Dialect
	failDays       map[failKey]int
	defaultRatio   int
	templates      []customTemplate
	unitSeq        int
	templatesReady bool
}

// defaultScenes are the scenes cover ads show in until changed: all of them.
var defaultScenes = []int{1001, 1005, 1006, 1011, 1012, 1013, 1017, 1019, 1020, 1023, 1024, 1035, 1037, 1038, 1089, 1103, 1104}

func (a *amsSim) init() {
	if a.accounts == nil {
		a.accounts = map[string]*amsAccount{}
		a.openedAt = map[string]time.Time{}
		a.dialects = map[string]Dialect{}
		a.failDays = map[failKey]int{}
		a.defaultRatio = InitialShareRatio
	}
	if !a.templatesReady {
		a.templates = []customTemplate{
			{"1000001", "图文卡片", wechat.SlotTemplate},
			{"1000002", "横幅大图", wechat.SlotTemplate},
			{"1000003", "宫格推荐", wechat.SlotTemplate},
		}
		a.templatesReady = true
	}
}

// account returns appID's state, seeding its units on first use. s.mu must be held.
func (s *Sim) account(appID string) *amsAccount {
	s.ams.init()
	if acc, ok := s.ams.accounts[appID]; ok {
		return acc
	}
	acc := &amsAccount{block: map[int][]blockEntry{}, coverScenes: slices.Clone(defaultScenes)}
	p := profileOf(appID)
	for i := len(p.slots) - 1; i >= 0; i-- {
		slot := p.slots[i]
		if slot == wechat.SlotCover {
			acc.coverOn = true
			continue
		}
		acc.units = append(acc.units, seededUnit(appID, slot))
	}
	s.ams.accounts[appID] = acc
	return acc
}

// noteOpened records when the traffic master was opened (2068 counts from it). s.mu must be held.
func (s *Sim) noteOpened(appID string, at time.Time) {
	s.ams.init()
	s.ams.openedAt[appID] = at
	s.dataChanged()
}

// MarkOpened marks appID's traffic master open since at, as if it had been
// opened then, so demos and tests start with accounts that have history.
func (s *Sim) MarkOpened(appID string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opened[appID] = true
	s.noteOpened(appID, at)
}

// SetDialect sets how action is answered from now on (Dialect{} restores the usual).
func (s *Sim) SetDialect(action string, d Dialect) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ams.init()
	s.ams.dialects[action] = d
}

// FailDay makes every ad data and settlement request whose range includes
// date (yyyy-mm-dd) answer code (-202 or 1737, say): for appID, for the
// provider's own requests when appID is the component appid, for everything
// when appID is "". Code 0 clears it.
func (s *Sim) FailDay(appID, date string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ams.init()
	k := failKey{appID, date}
	if code == 0 {
		delete(s.ams.failDays, k)
		return
	}
	s.ams.failDays[k] = code
}

// failedDay returns the code for a failed day in [from, to]. s.mu must be held.
func (s *Sim) failedDay(appID string, from, to time.Time) int {
	s.ams.init()
	for k, code := range s.ams.failDays {
		if k.appID != "" && k.appID != appID {
			continue
		}
		d, err := time.ParseInLocation(time.DateOnly, k.date, chinaTime)
		if err == nil && !d.Before(from) && !d.After(to) {
			return code
		}
	}
	return 0
}

// ConfirmShareRatio is the merchant confirming (re-authorizing) the pending
// ratio: from today it is the ratio in effect. It reports whether one was pending.
func (s *Sim) ConfirmShareRatio(appID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	acc := s.account(appID)
	if acc.pending == nil {
		return false
	}
	today := s.cfg.Now().In(chinaTime).Format(time.DateOnly)
	acc.ratios = append(acc.ratios, ratioChange{from: today, ratio: *acc.pending})
	acc.pending = nil
	s.dataChanged()
	return true
}

// ShareRatio reports the ratio in effect for appID today and the one pending, if any.
func (s *Sim) ShareRatio(appID string) (inEffect int, pending int, isPending bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acc := s.account(appID)
	inEffect = s.ratioOn(acc, s.cfg.Now().In(chinaTime).Format(time.DateOnly))
	if acc.pending != nil {
		return inEffect, *acc.pending, true
	}
	return inEffect, 0, false
}

func (s *Sim) ratioOn(acc *amsAccount, date string) int {
	r := InitialShareRatio
	for _, c := range acc.ratios {
		if c.from <= date {
			r = c.ratio
		}
	}
	return r
}

// amsReply writes a reply in the action's dialect; shape overrides the dialect's when set.
func (s *Sim) amsReply(w http.ResponseWriter, action, shape string, code int, extra map[string]any) {
	s.mu.Lock()
	s.ams.init()
	d := s.ams.dialects[action]
	s.mu.Unlock()
	if shape == "" {
		shape = d.Shape
	}
	if shape == "" {
		shape = usualShape(action)
	}
	out := map[string]any{}
	if len(extra) > 0 {
		out = normalize(extra, d).(map[string]any)
	}
	msg := ""
	if code != 0 {
		msg = message(code)
	}
	switch shape {
	case wechat.ShapeErrcode:
		if code == 0 {
			msg = "ok"
		}
		out["errcode"], out["errmsg"] = code, msg
	case wechat.ShapeBaseResp:
		out["base_resp"] = map[string]any{"ret": code, "err_msg": msg}
	case "bare":
		if code != 0 {
			out["ret"], out["err_msg"] = code, msg
		}
	default:
		out["ret"], out["err_msg"] = code, msg
	}
	writeJSON(w, out)
}

var singletonKeys = map[string]bool{"ad_unit_size": true, "stat_item": true, "slot_revenue": true}

var altSpelling = map[string]string{"publisher_income": "income", "scene_list": "cover_scene_list"}

// normalize turns v into plain JSON values and applies the dialect.
func normalize(v any, d Dialect) any {
	raw, _ := json.Marshal(v)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var plain any
	_ = dec.Decode(&plain)
	return transform("", plain, d)
}

func transform(key string, v any, d Dialect) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			nk := k
			if alt, ok := altSpelling[k]; ok && d.AltSpelling {
				if _, taken := t[alt]; !taken {
					nk = alt
				}
			}
			out[nk] = transform(k, val, d)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, val := range t {
			out[i] = transform(key, val, d)
		}
		if d.ObjectsForSingletons && singletonKeys[key] && len(out) == 1 {
			return out[0]
		}
		return out
	case json.Number:
		if d.NumbersAsStrings {
			return t.String()
		}
	case string:
		if key == "tmpl_id" && d.TemplateIDsAsNumbers && t != "" && strings.Trim(t, "0123456789") == "" {
			return json.Number(t)
		}
	}
	return v
}
