package views

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/ams"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// AdUnitsVM is the ad units of one Mini Program: the list WeChat last gave
// with its fetch time, and the forms that change them (adunits.templ).
type AdUnitsVM struct {
	Base
	Account *traffic.Account
	CanAct  bool
	Units   []wechat.AdUnit
	// FetchedAt is when WeChat gave the list (zero when it never has).
	FetchedAt time.Time
	// Problem is why the last read failed; Units are then an older list, or none.
	Problem error
	// NotAsked is set when WeChat was not asked: the console's records say
	// the traffic master is not open, and no list is stored.
	NotAsked bool
	// Refusal says why the account has no ad units at all ("" when it may).
	Refusal string
	// Templates are the provider's own templates for the create form.
	Templates    []wechat.CustomTemplate
	TemplatesErr error
	Form         AdUnitForm
	Errors       FieldErrors
}

// AdUnitForm holds the create form's values as typed.
type AdUnitForm struct {
	Name, Slot, VideoMin, VideoMax, TmplMode, TmplType, TmplID string
}

// NewAdUnitForm is the create form as first shown.
func NewAdUnitForm() AdUnitForm {
	return AdUnitForm{Slot: wechat.SlotBanner, VideoMin: strconv.Itoa(wechat.RewardVideoMinDuration), VideoMax: "30", TmplMode: "type"}
}

// AdUnitCodeVM is one unit's code snippet.
type AdUnitCodeVM struct {
	Base
	Account  *traffic.Account
	AdUnitID string
	Code     string
	Problem  error
}

// TemplatesVM is the provider's own templates and the units of one Mini
// Program that use each.
type TemplatesVM struct {
	Base
	Account   *traffic.Account
	Templates []wechat.CustomTemplate
	FetchedAt time.Time
	Problem   error
	NotAsked  bool
	Refusal   string
}

// AdUnitConfirmVM asks, without JavaScript, before switching a unit off.
type AdUnitConfirmVM struct {
	Base
	Account  *traffic.Account
	AdUnitID string
	Name     string
}

// AdUnitResultVM is the outcome of one ad-unit write.
type AdUnitResultVM struct {
	Base
	Attempt *traffic.Attempt
	// NewID is the unit WeChat created ("" otherwise).
	NewID string
}

// CreatableSlots are the slots the create form offers.
func CreatableSlots() []string { return ams.CreatableSlots }

// RewardVideoMaxDurations are the longest durations a reward video may have.
func RewardVideoMaxDurations() []int { return wechat.RewardVideoMaxDurations }

func adUnitsURL(a *traffic.Account) string { return "/apps/" + a.AppID + "/adunits" }

func adUnitURL(a *traffic.Account, id, what string) string {
	return "/apps/" + a.AppID + "/adunits/" + id + "/" + what
}

// unitSizes writes a unit's sizes as 320×100, several joined.
func unitSizes(u wechat.AdUnit) string {
	var out []string
	for _, s := range u.Sizes {
		if s.Width > 0 || s.Height > 0 {
			out = append(out, fmt.Sprintf("%d×%d", int(s.Width), int(s.Height)))
		}
	}
	if len(out) == 0 {
		return "—"
	}
	return strings.Join(out, ", ")
}

// unitDetail says more about a unit's kind: a reward video's durations, a
// template's type.
func (b Base) unitDetail(u wechat.AdUnit) string {
	switch u.AdSlot {
	case wechat.SlotRewardVideo:
		if u.VideoDurationMax > 0 {
			return b.T("%d–%d s", int(u.VideoDurationMin), int(u.VideoDurationMax))
		}
	case wechat.SlotTemplate:
		if u.Type > 0 {
			return b.T("template type %d", int(u.Type))
		}
	}
	return ""
}

func unitStatusWords(u wechat.AdUnit) (string, string) {
	if u.On() {
		return "On", "badge ok"
	}
	return "Off", "badge info"
}

// onValue is a unit's status as the forms send it.
func onValue(u wechat.AdUnit) string {
	if u.On() {
		return "1"
	}
	return "0"
}

// notOpenCodes are WeChat's answers for a traffic master that is not open.
var notOpenCodes = map[int]bool{1807: true, 2009: true}

// WeChatProblem says in plain words, in the viewer's language, why WeChat
// gave no list: a headline, and what to do.
func (b Base) WeChatProblem(err error) (headline, detail string) {
	var we *wechat.Error
	var te *wechat.TransportError
	switch {
	case errors.As(err, &we) && notOpenCodes[we.Code]:
		return b.T("WeChat says the traffic master of this Mini Program is not open (code %d).", we.Code),
			b.T("It has no ad units until it is opened: open the traffic master above, then refresh.")
	case errors.As(err, &we):
		info := wechat.LookupCode(we.Code)
		return b.T("WeChat refused to give the list (code %d): %s.", we.Code, strings.TrimSuffix(info.MeaningIn(string(b.Lang)), ".")),
			info.ActionIn(string(b.Lang))
	case errors.As(err, &te):
		return b.T("WeChat did not answer in time."), b.T("Refresh in a moment.")
	}
	return b.T("The list could not be read from WeChat."), b.T("Refresh in a moment; if it keeps failing, look at the platform's status.")
}

// problemCode is WeChat's code in err, for the page's data attribute ("" when none).
func problemCode(err error) string {
	var we *wechat.Error
	if errors.As(err, &we) {
		return strconv.Itoa(we.Code)
	}
	return ""
}

func boundUnits(t wechat.CustomTemplate) int {
	return max(int(t.BindTotal), len(t.BindList))
}
