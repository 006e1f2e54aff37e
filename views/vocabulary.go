package views

import (
	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// The words of outcomes, groups and states come from one table,
// internal/traffic/outcomes.go; these helpers only pick a column of it for
// the templates.

// StateGroup returns the outcome group a state stands for, if any.
func StateGroup(s traffic.State) (traffic.Group, bool) {
	g := traffic.DescribeState(s).Group
	return g, g != ""
}

// StateLabel is the English label of a state.
func StateLabel(s traffic.State) string { return traffic.DescribeState(s).Label }

// StateNextStep says what staff do about an account in state s ("" when nothing is needed).
func StateNextStep(s traffic.State) string { return traffic.DescribeState(s).Hint }

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

// Sentence explains an attempt's outcome in plain words (English, translated for display).
func Sentence(a *traffic.Attempt) string { return traffic.Explain(a).Sentence }

// outcomeOrStatus is the exact outcome label of an attempt (a pending one has none yet).
func outcomeOrStatus(a *traffic.Attempt) string { return OutcomeLabel(attemptOutcome(a)) }

// attemptOutcome is the outcome an attempt shows: a pending row has none yet.
func attemptOutcome(a *traffic.Attempt) traffic.Outcome { return traffic.ShownOutcome(a) }

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
