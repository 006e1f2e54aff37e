package traffic

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
	{OutcomeSuccess, GroupDone, "Success", "WeChat accepted the request.", "0"},
	{OutcomeAlreadyDone, GroupDone, "Already open", "The traffic master is already open.", "2021"},
	{OutcomeRetryable, GroupRetry, "WeChat busy", "WeChat had a temporary problem.", "-202, -1"},
	{OutcomeRateLimited, GroupRetry, "Too fast", "WeChat says we are going too fast or the daily quota is used up.", "1737, 45009"},
	{OutcomeNotSent, GroupRetry, "Not sent", "Nothing reached WeChat (no connection or no access token).", ""},
	{OutcomeNeedsMerchant, GroupMerchant, "Needs merchant", "The merchant must act in WeChat before this can succeed.", "1735, 2009, 1807, 61003"},
	{OutcomeNotYetEligible, GroupThreshold, "Below threshold", "The Mini Program has not reached WeChat's threshold yet.", "2013"},
	{OutcomeProviderConfig, GroupPlatform, "Platform setup", "The platform's WeChat setup must be fixed first.", "48001, 2056, 61004, 61007"},
	{OutcomeToken, GroupPlatform, "Token problem", "WeChat did not accept the access token for this Mini Program.", "40001, 42001, 61023"},
	{OutcomeOurBug, GroupOurBug, "Request error", "WeChat rejected the request as malformed.", "1700, 1701, 1736"},
	{OutcomeFailed, GroupOurBug, "Unexplained error", "WeChat's answer was an unknown code, an HTTP error or could not be understood.", ""},
	{OutcomeUnknown, GroupUnknown, "No answer", "No answer from WeChat in time. The call may have reached WeChat: check before retrying.", ""},
	{OutcomeInterrupted, GroupUnknown, "Interrupted", "The console stopped during the call; the call may have reached WeChat.", ""},
	{OutcomeInProgress, GroupNotCalled, "Already in progress", "Another attempt for this Mini Program is already in progress.", ""},
	{OutcomeNotAllowed, GroupNotCalled, "Not allowed", "Not allowed.", ""},
	{"", GroupPending, "Pending", "In progress…", ""},
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
