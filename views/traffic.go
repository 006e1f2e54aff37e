package views

import (
	"net/url"
	"strconv"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// AppsVM is one page of the Mini Programs list.
type AppsVM struct {
	Base
	Accounts []*traffic.Account
	Q        string
	State    string
	Status   string
	Sort     string
	Counts   map[traffic.State]int
	Total    int
	Next     string
	// IsFirst is false when the page was reached with a cursor.
	IsFirst bool
	CanAct  bool
}

// ResultVM is the outcome of one attempt, swapped into a row by htmx.
type ResultVM struct {
	Base
	Attempt *core.Attempt
	// Account is the account after the attempt, for the refreshed state badge.
	Account *traffic.Account
}

// AppDetailVM is one Mini Program with its attempt history.
type AppDetailVM struct {
	Base
	Account  *traffic.Account
	Attempts []*core.Attempt
	Next     int64
	IsFirst  bool
	CanAct   bool
}

// AuditVM is one page of the audit history.
type AuditVM struct {
	Base
	Attempts []*core.Attempt
	Staff    []core.Staff
	Filter   AuditFilter
	Next     int64
	IsFirst  bool
	FormErr  string
}

// AuditFilter holds the audit page's filter form values, as typed.
type AuditFilter struct {
	AppID, Staff, Action, Outcome, Code, From, To string
}

// Query returns the filter as a query string (without the cursor).
func (f AuditFilter) Query() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"appid": f.AppID, "staff": f.Staff, "action": f.Action, "outcome": f.Outcome, "code": f.Code, "from": f.From, "to": f.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// AuditDetailVM is one audit entry.
type AuditDetailVM struct {
	Base
	Attempt *core.Attempt
}

// Outcomes lists every outcome for the audit filter.
var Outcomes = []core.Outcome{core.OutcomeSuccess, core.OutcomeAlreadyDone, core.OutcomeRetryable, core.OutcomeRateLimited,
	core.OutcomeNeedsMerchant, core.OutcomeNotYetEligible, core.OutcomeProviderConfig, core.OutcomeToken, core.OutcomeOurBug,
	core.OutcomeFailed, core.OutcomeUnknown, core.OutcomeInProgress, core.OutcomeNotAllowed, core.OutcomeInterrupted}

// StateLabel is the English label of a state.
func StateLabel(s traffic.State) string {
	switch s {
	case traffic.StateNever:
		return "Never tried"
	case traffic.StateEligible:
		return "Eligible"
	case traffic.StateNotEligible:
		return "Not eligible"
	case traffic.StateOpen:
		return "Open"
	case traffic.StateNeedsMerchant:
		return "Needs merchant action"
	case traffic.StateBelowThreshold:
		return "Below threshold"
	case traffic.StateFailed:
		return "Failed"
	}
	return string(s)
}

func stateClass(s traffic.State) string {
	switch s {
	case traffic.StateOpen, traffic.StateEligible:
		return "badge ok"
	case traffic.StateNeedsMerchant, traffic.StateBelowThreshold, traffic.StateNotEligible:
		return "badge warn"
	case traffic.StateFailed:
		return "badge err"
	}
	return "badge info"
}

// OutcomeLabel is the short English label of an outcome.
func OutcomeLabel(o core.Outcome) string {
	switch o {
	case core.OutcomeSuccess:
		return "Success"
	case core.OutcomeAlreadyDone:
		return "Already open"
	case core.OutcomeRetryable:
		return "Retry later"
	case core.OutcomeRateLimited:
		return "Too fast"
	case core.OutcomeNeedsMerchant:
		return "Needs merchant"
	case core.OutcomeNotYetEligible:
		return "Below threshold"
	case core.OutcomeProviderConfig:
		return "Platform setup"
	case core.OutcomeToken:
		return "Token problem"
	case core.OutcomeOurBug:
		return "Request error"
	case core.OutcomeFailed:
		return "Failed"
	case core.OutcomeUnknown:
		return "Unknown"
	case core.OutcomeInProgress:
		return "Already in progress"
	case core.OutcomeNotAllowed:
		return "Not allowed"
	case core.OutcomeInterrupted:
		return "Interrupted"
	case "":
		return "Pending"
	}
	return string(o)
}

// FlashKind is the flash style of an outcome, the same colour as its badge.
func FlashKind(o core.Outcome) string {
	if c := outcomeClass(o); c != "err" {
		return c
	}
	return "error"
}

func outcomeClass(o core.Outcome) string {
	switch o {
	case core.OutcomeSuccess, core.OutcomeAlreadyDone:
		return "ok"
	case core.OutcomeRetryable, core.OutcomeRateLimited, core.OutcomeNeedsMerchant, core.OutcomeNotYetEligible,
		core.OutcomeUnknown, core.OutcomeInProgress, core.OutcomeInterrupted, "":
		return "warn"
	}
	return "err"
}

// Sentence explains an attempt's outcome in plain words (English, translated for display).
func Sentence(a *core.Attempt) string {
	switch a.Outcome {
	case core.OutcomeSuccess:
		if a.Action == core.ActionOpen {
			return "Traffic master opened."
		}
		if a.CheckStatus != nil && *a.CheckStatus == 1 {
			return "Eligible: WeChat says the traffic master can be opened."
		}
		return "Not eligible yet, according to WeChat. Opening may still be tried."
	case core.OutcomeAlreadyDone:
		return "The traffic master is already open."
	case core.OutcomeRetryable:
		return "WeChat had a temporary problem. Try again later."
	case core.OutcomeRateLimited:
		return "WeChat says we are going too fast. Wait a minute and try again."
	case core.OutcomeNeedsMerchant:
		return "The merchant must act in WeChat before this can succeed."
	case core.OutcomeNotYetEligible:
		return "The Mini Program has not reached WeChat's threshold yet."
	case core.OutcomeProviderConfig:
		return "The platform's WeChat setup must be fixed first."
	case core.OutcomeToken:
		return "WeChat did not accept the access token for this Mini Program."
	case core.OutcomeOurBug:
		return "WeChat rejected the request as malformed."
	case core.OutcomeFailed:
		return "The attempt failed: WeChat's answer was an error or could not be understood."
	case core.OutcomeUnknown:
		return "No answer from WeChat in time. The call may have reached WeChat: check before retrying."
	case core.OutcomeInProgress:
		return "Another attempt for this Mini Program is already in progress."
	case core.OutcomeNotAllowed:
		return "Not allowed."
	case core.OutcomeInterrupted:
		return "The console stopped during the call; the call may have reached WeChat."
	}
	return "In progress…"
}

// Remedy returns the catalog's advice for the attempt's code, in the viewer's language.
func (b Base) Remedy(a *core.Attempt) string {
	if a.Code == nil || (*a.Code == 0 && a.Outcome == core.OutcomeSuccess) {
		switch a.Outcome {
		case core.OutcomeUnknown:
			return b.T("Look at the audit entry and the Mini Program's state in WeChat before trying again.")
		case core.OutcomeFailed:
			return b.T("Retry later; if it keeps failing, send the raw reply to the developers.")
		case core.OutcomeToken:
			return b.T("Sync the platform's authorizers, then retry.")
		}
		return ""
	}
	return wechat.LookupCode(*a.Code).ActionIn(string(b.Lang))
}

// Meaning returns the catalog's meaning of the attempt's code.
func (b Base) Meaning(a *core.Attempt) string {
	if a.Code == nil {
		return ""
	}
	return wechat.LookupCode(*a.Code).MeaningIn(string(b.Lang))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func codeText(c *int) string {
	if c == nil {
		return "—"
	}
	return strconv.Itoa(*c)
}

func accountStatusLabel(a *traffic.Account) (string, string) {
	switch {
	case a.Revoked():
		return "Revoked", "badge err"
	case !a.IsMiniProgram:
		return "Official Account", "badge info"
	}
	switch a.AccountStatus {
	case 1:
		return "Normal", "badge ok"
	case 14:
		return "Deregistered", "badge err"
	case 16:
		return "Banned", "badge err"
	case 18:
		return "Warned", "badge warn"
	case 19:
		return "Frozen", "badge err"
	}
	return "Unknown status", "badge warn"
}

// avatarURL shows WeChat's picture over https from WeChat's own hosts, and
// the placeholder for anything else (the CSP would block it anyway).
func avatarURL(a *traffic.Account) string {
	if u, ok := wechat.ImageURL(a.HeadImg); ok {
		return u
	}
	return Asset("img/avatar.svg")
}

func displayName(b Base, a *traffic.Account) string {
	if a.NickName != "" {
		return a.NickName
	}
	return b.T("(no name)")
}

// appsURL builds a list URL from the current filter with one change.
func (vm AppsVM) url(change ...string) string {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		} else {
			v.Del(k)
		}
	}
	set("q", vm.Q)
	set("state", vm.State)
	set("status", vm.Status)
	set("sort", vm.Sort)
	for i := 0; i+1 < len(change); i += 2 {
		set(change[i], change[i+1])
	}
	if len(v) == 0 {
		return "/"
	}
	return "/?" + v.Encode()
}

func chipClass(on bool) string {
	if on {
		return "on"
	}
	return ""
}

func actionLabel(a core.Action) string {
	if a == core.ActionOpen {
		return "Open traffic master"
	}
	return "Check eligibility"
}

func outcomeOrStatus(a *core.Attempt) string {
	if a.Status == core.AttemptPending {
		return "Pending"
	}
	return OutcomeLabel(a.Outcome)
}

func auditURL(f AuditFilter, before int64) string {
	v := f.Query()
	if before > 0 {
		v.Set("before", itoa(before))
	}
	if len(v) == 0 {
		return "/audit"
	}
	return "/audit?" + v.Encode()
}

func csvURL(f AuditFilter) string {
	v := f.Query()
	if len(v) == 0 {
		return "/audit.csv"
	}
	return "/audit.csv?" + v.Encode()
}
