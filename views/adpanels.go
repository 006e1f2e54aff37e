package views

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/trafficmaster/trafficmaster/internal/ams"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// PanelVM is what every ad panel of an account page shares: whose it is,
// who looks, and the result of the write just made, if any.
type PanelVM struct {
	Base
	AppID  string
	CanAct bool
	// Result is the write this response answers, nil on a plain read.
	Result *traffic.Attempt
	// Errors are the form's field errors (a refused form is shown again).
	Errors FieldErrors
	// Now is the server's clock, for what may be done yet.
	Now time.Time
}

// CoverPanelVM is the cover-ad panel: status, when it may next be
// switched, and its scenes.
type CoverPanelVM struct {
	PanelVM
	Snap ams.Snapshot[ams.Cover]
	// Known is false when WeChat has never been read successfully.
	Known bool
	// RetryAt is when the switch may be tried again; zero when it may now.
	RetryAt time.Time
	// RetryCode is the limit RetryAt comes from: 2008 (one switch an hour),
	// 2068 (an hour after opening), or 0 (WeChat's next_open_time).
	RetryCode int
}

// SwitchBlocked reports whether the switch button is disabled for now.
func (vm CoverPanelVM) SwitchBlocked() bool { return !vm.RetryAt.IsZero() && vm.RetryAt.After(vm.Now) }

// NextOpen is WeChat's next_open_time when it lies ahead.
func (vm CoverPanelVM) NextOpen() time.Time {
	if t := vm.Snap.Value.Status.NextOpenTime; t.After(vm.Now) {
		return t
	}
	return time.Time{}
}

// BlockingPanelVM is the blocking panel: advertisers per kind with their
// caps, and the blocked industries.
type BlockingPanelVM struct {
	PanelVM
	Snap  ams.Snapshot[ams.Blocking]
	Known bool
}

// RatioPanelVM is the share-ratio panel of one Mini Program.
type RatioPanelVM struct {
	PanelVM
	Snap  ams.Snapshot[ams.Ratio]
	Known bool
}

// DefaultRatioVM is the platform's default share ratio (platform page).
type DefaultRatioVM struct {
	Base
	Ratio     int
	Err       error
	FetchedAt time.Time
	// Old is the ratio before a change just made (Changed).
	Old, New int
	Changed  bool
	Errors   FieldErrors
}

// AdSettingsVM is the page of a Mini Program's cover ads, blocking and share
// ratio on their own: what the account page's panels show without JavaScript.
type AdSettingsVM struct {
	Base
	Account  *traffic.Account
	Cover    CoverPanelVM
	Blocking BlockingPanelVM
	Ratio    RatioPanelVM
}

// CoverScene is one of WeChat's scene values where cover ads may show.
type CoverScene struct {
	ID   int
	Name string // English; translated for display
}

// CoverScenes are the scenes cover ads can be limited to (WeChat's scene
// values; every one is on when the cover slot opens).
var CoverScenes = []CoverScene{
	{1001, "Discover → Mini Programs: recently used"},
	{1005, "Search results from the top of WeChat's home screen"},
	{1006, "Search results in Discover → Mini Programs"},
	{1011, "Scanning a QR code"},
	{1012, "Long-pressing an image to read its QR code"},
	{1013, "A QR code picked from the photo album"},
	{1017, "The entry to a trial version"},
	{1019, "WeChat Pay wallet"},
	{1020, "An Official Account's profile: related Mini Programs"},
	{1023, "Android home-screen icon"},
	{1024, "The Mini Program's profile page"},
	{1035, "An Official Account's custom menu"},
	{1037, "Opened from another Mini Program"},
	{1038, "Returning from another Mini Program"},
	{1089, "Pulling down the chat list: recently used"},
	{1103, "Discover → Mini Programs: My Mini Programs"},
	{1104, "Pulling down the chat list: My Mini Programs"},
}

// sceneName names a scene value, or says it is another one.
func sceneName(b Base, id int) string {
	for _, s := range CoverScenes {
		if s.ID == id {
			return b.T(s.Name)
		}
	}
	return b.T("Scene %d", id)
}

// extraScenes are scenes WeChat lists that the checklist does not name.
func extraScenes(on []int) []int {
	var out []int
	for _, id := range on {
		if !slices.ContainsFunc(CoverScenes, func(s CoverScene) bool { return s.ID == id }) {
			out = append(out, id)
		}
	}
	return out
}

