package views

import (
	"strconv"

	"github.com/trafficmaster/trafficmaster/internal/traffic"
)

// outcomeView is an outcome as its badge shows it: its group's label, and
// the exact outcome's beside it when that says more ("" otherwise).
type outcomeView struct {
	outcome traffic.Outcome
	group   traffic.Group
	tone    traffic.Tone
	label   string
	exact   string
}

func (o *outcomeView) set(b Base, out traffic.Outcome) {
	info := traffic.DescribeOutcome(out)
	g := traffic.DescribeGroup(info.Group)
	o.outcome, o.group, o.tone, o.label = out, info.Group, g.Tone, b.T(g.Label)
	if info.Label != g.Label {
		o.exact = b.T(info.Label)
	}
}

// attemptView is one audit entry as its row prints it, every string computed once.
type attemptView struct {
	*traffic.Attempt
	rowID, path, id, startedISO, started string
	appPath, name                        string
	action                               string
	// by is the staff member's name, or the run's; system says neither started it.
	by      string
	system  bool
	outcome outcomeView
	code    string
	message string
	// latency is in milliseconds with its unit, for completed attempts.
	latency string
}

// attemptViews computes the rows of a page of audit entries.
func attemptViews(b Base, list []*traffic.Attempt) []attemptView {
	noName, system, run := b.T("(no name)"), b.T("System"), newMessage(b, "Run #%d")
	views := make([]attemptView, len(list))
	z := newArena(160*len(list), 12*len(list))
	for i, a := range list {
		v := &views[i]
		v.Attempt = a
		z.int(&v.rowID, "attempt-", a.ID)
		start := z.mark()
		z.int(&v.path, "/audit/", a.ID)
		z.keep(&v.id, start+len("/audit/"))
		z.times(&v.startedISO, &v.started, b, a.StartedAt)
		z.join(&v.appPath, "/apps/", a.AppID)
		v.name = a.AccountName
		if v.name == "" {
			v.name = noName
		}
		v.action = b.T(actionLabel(a.Action))
		switch {
		case a.StaffName != "":
			v.by = a.StaffName
		case a.RunID != nil:
			z.fill(&v.by, run, strconv.FormatInt(*a.RunID, 10))
		default:
			v.by, v.system = system, true
		}
		v.outcome.set(b, attemptOutcome(a))
		if a.Code == nil {
			v.code = "—"
		} else {
			z.int(&v.code, "", int64(*a.Code))
		}
		v.message = b.T(a.Message)
		if a.Status == traffic.AttemptCompleted {
			start := z.mark()
			z.addInt(int64(a.LatencyMS))
			z.add(" ms")
			z.keep(&v.latency, start)
		}
	}
	z.done()
	return views
}
