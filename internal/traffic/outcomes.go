package traffic

import "github.com/trafficmaster/trafficmaster/internal/wechat"

// This file is the console's one vocabulary table: for every outcome, group
// and state, its label, sentence, badge tone and next step. Every page, the
// CSV, the runs and the flash messages read it; views only render it.

// OutcomeNotSent means nothing reached WeChat (connection refused, no token
// could be had); the call is simply made again later.
const OutcomeNotSent Outcome = "not_sent"

// Group is what staff do next about an outcome. Every page, filter, badge and
// export speaks of outcomes through their group first, so that one word means
// one next step everywhere.
type Group string

// The groups, in the order pages list them.
const (
	GroupDone      Group = "done"       // nothing more to do
	GroupRetry     Group = "retry"      // temporary: tried again automatically
	GroupMerchant  Group = "merchant"   // the merchant must act in WeChat
	GroupPlatform  Group = "platform"   // the platform's own WeChat setup must be fixed
	GroupThreshold Group = "threshold"  // the Mini Program is below WeChat's threshold (2013)
	GroupOurBug    Group = "our_bug"    // WeChat refused our request or answered nonsense
	GroupUnknown   Group = "unknown"    // the call may have reached WeChat; nobody knows
	GroupNotCalled Group = "not_called" // refused before WeChat was called
	GroupPending   Group = "pending"    // the call is in flight
)

// Tone is the colour family of a badge: ok, warn, err or info.
type Tone string

// Badge tones.
const (
	ToneOK   Tone = "ok"
	ToneWarn Tone = "warn"
	ToneErr  Tone = "err"
	ToneInfo Tone = "info"
)

// GroupInfo describes a group to staff. The texts are English keys, translated for display.
type GroupInfo struct {
	Group Group
	// Label is the short name, used on badges, chips and filters.
	Label string
	// NextStep says what staff (or the console) do about it.
	NextStep string
	Tone     Tone
}

// OutcomeInfo is one row of the outcome table: everything any view says about an outcome.
type OutcomeInfo struct {
	Outcome Outcome
	Group   Group
	// Label is the exact outcome's short name (the group's label is the badge).
	Label string
	// Sentence explains the outcome in plain words.
	Sentence string
	// Codes are typical WeChat codes of the outcome, for the reader's orientation.
	Codes string
	// Class is the class of WeChat result codes this outcome stands for
	// ("" for outcomes no result code produces): a code's outcome is the row
	// of its class, so a code is classified once, by the catalog.
	Class wechat.Class
	// NextStep is what to do when WeChat gave no code to advise on ("" when
	// there is nothing to add); with a code, the catalog's advice for it.
	NextStep string
}

// Groups lists every group in display order.
var Groups = []GroupInfo{
	{GroupDone, "Done", "Nothing more to do.", ToneOK},
	{GroupRetry, "Retry later (automatic)", "Temporary: a bulk run tries again by itself a few times; otherwise simply try again later.", ToneWarn},
	{GroupMerchant, "Needs the merchant", "Ask the merchant to act in WeChat (sign the agreement, authorize again), then try again.", ToneWarn},
	{GroupPlatform, "Needs the platform's setup fixed", "An administrator must fix the platform's WeChat setup (permissions, IP allow-list, monetization account, tokens); it affects every account.", ToneErr},
	{GroupThreshold, "Below threshold", "Wait until the Mini Program reaches 1,000 unique visitors; the daily schedule tries again.", ToneWarn},
	{GroupOurBug, "Our bug", "The console sent something WeChat refused, or WeChat's answer made no sense: send the audit entry to the developers.", ToneErr},
	{GroupUnknown, "Outcome unknown", "The call may have reached WeChat: check eligibility before acting again.", ToneWarn},
	{GroupNotCalled, "Not called", "WeChat was not called; the reason is in the message.", ToneInfo},
	{GroupPending, "In progress", "The call is under way.", ToneInfo},
}

