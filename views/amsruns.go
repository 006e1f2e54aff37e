package views

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/ams"
	"github.com/trafficmaster/trafficmaster/internal/i18n"
	"github.com/trafficmaster/trafficmaster/internal/jobs"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// AMSForm is what the bulk ad-operation form holds, as typed.
type AMSForm struct {
	Op         string
	UnitName   string
	UnitSlot   string
	VideoMin   string
	VideoMax   string
	SwitchSlot string
	SwitchOn   string // "1" on, "0" off
	CoverOn    string // "1" on, "0" off
	BlockAdd   string // "1" add, "0" remove
	BlockType  string
	BlockIDs   string // one per line
	Categories []string
	Ratio      string
}

// AMSRunFormVM is the bulk ad-operation form over a selection of accounts.
type AMSRunFormVM struct {
	Base
	// Sel is the selection the form carries on (rows or a filter).
	Sel   RunForm
	All   bool
	Count int
	Form  AMSForm
	// FieldErrs holds a message per form field that could not be used.
	FieldErrs map[string]string
}

// AMSRunConfirmVM asks to confirm an ad-operation run over Count accounts.
type AMSRunConfirmVM struct {
	Base
	Sel    RunForm
	All    bool
	Count  int
	Sample []jobs.Named
	Op     ams.Op
	Params json.RawMessage
	Token  string
	// Rate is the configured global call rate (0: unlimited).
	Rate float64
	// Changed is set when the filter now matches another number of accounts.
	Changed bool
}

// unitSlotChoices are the kinds of unit the form offers to create.
func unitSlotChoices() []string { return ams.UnitSlots }

// switchSlotChoices are the slots whose units the form offers to switch.
func switchSlotChoices() []string { return ams.SwitchableSlots }

// blockKinds name the kinds of blocked advertiser.
var blockKinds = []struct {
	Type  int
	Label string
}{
	{wechat.BlockOfficialAccount, "Official Accounts"},
	{wechat.BlockIOSApp, "iOS apps"},
	{wechat.BlockAndroidApp, "Android apps"},
	{wechat.BlockMiniProgram, "Mini Programs and games"},
}

func blockKindLabel(t int) string {
	for _, k := range blockKinds {
		if k.Type == t {
			return k.Label
		}
	}
	return strconv.Itoa(t)
}

// industryLabels name WeChat's industry codes in English and Chinese. They
// are kept beside the codes, not in the shared translation tables, because
// they are names of WeChat's list rather than the console's sentences.
var industryLabels = map[string][2]string{
	"CHESS":                          {"Chess and card games", "棋牌"},
	"ADULT_SUPPLIES":                 {"Adult supplies", "成人用品"},
	"MEDICAL_HEALTH":                 {"Medical and health", "医疗健康"},
	"INSURANCE":                      {"Insurance", "保险"},
	"SECURITES":                      {"Securities", "证券"},
	"LOAN":                           {"Loans", "贷款"},
	"LIVING_SERVICES_BEAUTY":         {"Beauty services", "生活服务（丽人）"},
	"LIVING_SERVICES_ENTERTAINMENT":  {"Entertainment services", "生活服务（休闲娱乐）"},
	"LIVING_SERVICES_OTHERS":         {"Other local services", "生活服务（其他）"},
	"FOOD_INDUSTRY":                  {"Food industry", "食品行业"},
	"RETAIL_AND_GENERAL_MERCHANDISE": {"Retail and general merchandise", "零售和百货"},
	"FOOD_AND_DRINK":                 {"Food and drink", "餐饮"},
	"TECHNICAL_SERVICE":              {"Technical services", "技术服务"},
}

func industryLabel(b Base, c string) string {
	l, ok := industryLabels[c]
	if !ok {
		return c
	}
	if b.Lang == i18n.ZH {
		return l[1]
	}
	return l[0]
}

func industries() []string { return wechat.AmsCategories }

func checked(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// OpWords says in words what an ad-operation run does to each account.
func OpWords(b Base, op ams.Op, params json.RawMessage) string {
	switch op {
	case ams.OpCreateUnit:
		var p ams.NewUnit
		_ = json.Unmarshal(params, &p)
		if p.Slot == wechat.SlotRewardVideo {
			return b.T("Create ad unit “%s”: %s, videos of %d to %d seconds", p.Name, b.T(SlotLabel(p.Slot)), p.VideoMin, p.VideoMax)
		}
		return b.T("Create ad unit “%s”: %s", p.Name, b.T(SlotLabel(p.Slot)))
	case ams.OpSwitchSlot:
		var p ams.SlotSwitch
		_ = json.Unmarshal(params, &p)
		if p.On {
			return b.T("Switch on every ad unit of kind %s", b.T(SlotLabel(p.Slot)))
		}
		return b.T("Switch off every ad unit of kind %s", b.T(SlotLabel(p.Slot)))
	case ams.OpSwitchCover:
		var p ams.CoverSwitch
		_ = json.Unmarshal(params, &p)
		if p.On {
			return b.T("Switch cover ads on")
		}
		return b.T("Switch cover ads off")
	case ams.OpCoverScenes:
		return b.T("Set cover-ad scenes")
	case ams.OpBlocklist:
		var p ams.BlockChange
		_ = json.Unmarshal(params, &p)
		kind := ""
		if len(p.Entries) > 0 {
			kind = b.T(blockKindLabel(p.Entries[0].Type))
		}
		if p.Add {
			return b.T("Block %d advertisers (%s)", len(p.Entries), kind)
		}
		return b.T("Unblock %d advertisers (%s)", len(p.Entries), kind)
	case ams.OpIndustries:
		var p ams.Industries
		_ = json.Unmarshal(params, &p)
		if len(p.Categories) == 0 {
			return b.T("Unblock every industry")
		}
		return b.T("Block exactly these %d industries", len(p.Categories))
	case ams.OpShareRatio:
		var p ams.ShareRatio
		_ = json.Unmarshal(params, &p)
		return b.T("Set the custom share ratio to %d%%", p.Ratio)
	}
	return string(op)
}

// RunName names what a run does: its action, or its ad operation in words.
func RunName(b Base, r *jobs.Run) string {
	if r.Op != "" {
		return OpWords(b, r.Op, r.Params)
	}
	return actionName(b, string(r.Action))
}

// opNames label the operations in the form.
var opNames = map[ams.Op]string{
	ams.OpCreateUnit:  "Create ad unit",
	ams.OpSwitchSlot:  "Switch ad units on or off",
	ams.OpSwitchCover: "Switch cover ads",
	ams.OpBlocklist:   "Change blocked advertisers",
	ams.OpIndustries:  "Set blocked industries",
	ams.OpShareRatio:  "Set custom share ratio",
}

// formOps are the operations the form offers, in order (cover-ad scenes are
// set per account).
var formOps = []ams.Op{ams.OpCreateUnit, ams.OpSwitchSlot, ams.OpSwitchCover, ams.OpBlocklist, ams.OpIndustries, ams.OpShareRatio}

// UnknownCreations counts a unit-creation run's accounts whose creation may
// have reached WeChat without an answer: they need a check, not a retry.
func UnknownCreations(r *jobs.Run) int {
	if r.Op != ams.OpCreateUnit {
		return 0
	}
	return r.Outcomes[string(traffic.OutcomeUnknown)] + r.Outcomes[string(traffic.OutcomeInterrupted)]
}

// estimate is how long count calls take at rate, in whole seconds and at
// least one (0 when unlimited).
func estimate(count int, rate float64) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(math.Ceil(float64(count)/rate)) * time.Second
}
