package views

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/traffic"
	"github.com/trafficmaster/trafficmaster/internal/wechat"
)

// AccountsVM is one page of the Mini Programs list.
type AccountsVM struct {
	Base
	Accounts []*traffic.Account
	Q        string
	State    string
	Status   string
	Sort     string
	Counts   map[traffic.State]int
	Total    int
	Next     string
	Prev     string
	// ShowFirst offers "First page" where it is not simply the previous page.
	ShowFirst bool
	// Start is the position of the first row shown, from 1, among Matching.
	Start    int
	Matching int
	// Runnable counts the matches a bulk run over the filter would take.
	Runnable int
	CanAct   bool
	// Capped says the search matched more accounts than it counts (CountCap):
	// every count is a lower bound, shown with a plus.
	Capped   bool
	CountCap int
}

// Count is n as the list shows it: a lower bound with a plus when the
// search's counting stopped at its cap.
func (vm AccountsVM) Count(n int) string {
	if vm.Capped {
		return vm.T("%s+", vm.Num(min(n, vm.CountCap)))
	}
	return vm.Num(n)
}

// chipCount is n on a state chip (digits only, or a lower bound with a plus).
func (vm AccountsVM) chipCount(n int) string {
	if vm.Capped {
		return itoa(int64(min(n, vm.CountCap))) + "+"
	}
	return itoa(int64(n))
}

// ResultVM is the outcome of one attempt, swapped into a row by htmx.
type ResultVM struct {
	Base
	Attempt *traffic.Attempt
	// Account is the account after the attempt, for the refreshed state badge.
	Account *traffic.Account
	// Counts, when the action came from the list, are its refreshed state chips.
	Counts *AccountsVM
}

// OpenRefusal says why opening is not offered for an account WeChat would
// refuse it for ("" when it is offered).
func OpenRefusal(a *traffic.Account) string {
	switch a.AccountStatus {
	case 14:
		return "Not offered: the account is deregistered."
	case 16:
		return "Not offered: the account is banned."
	case 19:
		return "Not offered: the account is frozen."
	}
	return ""
}

// ConfirmOpenVM asks, without JavaScript, to confirm opening one account's traffic master.
type ConfirmOpenVM struct {
	Base
	Account *traffic.Account
}

// AuditVM is one page of the audit history.
type AuditVM struct {
	Base
	Attempts []*traffic.Attempt
	Staff    []core.Staff
	Filter   AuditFilter
	Next     int64
	IsFirst  bool
	// FieldErrs holds a translated message per filter field that could not be used.
	FieldErrs map[string]string
}

// AuditFilter holds the audit page's filter form values, as typed.
type AuditFilter struct {
	AppID, Staff, Action, Group, Outcome, Code, Run, From, To string
}

// Active reports whether any filter is set.
func (f AuditFilter) Active() bool { return len(f.Query()) > 0 }

// Query returns the filter as a query string (without the cursor).
func (f AuditFilter) Query() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"appid": f.AppID, "staff": f.Staff, "action": f.Action, "group": f.Group, "outcome": f.Outcome, "code": f.Code, "run": f.Run, "from": f.From, "to": f.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// AuditDetailVM is one audit entry.
type AuditDetailVM struct {
	Base
	Attempt *traffic.Attempt
}

// Remedy says what to do about the attempt, in the viewer's language: the
// catalog's advice for WeChat's code, or the outcome's next step.
func (b Base) Remedy(a *traffic.Attempt) string {
	e := traffic.Explain(a)
	if e.CodeAdvice {
		return e.Code.ActionIn(string(b.Lang))
	}
	if e.NextStep == "" {
		return ""
	}
	return b.T(e.NextStep)
}

// Meaning returns the catalog's meaning of the attempt's code.
func (b Base) Meaning(a *traffic.Attempt) string {
	if e := traffic.Explain(a); e.Code != nil {
		return e.Code.MeaningIn(string(b.Lang))
	}
	return ""
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// plainSuccess is an attempt WeChat accepted with code 0: its result needs no code.
func plainSuccess(a *traffic.Attempt) bool {
	return a.Outcome == traffic.OutcomeSuccess && a.Code != nil && *a.Code == 0
}

func codeText(c *int) string {
	if c == nil {
		return "—"
	}
	return strconv.Itoa(*c)
}

func accountStatusLabel(a *traffic.Account) (string, string) {
	label, tone := accountStatus(a)
	return label, "badge " + string(tone)
}

// accountStatus is the label of an account's WeChat status and the tone of its badge.
func accountStatus(a *traffic.Account) (string, traffic.Tone) {
	switch {
	case a.Revoked():
		return "Revoked", traffic.ToneErr
	case !a.IsMiniProgram:
		return "Official Account", traffic.ToneInfo
	}
	switch a.AccountStatus {
	case 1:
		return "Normal", traffic.ToneOK
	case 14:
		return "Deregistered", traffic.ToneErr
	case 16:
		return "Banned", traffic.ToneErr
	case 18:
		return "Warned", traffic.ToneWarn
	case 19:
		return "Frozen", traffic.ToneErr
	}
	return "Unknown status", traffic.ToneWarn
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

// url builds a list URL from the current filter with changes (key, value,
// key, value…; an empty value drops the key), as url.Values.Encode writes
// it (keys in order), without building the map: the list builds a dozen
// of them a page.
func (vm AccountsVM) url(change ...string) string {
	// In the order Encode sorts them.
	q := [...]struct{ k, v string }{{"after", ""}, {"before", ""}, {"pos", ""}, {"q", vm.Q}, {"sort", vm.Sort}, {"state", vm.State}, {"status", vm.Status}}
	for i := 0; i+1 < len(change); i += 2 {
		known := false
		for j := range q {
			if q[j].k == change[i] {
				q[j].v, known = change[i+1], true
			}
		}
		if !known {
			panic("views: a list URL has no key " + change[i])
		}
	}
	var sb strings.Builder
	sb.Grow(64)
	for _, kv := range q {
		if kv.v == "" {
			continue
		}
		if sb.Len() == 0 {
			sb.WriteString("/?")
		} else {
			sb.WriteByte('&')
		}
		sb.WriteString(kv.k)
		sb.WriteByte('=')
		sb.WriteString(url.QueryEscape(kv.v))
	}
	if sb.Len() == 0 {
		return "/"
	}
	return sb.String()
}

func actionLabel(a traffic.Action) string { return a.Label() }

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