// Outcomes is the outcome table, in display order.
var Outcomes = []OutcomeInfo{
	{OutcomeSuccess, GroupDone, "Success", "WeChat accepted the request.", "0", wechat.ClassSuccess, ""},
	{OutcomeAlreadyDone, GroupDone, "Already open", "The traffic master is already open.", "2021", wechat.ClassAlreadyDone, ""},
	{OutcomeRetryable, GroupRetry, "WeChat busy", "WeChat had a temporary problem.", "-202, -1", wechat.ClassRetryable, ""},
	{OutcomeRateLimited, GroupRetry, "Too fast", "WeChat says we are going too fast or the daily quota is used up.", "1737, 45009", wechat.ClassRateLimited, ""},
	{OutcomeNotSent, GroupRetry, "Not sent", "Nothing reached WeChat (no connection or no access token).", "", "", ""},
	{OutcomeNeedsMerchant, GroupMerchant, "Needs merchant", "The merchant must act in WeChat before this can succeed.", "1735, 2009, 1807, 61003", wechat.ClassNeedsMerchant, ""},
	{OutcomeNotYetEligible, GroupThreshold, "Below threshold", "The Mini Program has not reached WeChat's threshold yet.", "2013", wechat.ClassNotYetEligible, ""},
	{OutcomeProviderConfig, GroupPlatform, "Platform setup", "The platform's WeChat setup must be fixed first.", "48001, 2056, 61004, 61007", wechat.ClassProviderConfig, ""},
	{OutcomeToken, GroupPlatform, "Token problem", "WeChat did not accept the access token for this Mini Program.", "40001, 42001, 61023", wechat.ClassToken, "Sync the platform's authorizers, then retry."},
	{OutcomeOurBug, GroupOurBug, "Request error", "WeChat rejected the request as malformed.", "1700, 1701, 1736", wechat.ClassOurBug, ""},
	{OutcomeFailed, GroupOurBug, "Unexplained error", "WeChat's answer was an unknown code, an HTTP error or could not be understood.", "", wechat.ClassUnknown, "Retry later; if it keeps failing, send the raw reply to the developers."},
	{OutcomeUnknown, GroupUnknown, "No answer", "No answer from WeChat in time. The call may have reached WeChat: check before retrying.", "", "", "Look at the audit entry and the Mini Program's state in WeChat before trying again."},
	{OutcomeInterrupted, GroupUnknown, "Interrupted", "The console stopped during the call; the call may have reached WeChat.", "", "", ""},
	{OutcomeInProgress, GroupNotCalled, "Already in progress", "Another attempt for this Mini Program is already in progress.", "", "", ""},
	{OutcomeNotAllowed, GroupNotCalled, "Not allowed", "Not allowed.", "", "", ""},
	{"", GroupPending, "Pending", "In progress…", "", "", ""},
}

// OutcomeOfCode classifies a WeChat result code: the row of the code's
// catalog class; a code the catalog does not know is a failure.
func OutcomeOfCode(code int) Outcome {
	class := wechat.LookupCode(code).Class
	for _, i := range Outcomes {
		if i.Class == class {
			return i.Outcome
		}
	}
	return OutcomeFailed
}

// StateInfo is one row of the state table: what the list, the account page
// and the run form say about an account's traffic-master state.
type StateInfo struct {
	State State
	// Group is the outcome group the state is the consequence of ("" for the
	// states of checks and opens that went through). Such a state carries the
	// group's label, tone and next step, so the list's chip and the audit's
	// badge say the same thing for the same next step.
	Group Group
	// Label names the state on chips and badges.
	Label string
	// Sentence says on the account page where its traffic master stands.
	Sentence string
	// Hint is the short next step shown beside the state on the list.
	Hint string
	// NextStep is the account page's advice; "" means the last attempt's.
	NextStep string
	Tone     Tone
}

// StateTable lists every state in display order (the order of States).
var StateTable = []StateInfo{
	{StateNever, "", "Never tried", "Nobody has checked or opened this Mini Program's traffic master from this console yet.",
		"Check eligibility first.", "Check eligibility, then open the traffic master.", ToneInfo},
	{StateEligible, "", "Eligible", "At the last check WeChat said the traffic master can be opened.",
		"The traffic master can be opened.", "Open the traffic master.", ToneOK},
	{StateNotEligible, "", "Not eligible", "At the last check WeChat said the traffic master cannot be opened yet.",
		"WeChat says it cannot be opened yet; opening may still be tried.", "Opening may still be tried: WeChat then says why it refuses.", ToneWarn},
	{StateOpen, "", "Open", "The traffic master is open.", "", "Nothing: the traffic master is open.", ToneOK},
	{StateUnknown, GroupUnknown, "", "The last call may have reached WeChat, but its answer never came: nobody knows whether the traffic master is open.",
		"", "The call may have reached WeChat: check eligibility before acting again.", ""},
	{StateRetryLater, GroupRetry, "", "The last attempt met a temporary error at WeChat; the traffic master is not open yet.", "", "", ""},
	{StateNeedsMerchant, GroupMerchant, "", "WeChat is waiting for the merchant: the traffic master cannot be opened until they act.", "", "", ""},
	{StatePlatformSetup, GroupPlatform, "", "The last attempt failed because of the platform's own WeChat setup; the traffic master is not open.", "", "", ""},
	{StateBelowThreshold, GroupThreshold, "", "The Mini Program has not reached WeChat's threshold of 1,000 unique visitors yet.",
		"", "Nothing for now: the daily job tries again until the Mini Program qualifies.", ""},
	{StateOurBug, GroupOurBug, "", "WeChat refused the console's request or answered nonsense; the traffic master is not open.", "", "", ""},
}