// BlockKind is one kind of advertiser a Mini Program can block.
type BlockKind struct {
	Type int
	Name string // English; translated for display
	Key  string // for ids and test hooks
}

// BlockKinds lists the kinds in the order the panel shows them.
var BlockKinds = []BlockKind{
	{wechat.BlockOfficialAccount, "Official Accounts", "biz"},
	{wechat.BlockIOSApp, "iOS apps", "ios"},
	{wechat.BlockAndroidApp, "Android apps", "android"},
	{wechat.BlockMiniProgram, "Mini Programs and games", "weapp"},
}

func blockCap(kind int) int { return wechat.BlockCaps[kind] }

func blockFull(b ams.Blocking, kind int) bool { return len(b.Advertisers.Of(kind)) >= blockCap(kind) }

// Industries names WeChat's industries an advertiser can be blocked by
// (SECURITES is WeChat's spelling).
var Industries = map[string]string{
	"CHESS":                          "Chess and card games",
	"ADULT_SUPPLIES":                 "Adult products",
	"MEDICAL_HEALTH":                 "Medical and health",
	"INSURANCE":                      "Insurance",
	"SECURITES":                      "Securities",
	"LOAN":                           "Loans",
	"LIVING_SERVICES_BEAUTY":         "Local services: beauty",
	"LIVING_SERVICES_ENTERTAINMENT":  "Local services: entertainment",
	"LIVING_SERVICES_OTHERS":         "Local services: other",
	"FOOD_INDUSTRY":                  "Food industry",
	"RETAIL_AND_GENERAL_MERCHANDISE": "Retail and general merchandise",
	"FOOD_AND_DRINK":                 "Food and drink",
	"TECHNICAL_SERVICE":              "Technical services",
}

func industryName(b Base, cat string) string {
	if n, ok := Industries[cat]; ok {
		return b.T(n)
	}
	return cat
}

func industryCategories() []string { return wechat.AmsCategories }

// readError says in the viewer's language why WeChat could not be read.
func readError(b Base, err error) string {
	if code, ok := wechat.CodeOf(err); ok {
		if m := wechat.LookupCode(code).MeaningIn(string(b.Lang)); m != "" {
			return b.T("WeChat answered code %d: %s", code, m)
		}
		return b.T("WeChat answered code %d.", code)
	}
	return b.T("WeChat could not be reached.")
}

func sceneChecked(on []int, id int) bool { return slices.Contains(on, id) }

func pct(n int) string { return strconv.Itoa(n) + "%" }

func kindCount(b Base, list ams.Blocking, kind int) string {
	return b.T("%d used of %d", len(list.Advertisers.Of(kind)), blockCap(kind))
}

func itoaInt(n int) string { return strconv.Itoa(n) }

func panelURL(appID, panel string) string { return "/apps/" + appID + "/" + panel }

func settingsURL(appID, panel string) string {
	return fmt.Sprintf("/apps/%s/ad-settings?refresh=%s#%s", appID, panel, panel)
}

func coverStatusKey(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func coverConfirm(on bool) string {
	if on {
		return "Switch cover ads off? WeChat then allows no other switch for an hour."
	}
	return "Switch cover ads on? WeChat then allows no other switch for an hour."
}

// coverLimitSentence explains the limit the switch waits for.
func coverLimitSentence(code int) string {
	switch code {
	case 2008:
		return "WeChat allows cover ads to be switched once an hour (code 2008)."
	case 2068:
		return "WeChat does not switch cover ads on within an hour of opening the traffic master (code 2068)."
	}
	return "WeChat says when cover ads may next be switched."
}

func fullClass(full bool) string {
	if full {
		return "warn"
	}
	return "info"
}

func stringIn(list []string, s string) bool { return slices.Contains(list, s) }

// ratioValue is what the custom-ratio field starts with.
func ratioValue(r ams.Ratio) int {
	if r.CustomSet {
		return r.Custom
	}
	return r.InEffect
}

// ConfirmAdChangeVM asks, without JavaScript, to confirm a change.
type ConfirmAdChangeVM struct {
	Base
	Question string // translated
	Action   string
	Fields   map[string]string
	Back     string
}
