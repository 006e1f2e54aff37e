package views

import (
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// The words of outcomes and states come from one table, traffic.Outcomes and
// traffic.Groups: a state that is the consequence of an outcome group carries
// that group's label and colour, so the list, the audit, the runs and the
// badges say the same thing for the same next step.

// stateGroups maps the states that follow an outcome group to it.
var stateGroups = map[traffic.State]traffic.Group{
	traffic.StateRetryLater:     traffic.GroupRetry,
	traffic.StateNeedsMerchant:  traffic.GroupMerchant,
	traffic.StatePlatformSetup:  traffic.GroupPlatform,
	traffic.StateBelowThreshold: traffic.GroupThreshold,
	traffic.StateOurBug:         traffic.GroupOurBug,
	traffic.StateUnknown:        traffic.GroupUnknown,
}

// StateGroup returns the outcome group a state stands for, if any.
func StateGroup(s traffic.State) (traffic.Group, bool) {
	g, ok := stateGroups[s]
	return g, ok
}

// StateLabel is the English label of a state.
func StateLabel(s traffic.State) string {
	if g, ok := stateGroups[s]; ok {
		return traffic.DescribeGroup(g).Label
	}
	switch s {
	case traffic.StateNever:
		return "Never tried"
	case traffic.StateEligible:
		return "Eligible"
	case traffic.StateNotEligible:
		return "Not eligible"
	case traffic.StateOpen:
		return "Open"
	}
	return string(s)
}

// StateNextStep says what staff do about an account in state s ("" when nothing is needed).
func StateNextStep(s traffic.State) string {
	if g, ok := stateGroups[s]; ok {
		return traffic.DescribeGroup(g).NextStep
	}
	switch s {
	case traffic.StateNever:
		return "Check eligibility first."
	case traffic.StateEligible:
		return "The traffic master can be opened."
	case traffic.StateNotEligible:
		return "WeChat says it cannot be opened yet; opening may still be tried."
	}
	return ""
}

func stateClass(s traffic.State) string {
	if g, ok := stateGroups[s]; ok {
		return "badge " + string(traffic.DescribeGroup(g).Tone)
	}
	switch s {
	case traffic.StateOpen, traffic.StateEligible:
		return "badge ok"
	case traffic.StateNotEligible:
		return "badge warn"
	}
	return "badge info"
}

// OutcomeLabel is the short English label of an exact outcome.
func OutcomeLabel(o traffic.Outcome) string { return traffic.DescribeOutcome(o).Label }

// GroupLabel is the English label of an outcome's group: the word on its badge.
func GroupLabel(o traffic.Outcome) string { return traffic.DescribeGroup(traffic.GroupOf(o)).Label }

// FlashKind is the flash style of an outcome, the same colour as its badge.
func FlashKind(o traffic.Outcome) string {
	if c := outcomeClass(o); c != "err" {
		return c
	}
	return "error"
}

func outcomeClass(o traffic.Outcome) string {
	return string(traffic.DescribeGroup(traffic.GroupOf(o)).Tone)
}

// attemptOutcome is the outcome an attempt shows: a pending row has none yet.
func attemptOutcome(a *traffic.Attempt) traffic.Outcome {
	if a.Status == traffic.AttemptPending {
		return ""
	}
	return a.Outcome
}

// Sentence explains an attempt's outcome in plain words (English, translated for display).
func Sentence(a *traffic.Attempt) string {
	if a.Status != traffic.AttemptPending && a.Outcome == traffic.OutcomeSuccess {
		if a.Action == traffic.ActionOpen {
			return "Traffic master opened."
		}
		if a.CheckStatus != nil && *a.CheckStatus == 1 {
			return "Eligible: WeChat says the traffic master can be opened."
		}
		return "Not eligible yet, according to WeChat. Opening may still be tried."
	}
	return traffic.DescribeOutcome(attemptOutcome(a)).Sentence
}

// outcomeOrStatus is the exact outcome label of an attempt (a pending one has none yet).
func outcomeOrStatus(a *traffic.Attempt) string { return OutcomeLabel(attemptOutcome(a)) }

// OutcomePhrase is an outcome in words, in the viewer's language: its group
// (what to do next) and, when it says more, the exact outcome, as a badge
// and the text beside it read; for exports and messages.
func (b Base) OutcomePhrase(o traffic.Outcome) string {
	info := traffic.DescribeOutcome(o)
	g := traffic.DescribeGroup(info.Group).Label
	if info.Label == g {
		return b.T(g)
	}
	return b.T(g) + " · " + b.T(info.Label)
}