// DescribeState returns the table row of s, with a group's label, hint and
// tone filled in for the states that follow a group.
func DescribeState(s State) StateInfo {
	for _, i := range StateTable {
		if i.State != s {
			continue
		}
		if i.Group != "" {
			g := DescribeGroup(i.Group)
			i.Label, i.Hint, i.Tone = g.Label, g.NextStep, g.Tone
		}
		return i
	}
	return StateInfo{State: s, Label: string(s), Sentence: string(s), Tone: ToneInfo}
}

// Explanation is everything the pages, flashes and the CSV say about one attempt.
type Explanation struct {
	OutcomeInfo
	// GroupInfo is the outcome's group: the badge.
	GroupInfo GroupInfo
	// Sentence explains this attempt's outcome in plain words (a success
	// says what it was a success of).
	Sentence string
	// Code is the catalog's entry for WeChat's code, when it answered one.
	Code *wechat.CodeInfo
	// CodeAdvice reports whether the next step is the catalog's advice for
	// Code rather than the table's NextStep.
	CodeAdvice bool
}

// ShownOutcome is the outcome an attempt shows: a pending row has none yet.
func ShownOutcome(a *Attempt) Outcome {
	if a.Status == AttemptPending {
		return ""
	}
	return a.Outcome
}

// Explain looks the attempt up in the table, and its code in the catalog, once.
func Explain(a *Attempt) Explanation {
	o := ShownOutcome(a)
	e := Explanation{OutcomeInfo: DescribeOutcome(o)}
	e.GroupInfo = DescribeGroup(e.Group)
	e.Sentence = e.OutcomeInfo.Sentence
	if o == OutcomeSuccess {
		switch {
		case a.Action != ActionCheck:
			if w := actionWords[a.Action][1]; w != "" {
				e.Sentence = w
			}
		case a.CheckStatus != nil && *a.CheckStatus == 1:
			e.Sentence = "Eligible: WeChat says the traffic master can be opened."
		default:
			e.Sentence = "Not eligible yet, according to WeChat. Opening may still be tried."
		}
	}
	if a.Code != nil {
		info := wechat.LookupCode(*a.Code)
		e.Code = &info
		e.CodeAdvice = *a.Code != 0 || a.Outcome != OutcomeSuccess
	}
	return e
}

// DescribeOutcome returns the table row of o; an outcome the table does not
// know (written by a newer version) is an unexplained error.
func DescribeOutcome(o Outcome) OutcomeInfo {
	for _, i := range Outcomes {
		if i.Outcome == o {
			return i
		}
	}
	return OutcomeInfo{Outcome: o, Group: GroupOurBug, Label: string(o), Sentence: "The outcome is not one this console knows."}
}

// DescribeGroup returns the description of g.
func DescribeGroup(g Group) GroupInfo {
	for _, i := range Groups {
		if i.Group == g {
			return i
		}
	}
	return GroupInfo{Group: g, Label: string(g), Tone: ToneInfo}
}

// GroupOf returns the group of an outcome.
func GroupOf(o Outcome) Group { return DescribeOutcome(o).Group }

// OutcomesIn lists the outcomes of group g.
func OutcomesIn(g Group) []Outcome {
	var out []Outcome
	for _, i := range Outcomes {
		if i.Group == g {
			out = append(out, i.Outcome)
		}
	}
	return out
}

// ParseGroup returns the group named s, if there is one.
func ParseGroup(s string) (Group, bool) {
	for _, i := range Groups {
		if string(i.Group) == s {
			return i.Group, true
		}
	}
	return "", false
}
